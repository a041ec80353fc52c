"""Parity with istioctl analyze on Istio's own analyzer fixtures (../shared/istio-testdata).

Expected resources are those Istio's analyzers_test.go expects (see the folder's README). Where
meshkb deliberately differs, the difference is spelled out in the case and in README.md
("Deliberate differences from istioctl analyze").
"""

import os
from pathlib import Path

import pytest

from tests.conftest import skip_unless_ci
from troubleshooting.scanner import SnapshotBuilder, load_paths, scan
from troubleshooting.scanner.engine import all_rules

REPO = Path(__file__).resolve().parents[2]
# Istio's fixtures, vendored unmodified (see tests/fixtures/istio-testdata/README.md) so a clean clone
# runs the parity tests; ISTIO_TESTDATA points at another copy.
VENDORED = REPO / "tests" / "fixtures" / "istio-testdata"
SHARED = REPO / ".." / "shared" / "istio-testdata"
TESTDATA = Path(os.environ.get("ISTIO_TESTDATA") or VENDORED)
RULES = {r.id: r for r in all_rules()}

# istioctl code -> meshkb rules that report the same failure
CODES = {
    "IST0145": ("MKB-003", "MKB-101"),
    "IST0150": ("MKB-002",),
    "IST0118": ("MKB-109",),
    "IST0134": ("MKB-108",),
    "IST0138": ("MKB-102",),
    "IST0101/IST0132 gateways": ("MKB-103",),
    "IST0101 subsets": ("MKB-105",),
    "IST0103": ("MKB-107",),
    "IST0173": ("MKB-106",),
}


def fixture(name: str) -> Path:
    path = TESTDATA / name
    if not path.exists():
        skip_unless_ci(f"Istio analyzer fixture {name} not found under {TESTDATA} (set ISTIO_TESTDATA)")
    return path


def flagged(code: str, files, mesh_config: str | None = None) -> set[str]:
    builder = SnapshotBuilder("parity")
    if mesh_config:
        text = fixture(mesh_config).read_text()
        builder.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
                     "data": {"mesh": text}}, "parity")
    snapshot = load_paths([str(fixture(f)) for f in files], builder=builder)
    report = scan(snapshot, rules=[RULES[r] for r in CODES[code]])
    out = set()
    for f in report.findings:
        out.add(str(f.resource))
        if code == "IST0145":  # istioctl reports both Gateways of a conflict; meshkb names the kept one as related
            out.update(str(r) for r in f.related if r.kind == "Gateway")
    return out


CASES = [
    # (code, files, mesh config, resources istioctl reports, resources meshkb reports in addition, missing)
    ("IST0145", ["conflicting-gateways.yaml"], None, {"Gateway default/alpha", "Gateway default/beta"}, set(), set()),
    ("IST0145", ["conflicting-gateways-multiple-ports.yaml"], None, {"Gateway default/alpha", "Gateway default/beta"}, set(), set()),
    ("IST0145", ["gateway-different-port.yaml"], None, set(), set(), set()),
    ("IST0145", ["conflicting-gateways-invalid-port.yaml"], None, set(), set(), set()),
    ("IST0150", ["incorrect-port-name-external-name-service-type.yaml"], None,
     {"Service nginx-ns/nginx", "Service nginx-ns2/nginx-svc2", "Service nginx-ns3/nginx-svc3"}, set(), set()),
    ("IST0150", ["correct-port-name-external-name-service-type.yaml"], None, set(), set(), set()),
    ("IST0118", ["service-no-port-name.yaml"], None,
     {"Service my-namespace1/my-service1", "Service my-namespace2/my-service2"}, set(), set()),
    ("IST0118", ["service-port-name.yaml"], None, set(), set(), set()),
    ("IST0118", ["service-no-port-name-system-namespace.yaml"], None, set(), set(), set()),
    ("IST0134", ["serviceentry-missing-addresses-protocol.yaml"], None,
     {"ServiceEntry default/service-entry-test-03", "ServiceEntry default/service-entry-test-04",
      "ServiceEntry default/service-entry-test-07"}, set(), set()),
    ("IST0134", ["serviceentry-missing-addresses-protocol.yaml"], "serviceentry-missing-addresses-protocol-mesh-cfg.yaml",
     set(), set(), set()),
    ("IST0134", ["serviceentry-address-required-lowercase.yaml"], None,
     {"ServiceEntry default/address-missing-lowercase"}, set(), set()),
    # meshkb also flags the Gateway with the wider selector: its pods serve both hosts with one certificate.
    ("IST0138", ["gateway-duplicate-certificate.yaml"], None,
     {"Gateway istio-system/gateway-01-test-01", "Gateway istio-system/gateway-02-test-01",
      "Gateway istio-system/gateway-01-test-02", "Gateway default/gateway-01-test-03"},
     {"Gateway istio-system/gateway-02-test-02", "Gateway istio-system/gateway-02-test-03"}, set()),
    ("IST0101/IST0132 gateways", ["virtualservice_gateways.yaml"], None,
     {"VirtualService default/httpbin-bogus", "VirtualService default/cross-test", "VirtualService default/httpbin"},
     set(), set()),
    ("IST0101 subsets", ["virtualservice_destinationrules.yaml"], None,
     {"VirtualService default/reviews-bogussubset", "VirtualService default/reviews-mirror-bogussubset"}, set(), set()),
    ("IST0103", ["injection.yaml"], None, {"Pod default/noninjectedpod"}, set(), set()),
    # The fixture has no pods at all; meshkb does not claim a subset selects nothing when it saw no pods.
    ("IST0173", ["destinationrule-subsets-not-select-pods.yaml"], None, {"DestinationRule default/subsets-not-select-pods"},
     set(), {"DestinationRule default/subsets-not-select-pods"}),
]


