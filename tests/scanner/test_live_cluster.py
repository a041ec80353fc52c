"""The live-cluster reader through the official kubernetes client against the API emulator."""

import io
import json
import time

import pytest
from django.core.management import call_command

from tests.scanner.support import FIXTURES, fixture_docs, run
from troubleshooting.scanner import scan
from troubleshooting.scanner.cluster import KINDS, ClusterError, ClusterReader, cluster_role_yaml

SEEDS = ["seed1-app-starts-before-sidecar-ready.yaml", "seed2-externalname-hijacks-port.yaml",
         "seed3-gateway-duplicate-tls-host.yaml", "seed4-server-first-port-conflict.yaml",
         "seed5-long-connection-without-keepalive.yaml"]


def seeds_text():
    return "\n---\n".join((FIXTURES / name).read_text() for name in SEEDS)


SEED_PODS = sum(1 for name in SEEDS for d in fixture_docs(name) if d.get("kind") == "Pod")


def read(emu, **kw):
    with emu.api_client() as api:
        return ClusterReader(api, **kw).read()


def test_a_live_scan_finds_the_same_as_a_file_scan_of_the_same_objects(k8s_emulator):
    emu = k8s_emulator(seeds_text())
    result = read(emu, page_size=2)
    assert not result.partial, result.errors
    live = {(f.rule, str(f.resource), f.fingerprint) for f in scan(result.snapshot).findings}
    files = {(f.rule, str(f.resource), f.fingerprint) for f in run([d for s in SEEDS for d in fixture_docs(s)]).findings}
    assert live == files
    assert {rule for rule, _, _ in live} >= {"MKB-001", "MKB-002", "MKB-003", "MKB-004", "MKB-005", "MKB-006"}


def test_lists_are_paginated_with_limit_and_continue(k8s_emulator):
    emu = k8s_emulator(seeds_text())
    result = read(emu, page_size=2)
    pod_requests = [q for p, q in emu.requests if p == "/api/v1/pods"]
    assert [q.get("limit") for q in pod_requests] == ["2", "2", "2"]
    assert ["continue" in q for q in pod_requests] == [False, True, True]
    assert result.snapshot.scanned["Pod"] == SEED_PODS


def test_istio_kinds_are_read_at_v1_and_envoyfilters_at_v1alpha3(k8s_emulator):
    result = read(k8s_emulator(seeds_text()))
    assert result.versions["Gateway"] == "networking.istio.io/v1"
    assert result.versions["EnvoyFilter"] == "networking.istio.io/v1alpha3"
    assert result.versions["PeerAuthentication"] == "security.istio.io/v1"
    assert result.versions["Pod"] == "v1" and result.versions["Deployment"] == "apps/v1"


def test_an_older_istio_is_read_at_the_versions_it_serves(k8s_emulator):
    from tests.k8s_emulator import OLD_ISTIO

    result = read(k8s_emulator(seeds_text(), istio=OLD_ISTIO))
    assert result.versions["Gateway"] == "networking.istio.io/v1beta1"
    assert result.versions["PeerAuthentication"] == "security.istio.io/v1beta1"
    assert any(f.rule == "MKB-003" for f in scan(result.snapshot).findings)


def test_without_discovery_rights_versions_are_tried_in_order(k8s_emulator):
    from tests.k8s_emulator import OLD_ISTIO

    emu = k8s_emulator(seeds_text(), istio=OLD_ISTIO, forbid_discovery=True)
    result = read(emu)
    assert not result.partial
    assert result.versions["Gateway"] == "networking.istio.io/v1beta1"
    assert "/apis/networking.istio.io/v1/gateways" in emu.paths()


def test_a_403_on_one_kind_makes_a_partial_scan_with_the_reason(k8s_emulator):
    result = read(k8s_emulator(seeds_text(), forbid={"pods"}))
    assert result.partial and set(result.errors) == {"Pod"}
    assert result.errors["Pod"].startswith('forbidden: pods is forbidden: User "system:serviceaccount:meshkb:reader"')
    assert "Pod" not in result.snapshot.scanned and result.snapshot.scanned["Gateway"] == 2
    assert result.snapshot.unread == {"Pod"}
    assert any(w.startswith("partial scan: could not read Pod") for w in result.snapshot.warnings)


