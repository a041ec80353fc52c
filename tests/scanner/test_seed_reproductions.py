"""The five seed failures, reproduced by hand, are found; their near-misses produce nothing at all."""

import pytest

from tests.scanner.support import fixture_docs, run

SEEDS = {
    "seed1-app-starts-before-sidecar-ready.yaml": {("MKB-001", "Deployment shop/orders")},
    "seed2-externalname-hijacks-port.yaml": {("MKB-002", "Service default/my-externalname")},
    "seed3-gateway-duplicate-tls-host.yaml": {("MKB-003", "Gateway default/test2"),
                                               ("MKB-006", "Service istio-system/istio-ingressgateway")},
    "seed4-server-first-port-conflict.yaml": {("MKB-004", "Service default/irrelevant-svc"),
                                               ("MKB-004", "Service tools/admin-ui"),
                                               ("MKB-005", "ServiceEntry default/mysql-2"),
                                               ("MKB-108", "ServiceEntry default/mysql-2")},
    "seed5-long-connection-without-keepalive.yaml": {("MKB-005", "ServiceEntry app-a/baidu-https"),
                                                      ("MKB-006", "Service istio-system/istio-ingressgateway")},
}
NEAR_MISSES = ["nearmiss1-hold-enabled.yaml", "nearmiss2-externalname-modern-istio.yaml",
               "nearmiss3-gateways-that-do-not-collide.yaml", "nearmiss4-tcp-declared-ports.yaml",
               "nearmiss5-keepalive-configured.yaml"]


@pytest.mark.parametrize("name", SEEDS)
def test_each_seed_reproduction_yields_exactly_its_findings(name):
    report = run(fixture_docs(name))
    assert {(f.rule, str(f.resource)) for f in report.findings} == SEEDS[name]
    assert report.warnings == []


@pytest.mark.parametrize("name", NEAR_MISSES)
def test_each_near_miss_yields_no_finding_at_all(name):
    report = run(fixture_docs(name))
    assert [(f.rule, str(f.resource), f.message) for f in report.findings] == []
    assert report.warnings == []
