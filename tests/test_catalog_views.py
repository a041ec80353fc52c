import pytest
from django.urls import reverse

pytestmark = pytest.mark.usefixtures("demo_catalog")


def slugs_on(response) -> list[str]:
    return [article.slug for article in response.context["articles"]]


def test_the_catalog_lists_every_article_most_severe_first(client):
    response = client.get(reverse("catalog"))
    assert response.status_code == 200
    assert slugs_on(response) == ["demo-mtls-reset", "demo-gateway-failure", "demo-sidecar-startup"]
    assert b"Demo gateway drops a TLS server" in response.content
    assert b"3 known failures" in response.content


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"category": "gateway"}, ["demo-gateway-failure"]),
        ({"severity": "medium"}, ["demo-sidecar-startup"]),
        ({"component": "sidecar"}, ["demo-mtls-reset", "demo-sidecar-startup"]),
        ({"component": "ingress-gateway", "severity": "high"}, ["demo-gateway-failure"]),
        ({"category": "tls", "severity": "low"}, []),
    ],
)
def test_the_catalog_filters_by_category_severity_and_component(client, query, expected):
    assert slugs_on(client.get(reverse("catalog"), query)) == expected


def test_category_counts_follow_the_other_filters(client):
    counts = {row["value"]: row["count"] for row in client.get(reverse("catalog"), {"severity": "high"}).context["category_counts"]}
    assert counts["gateway"] == 1 and counts["startup"] == 0 and counts["tls"] == 0


def test_an_htmx_request_gets_only_the_results_fragment(client):
    response = client.get(reverse("catalog"), {"category": "startup"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="catalog-results"')
    assert "<html" not in html and "Demo app starts before its sidecar" in html
    assert "Demo gateway" not in html


def test_an_unknown_filter_value_is_a_400_naming_the_field(client):
    response = client.get(reverse("catalog"), {"severity": "apocalyptic"})
    assert response.status_code == 400
    assert "severity: Select a valid choice. apocalyptic is not one of the available choices." in response.content.decode()
    assert len(slugs_on(response)) == 3


def test_the_article_page_shows_structured_fields_and_sections(client):
    response = client.get(reverse("article", args=["demo-gateway-failure"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "skipping server on gateway default/demo, duplicate host names: [demo.example.com]" in html
    assert "istiod log" in html and "IST0145" in html
    for heading in ("Symptoms", "Diagnosis", "Root cause", "Fix", "References"):
        assert f"<h2>{heading}</h2>" in html
    assert 'class="copy-button" data-copy' in html
    assert "https://istio.io/latest/docs/reference/config/networking/gateway/" in html
    assert 'href="/articles/demo-sidecar-startup/"' in html  # related article


def test_the_article_page_describes_the_affected_versions(client):
    html = client.get(reverse("article", args=["demo-sidecar-startup"])).content.decode()
    assert "≤ 1.20; 1.21 – 1.23 with ENABLE_DEMO_FLAG=false" in html


def test_an_unknown_article_is_a_404(client):
    assert client.get("/articles/no-such-failure/").status_code == 404


def test_the_catalog_can_require_login(client, settings, alice):
    settings.CATALOG_PUBLIC = False
    response = client.get(reverse("article", args=["demo-gateway-failure"]))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/articles/demo-gateway-failure/"
    client.force_login(alice)
    assert client.get(reverse("article", args=["demo-gateway-failure"])).status_code == 200


def test_the_header_shows_who_is_logged_in(client, alice):
    assert "Log in" in client.get(reverse("catalog")).content.decode()
    client.force_login(alice)
    html = client.get(reverse("catalog")).content.decode()
    assert "alice" in html and "Log out" in html


def test_the_page_loads_htmx_from_our_own_static_files(client):
    html = client.get(reverse("catalog")).content.decode()
    assert 'src="/static/django_htmx/htmx-2.min.js"' in html
    assert "https://" not in html.split("<body")[0]
