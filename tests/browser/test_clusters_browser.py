import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.clusters.conftest import celery_worker  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db, django_user_model):
    call_command("loadarticles", stdout=open("/dev/null", "w"))
    call_command("addcluster", "demo", "--snapshot", "troubleshooting/demo/demo-mesh.yaml", stdout=open("/dev/null", "w"))
    call_command("scanclusters", stdout=open("/dev/null", "w"))
    django_user_model.objects.create_user("sre", password="correct-horse-battery")


def test_an_sre_logs_in_scans_the_demo_cluster_and_copies_a_fix(page, demo, celery_worker, screenshot):  # noqa: F811
    page.goto("/clusters/")
    page.fill("#id_username", "sre")
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_url("**/clusters/")
    card = page.locator('.cluster-card[data-cluster="demo"]')
    expect(card.locator(".grade")).to_have_text("F")
    screenshot(page, "clusters-overview")

    card.click()
    page.wait_for_url("**/clusters/demo/")
    before = page.locator(".history tbody tr").count()
    page.click("text=Scan now")
    expect(page.locator("#scan-progress .scan-state")).to_be_visible()
    # The worker runs the scan; the poll stops and the page reloads with the new scan in the history.
    expect(page.locator(".history tbody tr")).to_have_count(before + 1, timeout=30_000)
    expect(page.locator("#scan-progress button")).to_have_text("Scan now")
    expect(page.locator('.finding-group[data-article="gateway-duplicate-tls-host"]')).to_be_visible()
    screenshot(page, "cluster-demo")

    page.locator('.finding-group[data-article="gateway-duplicate-tls-host"] .finding-row a').first.click()
    page.wait_for_url("**/clusters/demo/findings/*/")
    block = page.locator("#remediation .codeblock[data-language='yaml']")
    expect(block).to_contain_text("name: test2")
    copy = block.locator("button.copy-button")
    copy.click()
    expect(copy).to_have_text("Copied!")
    assert page.evaluate("navigator.clipboard.readText()") == block.locator("pre").text_content()
    screenshot(page, "finding")
