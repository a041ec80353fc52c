import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_reader_filters_the_catalog_opens_an_article_and_copies_its_yaml(page, shipped_catalog, screenshot):
    page.goto("/")
    assert page.locator(".article-card").count() >= 31
    screenshot(page, "catalog")

    page.select_option("#id_category", "gateway")  # htmx swaps the results in place
    page.wait_for_url("**/?category=gateway*")
    cards = page.locator(".article-card")
    assert cards.count() >= 2
    assert set(cards.evaluate_all("cards => cards.map(c => c.querySelector('.badge.category').textContent)")) == {
        "Gateways & ingress"
    }

    page.locator('.article-card[data-slug="gateway-duplicate-tls-host"] .card-title a').click()
    page.wait_for_url("**/articles/gateway-duplicate-tls-host/")
    assert "istiod drops" in page.locator("h1").inner_text()
    screenshot(page, "article")

    block = page.locator("#fix .codeblock[data-language='yaml']").first
    button = block.locator("button.copy-button")
    button.click()
    expect(button).to_have_text("Copied!")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == block.locator("pre").text_content()
    assert copied.startswith("apiVersion: networking.istio.io/v1\nkind: Gateway")
    screenshot(page, "article-copied")


def test_the_catalog_filters_work_without_javascript(page_without_js, shipped_catalog):
    page = page_without_js
    page.goto("/")
    page.select_option("#id_severity", "critical")
    page.click("text=Apply filters")
    page.wait_for_url("**/?*severity=critical*")
    severities = page.locator(".article-card .badge.severity").all_text_contents()
    assert severities and set(severities) == {"Critical"}
