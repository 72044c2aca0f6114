// The pledge form's script. It asks for a measure only when the pledge uses it (an offer with
// its own measure decides it), and shows a pledge's value as the supplier types: quantity × the
// measure's £ proxy. The proxy values and the offers' measures come from the page, so nothing
// here can drift from the server; without this script the server shows the same choices.
const measure = document.querySelector("[data-valuation-measure]");
const quantity = document.querySelector("[data-valuation-quantity]");
const output = document.querySelector("[data-valuation-output]");
const form = measure?.form;
const offer = form?.querySelector('[name="offer_id"]');
const offerMeasures = JSON.parse(form?.dataset.offerMeasures || "{}");
const question = document.querySelector("[data-pledge-measure-question]");
const fromOffer = document.querySelector("[data-pledge-offer-measure]");
const fromOfferLabel = document.querySelector("[data-pledge-offer-measure-label]");
const proxies = new Map(
  [...document.querySelectorAll("#proxy-values [data-measure]")].map((row) => [
    row.dataset.measure,
    { proxy: row.dataset.proxy, unit: row.dataset.unit },
  ]),
);
const pounds = new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" });

function offerMeasure() {
  return Object.hasOwn(offerMeasures, offer?.value ?? "") ? offerMeasures[offer.value] : undefined;
}

// A disabled select is not sent, so the form sends only the measure that counts.
function showMeasureQuestion() {
  const fixed = offerMeasure();
  measure.disabled = Boolean(fixed);
  if (question) question.hidden = Boolean(fixed);
  if (fromOffer) fromOffer.hidden = !fixed;
  if (fromOfferLabel) fromOfferLabel.textContent = fixed ? fixed.label : "";
}

function update() {
  const chosen = proxies.get(offerMeasure()?.code ?? measure?.value);
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
  offer?.addEventListener("change", () => {
    showMeasureQuestion();
    update();
  });
  showMeasureQuestion();
  update();
}