def test_missing_istio_crds_are_per_kind_errors_not_a_failure(k8s_emulator):
    emu = k8s_emulator(seeds_text(), without_groups={"networking.istio.io", "security.istio.io"})
    result = read(emu)
    istio_kinds = {k.kind for k in KINDS if "istio" in k.group}
    assert set(result.errors) == istio_kinds
    assert result.errors["Gateway"] == "API group networking.istio.io is not served (Istio CRDs not installed?)"
    assert result.snapshot.scanned["Pod"] == SEED_PODS


def test_a_410_mid_pagination_restarts_the_list(k8s_emulator):
    emu = k8s_emulator(seeds_text(), expire={"pods": 1})
    result = read(emu, page_size=2)
    assert not result.partial
    pod_requests = [q for p, q in emu.requests if p == "/api/v1/pods"]
    assert ["continue" in q for q in pod_requests] == [False, True, False, True, True]
    assert result.snapshot.scanned["Pod"] == SEED_PODS
    assert not any("duplicate" in w for w in result.snapshot.warnings)


def test_a_list_that_keeps_expiring_gives_up_for_that_kind(k8s_emulator):
    result = read(k8s_emulator(seeds_text(), expire={"pods": 100}), page_size=2, max_restarts=2)
    assert result.errors == {"Pod": "listing pods kept expiring (410 Gone) after 2 restarts"}


def test_an_unreachable_server_is_one_cluster_error(k8s_emulator):
    emu = k8s_emulator("")
    api = emu.api_client()
    emu.stop()
    with api, pytest.raises(ClusterError, match=r"^cannot reach http://127\.0\.0\.1:\d+: Connection refused$"):
        ClusterReader(api, timeout=(1, 1)).read()


def test_a_server_slower_than_the_timeout_is_one_cluster_error(k8s_emulator):
    emu = k8s_emulator(seeds_text(), delay={"pods": 3})
    start = time.monotonic()
    with pytest.raises(ClusterError, match=r"did not answer within 0.5 s \(read timeout\)"):
        read(emu, timeout=(1, 0.5))
    assert time.monotonic() - start < 3


def test_bad_credentials_are_one_cluster_error(k8s_emulator):
    emu = k8s_emulator(seeds_text())
    with emu.api_client(token="wrong") as api, pytest.raises(ClusterError, match=r"^unauthorized \(401\)"):
        ClusterReader(api).read()


def test_an_untrusted_tls_certificate_is_one_cluster_error(k8s_emulator):
    emu = k8s_emulator(seeds_text(), tls=True)
    with emu.api_client() as api, pytest.raises(ClusterError, match="TLS error talking to https://127.0.0.1"):
        ClusterReader(api, timeout=(2, 2)).read()


def test_the_cli_scans_a_cluster_through_a_kubeconfig(k8s_emulator, tmp_path):
    emu = k8s_emulator(seeds_text())
    kubeconfig = emu.kubeconfig(tmp_path / "config", context="prod")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("scan", "--kubeconfig", str(kubeconfig), "--context", "prod", "-o", "json", stdout=out)
    assert exit_.value.code == 3
    data = json.loads(out.getvalue())
    assert data["source"] == "cluster prod"
    assert data["istio"] == {"versions": ["1.11.4"], "revisions": ["default"]}
    assert "MKB-003" in {f["rule"] for f in data["findings"]}


def test_kinds_list_every_resource_read_and_the_cluster_role_grants_exactly_those():
    assert [(k.group, k.plural) for k in KINDS][:4] == [("", "namespaces"), ("", "pods"), ("", "services"), ("", "configmaps")]
    text = cluster_role_yaml()
    for k in KINDS:
        assert k.plural in text
    assert "verbs:\n  - get\n  - list" in text and "watch" not in text and "secrets" not in text
