import re


def test_every_response_carries_security_headers(client):
    for url in ("/", "/needs", "/api/v1/needs", "/nope", "/api/v1/openapi.json"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers


def test_no_page_has_an_inline_script_and_the_policy_allows_none(client):
    for url in ("/", "/needs", "/sign-in", "/register", "/forgot-password", "/no-such-page"):
        response = client.get(url)
        script_src = re.search(r"script-src ([^;]+)", response.headers["Content-Security-Policy"]).group(1)
        assert script_src == "'self'", f"{url}: script-src {script_src}"
        scripts = re.findall(r"<script([^>]*)>", response.get_data(as_text=True))
        assert scripts and all("src=" in attributes for attributes in scripts), f"{url}: {scripts}"
    with client.get("/static/js/body-classes.js") as body_classes:
        assert body_classes.status_code == 200 and "js-enabled" in body_classes.get_data(as_text=True)


def test_hsts_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