@pytest.mark.parametrize("code, files, mesh, istioctl, extra, missing", CASES,
                         ids=[f"{c[0]}:{'+'.join(c[1])}{'+meshconfig' if c[2] else ''}" for c in CASES])
def test_meshkb_flags_the_resources_istioctl_flags(code, files, mesh, istioctl, extra, missing):
    assert flagged(code, files, mesh) == (istioctl | extra) - missing


def test_unnamed_ports_are_counted_like_istioctl_reports_them():
    snapshot = load_paths([str(fixture("service-no-port-name.yaml"))])
    [svc1, svc2] = sorted(scan(snapshot, rules=[RULES["MKB-109"]]).findings, key=lambda f: f.resource)
    assert len(svc1.evidence["ports"]) == 2 and len(svc2.evidence["ports"]) == 1  # IST0118 ×2 and ×1


def test_ist0145s_http_duplicate_is_merged_by_istiod_and_not_reported_by_meshkb():
    """istio/istio#54643: IST0145 flags HTTP servers sharing a host; istiod merges them, nothing breaks."""
    docs = [
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": n, "namespace": "default"},
         "spec": {"selector": {"istio": "ingressgateway"},
                  "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["foo.bar"]}]}}
        for n in ("alpha", "beta")
    ]
    builder = SnapshotBuilder("parity")
    for d in docs:
        builder.add(d)
    assert scan(builder.build(), rules=[RULES["MKB-003"], RULES["MKB-101"]]).findings == []


def test_a_subset_is_reported_once_the_snapshot_holds_pods_that_it_misses():
    builder = SnapshotBuilder("parity")
    builder.add({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "httpbin-1", "namespace": "default",
                                                                  "labels": {"app": "httpbin", "version": "v1"}},
                 "spec": {"containers": [{"name": "httpbin"}]}, "status": {"phase": "Running"}})
    snapshot = load_paths([str(fixture("destinationrule-subsets-not-select-pods.yaml"))], builder=builder)
    [f] = scan(snapshot, rules=[RULES["MKB-106"]]).findings
    assert str(f.resource) == "DestinationRule default/subsets-not-select-pods"


def test_the_vendored_fixtures_are_byte_identical_to_the_shared_copy():
    if not SHARED.is_dir():
        pytest.skip(f"no shared copy at {SHARED} to compare with")
    shared = sorted(p.name for p in SHARED.iterdir() if p.suffix == ".yaml")
    assert shared == sorted(p.name for p in VENDORED.iterdir() if p.suffix == ".yaml")
    for name in shared:
        assert (VENDORED / name).read_bytes() == (SHARED / name).read_bytes(), name
