"""Cluster pages and API: who may see and change what, and what the pages show."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.clusters.conftest import connect
from troubleshooting.clusters import scanning
from troubleshooting.models import Cluster, Finding, Scan, Suppression


@pytest.fixture
def reader(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


CLUSTER_URLS = [
    ("clusters", []), ("cluster", ["prod"]), ("cluster-add", []), ("cluster-edit", ["prod"]),
    ("api-clusters", []), ("api-cluster-findings", ["prod"]),
]


@pytest.mark.parametrize("name, args", CLUSTER_URLS)
def test_anonymous_visitors_get_no_cluster_data(client, prod, name, args):
    response = client.get(reverse(name, args=args))
    if name.startswith("api-"):
        assert response.status_code == 401 and response.json() == {"error": "authentication required"}
    else:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_anonymous_visitors_cannot_scan_or_see_findings(client, prod):
    finding = Finding.objects.first()
    assert client.post(reverse("cluster-scan", args=["prod"])).status_code == 302
    assert client.get(finding.get_absolute_url()).status_code == 302
    assert client.get(reverse("finding-yaml", args=["prod", finding.fingerprint])).status_code == 302
    assert Scan.objects.count() == 1


def test_users_see_clusters_but_only_staff_change_them(reader, prod):
    assert reader.get(reverse("clusters")).status_code == 200
    assert reader.get(reverse("cluster", args=["prod"])).status_code == 200
    assert reader.get(reverse("cluster-add")).status_code == 403
    assert reader.post(reverse("cluster-delete", args=["prod"])).status_code == 403
    assert Cluster.objects.filter(name="prod").exists()


def test_staff_add_a_cluster_from_a_pasted_kubeconfig(admin_client, db, k8s_emulator):
    import yaml

    emu = k8s_emulator("")
    response = admin_client.post(reverse("cluster-add"), {
        "name": "staging", "source": "kubeconfig", "kubeconfig_text": yaml.safe_dump(emu.kubeconfig_dict()),
        "scan_interval": 5, "enabled": "on",
    })
    assert response.status_code == 302 and response["Location"] == "/clusters/staging/"
    cluster = Cluster.objects.get(name="staging")
    assert cluster.context == "emulator" and cluster.scan_interval == 5


def test_a_refused_kubeconfig_is_a_form_error_and_nothing_is_saved(admin_client, db):
    response = admin_client.post(reverse("cluster-add"), {
        "name": "gke", "source": "kubeconfig", "scan_interval": 15,
        "kubeconfig_text": "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: 'https://x'}}]\n"
                           "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                           "users: [{name: u, user: {exec: {command: gke-gcloud-auth-plugin}}}]\n",
    })
    assert response.status_code == 400
    assert "uses an exec plugin (gke-gcloud-auth-plugin)" in response.content.decode()
    assert not Cluster.objects.exists()


def test_no_page_or_api_ever_shows_the_stored_kubeconfig(admin_client, prod, seeded):
    pages = [reverse("clusters"), reverse("cluster", args=["prod"]), reverse("cluster-edit", args=["prod"]),
             reverse("api-clusters"), reverse("api-cluster-findings", args=["prod"]),
             Finding.objects.first().get_absolute_url(), "/admin/troubleshooting/cluster/"]
    for url in pages:
        body = admin_client.get(url).content.decode()
        assert seeded.token not in body, url
        assert seeded.url not in body, url


def test_editing_without_a_new_kubeconfig_keeps_the_stored_one(admin_client, prod, seeded):
    before = Cluster.objects.get(name="prod").kubeconfig_encrypted
    response = admin_client.post(reverse("cluster-edit", args=["prod"]), {
        "name": "prod", "source": "kubeconfig", "scan_interval": 30, "enabled": "",
    })
    assert response.status_code == 302
    cluster = Cluster.objects.get(name="prod")
    assert cluster.kubeconfig_encrypted == before and cluster.scan_interval == 30 and not cluster.enabled


def test_the_overview_grades_each_cluster(reader, prod, db, k8s_emulator):
    dead = k8s_emulator("")
    gone = connect("gone", dead)
    dead.stop()
    scanning.execute(scanning.scan_now(gone))
    html = reader.get(reverse("clusters")).content.decode()
    assert 'data-cluster="prod"' in html and 'data-cluster="gone"' in html
    assert "scan failed" in html and "needs attention" in html
    data = reader.get(reverse("api-clusters")).json()["results"]
    by_name = {item["name"]: item for item in data}
    assert by_name["gone"]["grade"] == "?" and by_name["gone"]["last_scan"]["status"] == "failed"
    assert by_name["prod"]["last_scan"]["counts"]["error"] >= 3
    assert by_name["prod"]["istio_versions"] == ["1.11.4"]
    assert set(by_name["prod"]) >= {"name", "source", "last_scan"}


def test_the_cluster_page_groups_findings_by_article(reader, prod):
    response = reader.get(reverse("cluster", args=["prod"]))
    html = response.content.decode()
    slugs = [group["slug"] for group in response.context["groups"]]
    assert "gateway-duplicate-tls-host" in slugs and "app-starts-before-sidecar-ready" in slugs
    assert "Two Gateways declare the same TLS host" in html
    assert 'class="badge new"' in html  # everything is new after the first scan
    assert "Scan history" in html


def test_scan_now_queues_one_scan_and_the_status_poll_stops_when_done(reader, prod):
    response = reader.post(reverse("cluster-scan", args=["prod"]), headers={"HX-Request": "true"})
    scan = Scan.objects.filter(status="queued").get()
    assert f'hx-get="/clusters/prod/scans/{scan.pk}/status"' in response.content.decode()
    assert reader.post(reverse("cluster-scan", args=["prod"])).status_code == 302
    assert Scan.objects.filter(status="queued").count() == 1  # a second press does not queue another
    poll = reader.get(reverse("scan-status", args=["prod", scan.pk]))
    assert poll.status_code == 200 and "Scan queued" in poll.content.decode()
    scanning.execute(scan)
    done = reader.get(reverse("scan-status", args=["prod", scan.pk]))
    assert done.status_code == 286 and done["HX-Refresh"] == "true"


def test_the_finding_page_hands_over_the_fix(reader, prod):
    finding = Finding.objects.get(rule="MKB-003")
    html = reader.get(finding.get_absolute_url()).content.decode()
    assert "kubectl apply -f -" in html and "name: test2" in html
    assert 'href="/articles/gateway-duplicate-tls-host/"' in html
    download = reader.get(reverse("finding-yaml", args=["prod", finding.fingerprint]))
    assert download["Content-Type"] == "application/yaml; charset=utf-8"
    assert download["Content-Disposition"] == 'attachment; filename="prod-mkb-003-test2.yaml"'
    assert download.content.decode() == finding.data["remediation"]["yaml"]


def test_suppressing_a_finding_moves_it_to_the_suppressed_list(reader, prod):
    finding = Finding.objects.get(rule="MKB-003")
    until = (timezone.localdate() + timedelta(days=14)).isoformat()
    response = reader.post(reverse("finding-suppress", args=["prod", finding.fingerprint]),
                           {"scope": "finding", "reason": "migration in progress", "expires_at": until})
    assert response.status_code == 302
    suppression = Suppression.objects.get()
    assert suppression.author.username == "alice" and suppression.fingerprint == finding.fingerprint
    page = reader.get(reverse("cluster", args=["prod"]))
    assert "gateway-duplicate-tls-host" not in [g["slug"] for g in page.context["groups"]]
    assert [f.fingerprint for f, _ in page.context["suppressed"]] == [finding.fingerprint]
    api = reader.get(reverse("api-cluster-findings", args=["prod"])).json()["results"]
    assert next(r for r in api if r["fingerprint"] == finding.fingerprint)["suppressed"]["reason"] == "migration in progress"


def test_a_suppression_needs_a_reason_and_a_future_date(reader, prod):
    finding = Finding.objects.first()
    reader.post(reverse("finding-suppress", args=["prod", finding.fingerprint]),
                {"scope": "finding", "reason": "", "expires_at": "2000-01-01"})
    assert not Suppression.objects.exists()


def test_the_findings_api_matches_the_scan_json(reader, prod):
    data = reader.get(reverse("api-cluster-findings", args=["prod"])).json()
    assert data["cluster"] == "prod"
    item = data["results"][0]
    assert set(item) >= {"rule", "article", "severity", "resource", "related", "message", "evidence", "fingerprint",
                         "documentation_url", "remediation"}
    assert reader.get(reverse("api-cluster-findings", args=["nope"])).status_code == 404


def test_the_article_page_shows_where_the_failure_is_found_to_logged_in_users(client, alice, prod):
    url = reverse("article", args=["gateway-duplicate-tls-host"])
    assert "Found now on" not in client.get(url).content.decode()
    client.force_login(alice)
    assert "cluster prod</a> (1 object)" in client.get(url).content.decode()


def _many_findings(cluster: Cluster, count: int) -> None:
    now = timezone.now()
    Finding.objects.bulk_create(
        Finding(cluster=cluster, fingerprint=f"fp{i:06d}", rule="MKB-107", article_slug="sidecar-not-injected",
                severity="warning", kind="Pod", namespace=f"ns{i % 50}", name=f"pod-{i}", message="Pod has no sidecar",
                data={}, first_seen_at=now, last_seen_at=now)
        for i in range(count)
    )


def test_the_cluster_page_runs_the_same_queries_for_ten_or_a_thousand_findings(reader, prod):
    _many_findings(prod, 10)
    with CaptureQueriesContext(connection) as few:
        assert reader.get(reverse("cluster", args=["prod"])).status_code == 200
    _many_findings_more = Finding.objects.filter(rule="MKB-107").count()
    Finding.objects.filter(rule="MKB-107").delete()
    _many_findings(prod, 1000)
    with CaptureQueriesContext(connection) as many:
        assert reader.get(reverse("cluster", args=["prod"])).status_code == 200
    assert _many_findings_more == 10
    assert len(many) == len(few), [q["sql"][:80] for q in many.captured_queries]
    with CaptureQueriesContext(connection) as overview:
        reader.get(reverse("clusters"))
    Finding.objects.filter(rule="MKB-107").delete()
    with CaptureQueriesContext(connection) as overview_few:
        reader.get(reverse("clusters"))
    assert len(overview) == len(overview_few)


def test_an_uploaded_kubeconfig_without_a_current_context_asks_for_one(admin_client, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = (b"apiVersion: v1\nkind: Config\nclusters: [{name: k, cluster: {server: 'https://10.0.0.1'}}]\n"
            b"users: [{name: u, user: {token: t}}]\ncontexts: [{name: blue, context: {cluster: k, user: u}},"
            b" {name: green, context: {cluster: k, user: u}}]\n")
    response = admin_client.post(reverse("cluster-add"), {
        "name": "two", "source": "kubeconfig", "scan_interval": 15,
        "kubeconfig_file": SimpleUploadedFile("config", text),
    })
    html = response.content.decode()
    assert response.status_code == 400
    assert "kubeconfig: choose a context (it has: blue, green)" in html
    assert "This kubeconfig has: <code>blue</code>, <code>green</code>" in html
    assert not Cluster.objects.exists()
