"""The static folder serves what the pages use, and nothing that only the tests need."""


def test_test_assets_are_not_served(client):
    # axe-core drives the accessibility checks of tests/e2e; it lives in tests/e2e/assets.
    assert client.get("/static/vendor/axe/axe.min.js").status_code == 404
    assert client.get("/static/vendor/axe/LICENSE").status_code == 404


def test_vendored_page_assets_are_served(client):
    response = client.get("/static/vendor/vazirmatn/vazirmatn.css")
    assert response.status_code == 200
    assert b"@font-face" in response.data
