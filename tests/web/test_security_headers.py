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


def test_the_pages_one_inline_script_carries_this_responses_nonce(client):
    first, second = client.get("/"), client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", first.headers["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in first.get_data(as_text=True)
    assert nonce not in second.headers["Content-Security-Policy"]
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", first.get_data(as_text=True))
    assert inline and all(f'nonce="{nonce}"' in attributes for attributes in inline)


def test_hsts_over_https(client):
    response = client.get("/", base_url="https://marketplace.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
