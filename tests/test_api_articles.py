import pytest
from django.urls import reverse

from troubleshooting import api

pytestmark = pytest.mark.usefixtures("demo_catalog")


def test_the_list_returns_summaries_most_severe_first(client):
    data = client.get(reverse("api-articles")).json()
    assert data["count"] == 3 and data["next"] is None
    assert [r["slug"] for r in data["results"]] == ["demo-mtls-reset", "demo-gateway-failure", "demo-sidecar-startup"]
    assert data["results"][1] == {
        "slug": "demo-gateway-failure",
        "title": "Demo gateway drops a TLS server",
        "category": "gateway",
        "severity": "high",
        "components": ["ingress-gateway", "istiod"],
        "summary": "This failure occurs when the demo gateway has two TLS servers for one host.",
    }


def test_the_list_takes_the_same_filters_as_the_page(client):
    data = client.get(reverse("api-articles"), {"component": "sidecar", "severity": "critical"}).json()
    assert [r["slug"] for r in data["results"]] == ["demo-mtls-reset"]


def test_a_bad_filter_is_a_400_with_one_line(client):
    response = client.get(reverse("api-articles"), {"category": "<script>"})
    assert response.status_code == 400
    assert response.json() == {"error": "category: Select a valid choice. <script> is not one of the available choices."}
    assert client.get(reverse("api-articles"), {"page": "zero"}).json() == {"error": "page: Enter a whole number."}


def test_pages_link_to_the_next_one(client, monkeypatch):
    monkeypatch.setattr(api, "PAGE_SIZE", 2)
    first = client.get(reverse("api-articles"), {"component": ""}).json()
    assert len(first["results"]) == 2
    assert first["next"] == "http://testserver/api/v1/articles/?component=&page=2"
    second = client.get(first["next"]).json()
    assert [r["slug"] for r in second["results"]] == ["demo-sidecar-startup"] and second["next"] is None
    assert client.get(reverse("api-articles"), {"page": 3}).status_code == 404


def test_the_detail_has_every_structured_field(client):
    data = client.get(reverse("api-article", args=["demo-gateway-failure"])).json()
    assert data["symptoms"][1] == {
        "text": "curl: (35) OpenSSL SSL_connect: Connection reset by peer",
        "seen_in": "client",
        "note": "Only for hosts of the dropped server.",
    }
    assert data["analyzer_codes"] == ["IST0145"] and data["response_flags"] == ["NR"]
    assert set(data["sections"]) == {"symptoms", "diagnosis", "root_cause", "fix", "references"}
    assert data["yaml_snippets"][0]["heading"] == "Option 1: one Gateway per host"
    assert data["yaml_snippets"][0]["yaml"].startswith("apiVersion: networking.istio.io/v1\nkind: Gateway")
    assert data["references"][0]["url"] == "https://istio.io/latest/docs/reference/config/networking/gateway/"
    assert data["affected_versions"] == "All Istio versions"


def test_an_unknown_slug_is_a_json_404(client):
    response = client.get(reverse("api-article", args=["nope"]))
    assert response.status_code == 404 and response.json() == {"error": "no article with slug 'nope'"}


def test_a_private_catalog_answers_401_without_login(client, settings):
    settings.CATALOG_PUBLIC = False
    response = client.get(reverse("api-articles"))
    assert response.status_code == 401 and response.json() == {"error": "authentication required"}
