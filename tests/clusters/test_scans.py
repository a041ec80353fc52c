"""Scans of connected clusters, through the real kubernetes client against the API emulator."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.clusters.conftest import SEED_PODS, connect, seeds_text
from troubleshooting.clusters import scanning
from troubleshooting.models import Cluster, Finding, Scan, Suppression

SEED_RULES = {"MKB-001", "MKB-002", "MKB-003", "MKB-004", "MKB-005", "MKB-006"}


def scan(cluster: Cluster) -> Scan:
    return scanning.execute(scanning.scan_now(cluster))


def open_rules(cluster: Cluster) -> set[str]:
    return set(Finding.objects.filter(cluster=cluster, resolved_at__isnull=True).values_list("rule", flat=True))


def test_a_full_scan_stores_its_findings_and_facts(db, seeded):
    cluster = connect("prod", seeded)
    result = scan(cluster)
    assert result.status == "succeeded", result.error
    assert result.error == "" and result.kind_errors == {}
    assert result.scanned["Pod"] == SEED_PODS and result.scanned["Gateway"] == 2
    assert result.istio_versions == ["1.11.4"]
    assert open_rules(cluster) >= SEED_RULES
    assert result.new_findings == Finding.objects.count() and result.resolved_findings == 0
    assert sum(result.counts.values()) == Finding.objects.count()
    finding = Finding.objects.get(rule="MKB-003")
    assert finding.data["resource"] == {"kind": "Gateway", "namespace": "default", "name": "test2"}
    assert finding.data["documentation_url"].endswith("/articles/gateway-duplicate-tls-host/")
    assert "test2" in finding.data["remediation"]["yaml"]
    cluster.refresh_from_db()
    assert cluster.lease_until is None and cluster.consecutive_failures == 0


def test_a_403_on_one_kind_is_a_partial_scan_with_the_reason(db, k8s_emulator):
    cluster = connect("prod", k8s_emulator(seeds_text(), forbid={"pods"}))
    result = scan(cluster)
    assert result.status == "partial"
    assert list(result.kind_errors) == ["Pod"]
    assert 'pods is forbidden: User "system:serviceaccount:meshkb:reader"' in result.kind_errors["Pod"]
    assert "MKB-003" in open_rules(cluster)  # the kinds it could read were still analysed


def test_missing_istio_crds_make_the_scan_partial_not_clean(db, k8s_emulator):
    cluster = connect("prod", k8s_emulator(seeds_text(), without_groups={"networking.istio.io", "security.istio.io"}))
    result = scan(cluster)
    assert result.status == "partial"
    assert {"Gateway", "VirtualService", "DestinationRule", "PeerAuthentication"} <= set(result.kind_errors)


def test_an_unreachable_cluster_fails_with_one_line_and_others_still_scan(db, seeded, k8s_emulator):
    dead = k8s_emulator("")
    gone = connect("gone", dead)
    dead.stop()
    healthy = connect("prod", seeded)
    failed = scan(gone)
    assert failed.status == "failed"
    assert "\n" not in failed.error and failed.error
    assert "127.0.0.1" in failed.error
    assert scan(healthy).status == "succeeded"


def test_a_server_slower_than_the_timeout_fails_the_scan(db, k8s_emulator, settings):
    settings.MESHKB_API_TIMEOUT_SECONDS = 1
    cluster = connect("slow", k8s_emulator(seeds_text(), delay={"pods": 3}))
    result = scan(cluster)
    assert result.status in ("failed", "partial")
    reason = result.error or result.kind_errors.get("Pod", "")
    assert "timed out" in reason.lower() or "timeout" in reason.lower(), reason


def test_a_410_mid_pagination_restarts_the_list(db, k8s_emulator, settings):
    settings.MESHKB_API_PAGE_SIZE = 2
    emu = k8s_emulator(seeds_text(), expire={"pods": 1})
    result = scan(connect("prod", emu))
    assert result.status == "succeeded" and result.scanned["Pod"] == SEED_PODS
    pod_lists = [q for p, q in emu.requests if p == "/api/v1/pods"]
    assert all(q.get("limit") == "2" for q in pod_lists)
    assert sum("continue" not in q for q in pod_lists) == 2  # started over once


def test_bad_credentials_fail_the_scan(db, k8s_emulator):
    emu = k8s_emulator(seeds_text())
    cluster = connect("prod", emu)
    emu.token = "rotated-token"
    result = scan(cluster)
    assert result.status == "failed" and "401" in result.error or "Unauthorized" in result.error


def test_a_finding_lives_across_three_scans(db, seeded):
    cluster = connect("prod", seeded)
    first = scan(cluster)
    test1 = seeded.store["Gateway"].pop(("default", "test1"))  # fix the duplicate TLS host
    second = scan(cluster)
    gateway = Finding.objects.get(rule="MKB-003")
    assert gateway.resolved_at is not None and gateway.resolved_in_scan == second
    assert second.resolved_findings >= 1
    # Removing the Gateway leaves VirtualServices that name it: those are the only new findings.
    appeared = Finding.objects.filter(first_seen_scan=second)
    assert second.new_findings == appeared.count() and all("test1" in f.message for f in appeared)
    assert gateway.first_seen_scan == first
    seeded.add(test1)  # the problem comes back
    third = scan(cluster)
    gateway.refresh_from_db()
    assert gateway.resolved_at is None and gateway.first_seen_scan == third
    assert third.new_findings >= 1
    still = Finding.objects.get(rule="MKB-002")
    assert still.first_seen_scan == first and still.last_seen_scan == third


def test_a_partial_scan_does_not_resolve_what_it_could_not_see(db, seeded):
    cluster = connect("prod", seeded)
    scan(cluster)
    seeded.forbid = {"pods"}
    scan(cluster)
    assert "MKB-001" in open_rules(cluster)  # derived from pods, which were not read


def test_suppressions_hide_findings_until_they_expire(db, seeded, django_user_model):
    cluster = connect("prod", seeded)
    scan(cluster)
    owner = django_user_model.objects.create_user("ops")
    target = Finding.objects.get(rule="MKB-003")
    Suppression.objects.create(cluster=cluster, rule="MKB-003", fingerprint=target.fingerprint, reason="migrating",
                               author=owner, expires_at=timezone.now() + timedelta(days=7))
    Suppression.objects.create(cluster=cluster, rule="MKB-002", namespace="default", reason="known", author=owner,
                               expires_at=timezone.now() + timedelta(days=1))
    from troubleshooting.clusters.health import health_of

    now = health_of([cluster])[0]
    assert now.suppressed == 2
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        later = health_of([cluster])[0]
        assert later.suppressed == 1  # the namespace suppression expired, its finding is back
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert health_of([cluster])[0].suppressed == 0


def test_a_cluster_that_keeps_failing_backs_off(db, k8s_emulator):
    dead = k8s_emulator("")
    cluster = connect("gone", dead, scan_interval=10)
    dead.stop()
    delays = []
    for _ in range(3):
        before = timezone.now()
        scan(cluster)
        cluster.refresh_from_db()
        delays.append(round((cluster.next_scan_at - before).total_seconds() / 60))
    assert delays == [10, 20, 40] and cluster.consecutive_failures == 3


def test_dispatch_claims_only_due_clusters_and_never_twice(db, seeded):
    due = connect("due", seeded)
    later = connect("later", seeded)
    Cluster.objects.filter(pk=later.pk).update(next_scan_at=timezone.now() + timedelta(minutes=5))
    Cluster.objects.create(name="paused", source="in-cluster", enabled=False)
    first = scanning.dispatch_due()
    assert [s.cluster.name for s in first] == ["due"]
    assert scanning.dispatch_due() == []  # claimed and rescheduled
    assert Scan.objects.filter(cluster=due).count() == 1


@pytest.mark.django_db(transaction=True)
def test_dispatchers_racing_on_separate_connections_create_one_scan(seeded):
    import threading

    from django.db import connection

    cluster = connect("prod", seeded)
    start = threading.Barrier(4)
    created, errors = [], []

    def dispatch():
        start.wait()
        try:
            created.extend(scanning.dispatch_due())
        except Exception as exc:  # a lock error would be a bug: report it, do not hide it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(created) == 1
    assert Scan.objects.filter(cluster=cluster).count() == 1


def test_a_worker_killed_mid_scan_leaves_no_scan_running_forever(db, seeded, settings):
    cluster = connect("prod", seeded)
    queued = scanning.scan_now(cluster)
    assert queued.start()  # the worker started, then died
    assert scanning.scan_now(cluster) is None  # still leased
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.MESHKB_SCAN_LEASE_SECONDS + 5)):
        assert Scan.reap_abandoned() == 1
        queued.refresh_from_db()
        assert queued.status == "failed" and queued.error == "the worker running this scan stopped before it finished"
        assert scanning.scan_now(cluster) is not None


def test_history_is_pruned_but_the_latest_scan_stays(db, seeded):
    cluster = connect("prod", seeded)
    old = scan(cluster)
    Scan.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(days=90))
    assert Scan.prune(30) == 0  # it is the latest
    newer = scan(cluster)
    Scan.objects.filter(pk=newer.pk).update(queued_at=timezone.now() - timedelta(days=60))
    assert Scan.prune(30) == 1
    assert list(Scan.objects.values_list("pk", flat=True)) == [newer.pk]


def test_scanclusters_runs_a_named_cluster_now(db, seeded):
    connect("prod", seeded)
    out = StringIO()
    call_command("scanclusters", "--cluster", "prod", stdout=out)
    assert out.getvalue().startswith("prod: succeeded in ")
    with pytest.raises(CommandError, match="no cluster named 'nope'"):
        call_command("scanclusters", "--cluster", "nope")


def test_a_snapshot_cluster_is_scanned_from_its_upload(db, tmp_path):
    path = tmp_path / "dump.yaml"
    path.write_text(seeds_text())
    out = StringIO()
    call_command("addcluster", "airgap", "--snapshot", str(path), "--interval", "60", stdout=out)
    assert out.getvalue() == "cluster airgap added: Uploaded snapshot, scanned every 60 min\n"
    result = scan(Cluster.objects.get(name="airgap"))
    assert result.status == "succeeded" and open_rules(result.cluster) >= SEED_RULES


def test_addcluster_explains_bad_input_in_one_line(db, tmp_path):
    junk = tmp_path / "junk.yaml"
    junk.write_text("just: words\n")
    with pytest.raises(CommandError, match=r"^snapshot junk\.yaml: no Kubernetes objects"):
        call_command("addcluster", "airgap", "--snapshot", str(junk))
    with pytest.raises(CommandError, match=r"^name 'Bad_Name'"):
        call_command("addcluster", "Bad_Name", "--in-cluster")
    with pytest.raises(CommandError, match=r"^kubeconfig .*missing: No such file or directory"):
        call_command("addcluster", "x", "--kubeconfig", str(tmp_path / "missing"))


def test_a_scan_stopped_by_the_task_time_limit_fails_with_that_reason(db, seeded, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    from troubleshooting.scanner import cluster as reader

    def too_slow(self):
        raise SoftTimeLimitExceeded()  # what Celery raises inside the task when the soft limit passes

    monkeypatch.setattr(reader.ClusterReader, "read", too_slow)
    cluster = connect("prod", seeded)
    result = scan(cluster)
    assert result.status == "failed"
    assert result.error.startswith("the scan took longer than") and result.error.endswith("s and was stopped")
    cluster.refresh_from_db()
    assert cluster.lease_until is None


def test_an_in_cluster_scan_uses_the_pods_service_account(db, k8s_emulator, tmp_path, monkeypatch):
    """meshkb in a pod: the standard token and CA mount, the service host and port from the environment."""
    from pathlib import Path

    from kubernetes.config import incluster_config

    from troubleshooting.clusters.registry import configure

    emu = k8s_emulator(seeds_text(), tls=True)
    token = tmp_path / "token"
    token.write_text(emu.token)
    # Where a pod has its service-account mount; the emulator's certificate is issued to "localhost".
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(token))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(Path(emu._tmp.name) / "tls.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "localhost")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(emu.url.rsplit(":", 1)[1]))
    cluster = configure(Cluster(name="self"), source=Cluster.IN_CLUSTER)
    result = scan(cluster)
    assert result.status == "succeeded", result.error
    assert open_rules(cluster) >= SEED_RULES


def test_an_in_cluster_source_outside_a_pod_fails_with_one_line(db, monkeypatch):
    from troubleshooting.clusters.registry import configure

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    result = scan(configure(Cluster(name="self"), source=Cluster.IN_CLUSTER))
    assert result.status == "failed"
    assert result.error.startswith("cannot configure the Kubernetes client: ") and "\n" not in result.error
