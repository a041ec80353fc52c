"""The rule registry and scan(): discovery, metadata, ordering, fingerprints, robustness."""

import subprocess
import sys

from tests.scanner.support import RULES, docs_from_yaml, fixture_docs, run, snapshot_of
from troubleshooting.scanner import scan
from troubleshooting.scanner.engine import Rule, all_rules

CATALOG_SLUGS = {
    "app-starts-before-sidecar-ready", "externalname-service-hijacks-port", "gateway-duplicate-tls-host",
    "server-first-protocol-port-conflict", "long-connection-without-keepalive", "route-not-found-nr",
    "circuit-breaker-overflow-uo", "mtls-mode-conflict", "strict-mtls-plaintext-client", "https-to-http-port", "double-tls",
    "gateway-shared-certificate-404", "headless-service-503-uc", "envoy-crash-file-descriptors",
    "upstream-connection-reset-idle-timeout", "no-healthy-upstream-uh", "rbac-access-denied", "jwt-authentication-failure",
    "injection-webhook-failure", "sidecar-not-injected", "registry-only-blackhole", "http10-426-upgrade-required",
    "virtualservice-gateway-host-mismatch", "subset-not-found", "port-naming-protocol-selection",
    "tcp-serviceentry-without-addresses", "proxy-not-ready-no-config", "root-ca-expired", "upstream-request-timeout-504",
    "gateway-port-protocol-conflict", "upstream-tls-verify-failed",
}


def test_every_rule_module_registers_one_rule_with_a_stable_id_and_a_catalog_article():
    rules = all_rules()
    ids = [r.id for r in rules]
    assert ids[:6] == ["MKB-001", "MKB-002", "MKB-003", "MKB-004", "MKB-005", "MKB-006"]
    assert all(i.startswith("MKB-1") for i in ids[6:]) and len(set(ids)) == len(ids)
    assert {r.slug for r in rules} <= CATALOG_SLUGS
    assert RULES["MKB-005"].slug == RULES["MKB-006"].slug == "long-connection-without-keepalive"
    assert RULES["MKB-006"].severity == "info" and RULES["MKB-005"].severity == "warning"


def test_the_scanner_package_imports_no_django():
    code = ("import sys, troubleshooting.scanner as s, troubleshooting.scanner.engine as e, "
            "troubleshooting.scanner.cluster; e.all_rules(); "
            "print(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_rule_that_crashes_becomes_a_warning_and_the_others_still_run():
    def broken(snapshot):
        raise KeyError("servers")

    bad = Rule("MKB-999", "gateway-duplicate-tls-host", "broken", "error", check=broken)
    report = scan(snapshot_of(fixture_docs("seed3-gateway-duplicate-tls-host.yaml")), rules=[bad, RULES["MKB-003"]])
    assert [f.rule for f in report.findings] == ["MKB-003"]
    assert report.warnings == ["rule MKB-999 (gateway-duplicate-tls-host) could not run on this input: KeyError: 'servers'"]


def test_findings_are_sorted_most_severe_first():
    docs = fixture_docs("seed5-long-connection-without-keepalive.yaml") + fixture_docs("seed2-externalname-hijacks-port.yaml")
    severities = [f.severity for f in run(docs).findings]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


def test_fingerprints_are_stable_and_ignore_wording():
    a = run(fixture_docs("seed3-gateway-duplicate-tls-host.yaml"), "MKB-003")[0]
    b = run(fixture_docs("seed3-gateway-duplicate-tls-host.yaml"), "MKB-003")[0]
    assert a.fingerprint == b.fingerprint and len(a.fingerprint) == 24
    b.message = "reworded"
    assert a.fingerprint == b.fingerprint


def test_documentation_urls_use_the_callers_base():
    [f] = run(fixture_docs("seed3-gateway-duplicate-tls-host.yaml"), "MKB-003", base_url="https://kb.example.com/")
    assert f.documentation_url == "https://kb.example.com/articles/gateway-duplicate-tls-host/"


def test_a_namespace_filter_keeps_only_findings_in_those_namespaces():
    docs = fixture_docs("seed4-server-first-port-conflict.yaml")
    report = scan(snapshot_of(docs), namespaces=["tools"])
    assert {f.resource.namespace for f in report.findings} == {"tools"}


def test_the_report_carries_istio_versions_revisions_and_counts():
    report = run(fixture_docs("seed1-app-starts-before-sidecar-ready.yaml"))
    data = report.to_dict()
    assert data["istio"] == {"versions": ["1.11.4"], "revisions": ["default"]}
    assert data["scanned"] == {"ConfigMap": 1, "Deployment": 2, "Namespace": 1, "Pod": 2, "ReplicaSet": 1}
    assert set(data) >= {"meshkb_version", "source", "istio", "scanned", "warnings", "findings"}
    assert set(data["findings"][0]) == {"rule", "article", "severity", "resource", "related", "message", "evidence",
                                        "fingerprint", "documentation_url", "remediation"}


def test_an_empty_mesh_has_no_findings():
    docs = docs_from_yaml("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: plain}
    """)
    assert run(docs).findings == []


def test_discovery_selectors_in_the_mesh_config_are_named_in_a_warning():
    mesh = """
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: istio, namespace: istio-system}
        data:
          mesh: |
            discoverySelectors:
            - matchLabels: {istio-discovery: enabled}
    """
    warnings = run(docs_from_yaml(mesh)).warnings
    assert [w for w in warnings if "discoverySelectors" in w] == [
        "ConfigMap istio-system/istio sets discoverySelectors: istiod ignores the namespaces they do not select, "
        "while meshkb checks every namespace, so findings in unselected namespaces may not apply"
    ]
    assert not [w for w in run(docs_from_yaml(mesh.replace("discoverySelectors", "accessLogFile"))).warnings
                if "discoverySelectors" in w]
