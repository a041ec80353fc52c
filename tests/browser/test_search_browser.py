import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_typing_an_error_into_the_header_box_shows_the_right_article(page, shipped_catalog, screenshot):
    page.goto("/")
    box = page.locator(".header-search input[name=q]")
    box.click()
    box.press_sequentially("upstream connect error ... reset reason: overflow 503 UO", delay=15)
    first = page.locator("#header-results .dropdown-list li a").first
    expect(first).to_have_attribute("href", "/articles/circuit-breaker-overflow-uo/#symptoms")
    screenshot(page, "search-dropdown")
    first.click()
    page.wait_for_url("**/articles/circuit-breaker-overflow-uo/#symptoms")


def test_a_pasted_log_excerpt_lists_candidates_with_what_matched(page, shipped_catalog, screenshot):
    page.goto("/search")
    page.fill(
        "#paste",
        "2026-11-25T10:01:02.123456Z\twarn\tmodel\tskipping server on gateway default/shop, duplicate host names: [shop.example.org]\n"
        "curl: (35) OpenSSL SSL_connect: Connection reset by peer in connection to shop.example.org:443",
    )
    page.click("text=Find the failure")
    hits = page.locator(".search-hit")
    expect(hits.first).to_have_attribute("data-slug", "gateway-duplicate-tls-host")
    assert hits.count() >= 2
    expect(hits.first.locator(".symptom-text")).to_contain_text(
        re.compile("duplicate host names|SSL_connect: Connection reset by peer")
    )
    screenshot(page, "search-results")


def test_the_search_form_works_without_javascript(page_without_js, shipped_catalog):
    page = page_without_js
    page.goto("/")
    page.fill(".header-search input[name=q]", "RBAC: access denied")
    page.press(".header-search input[name=q]", "Enter")
    page.wait_for_url("**/search?q=RBAC*")
    assert page.locator(".search-hit").first.get_attribute("data-slug") == "rbac-access-denied"
