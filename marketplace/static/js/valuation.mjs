// Shows a pledge's value as the supplier types: quantity × the chosen measure's £ proxy.
// The proxy values come from the table on the page, so nothing here can drift from the server.
const measure = document.querySelector("[data-valuation-measure]");
const quantity = document.querySelector("[data-valuation-quantity]");
const output = document.querySelector("[data-valuation-output]");
const proxies = new Map(
  [...document.querySelectorAll("#proxy-values [data-measure]")].map((row) => [
    row.dataset.measure,
    { proxy: row.dataset.proxy, unit: row.dataset.unit },
  ]),
);
const pounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });

function update() {
  const chosen = proxies.get(measure?.value);
  const amount = Number.parseFloat((quantity?.value || "").replaceAll(",", ""));
  if (!chosen || !Number.isFinite(amount) || amount <= 0) {
    output.textContent = "The £ value is the amount × the council’s £ value of one unit of the measure.";
  } else if (chosen.proxy === "") {
    output.textContent = `${amount} ${chosen.unit}: this measure is counted in units only, not in pounds.`;
  } else {
    output.textContent = `Value if approved: ${pounds.format(amount * Number(chosen.proxy))} (${amount} × ${pounds.format(Number(chosen.proxy))}).`;
  }
}

if (measure && quantity && output) {
  measure.addEventListener("change", update);
  quantity.addEventListener("input", update);
  update();
}
