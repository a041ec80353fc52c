"""MKB-102: HTTPS servers of one gateway port sharing a certificate (HTTP/2 connection reuse 404)."""

from tests.scanner.support import docs_from_yaml, round_trip, run

TWO = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw1, namespace: istio-system, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [service1.test.com]
    tls: {mode: SIMPLE, credentialName: wildcard-test-com}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw2, namespace: istio-system, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [service2.test.com]
    tls: {mode: SIMPLE, credentialName: wildcard-test-com}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: service2, namespace: istio-system}
spec:
  hosts: [service2.test.com]
  gateways: [gw2]
  http: [{route: [{destination: {host: service2.apps.svc.cluster.local}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: service1, namespace: istio-system}
spec:
  hosts: [service1.test.com]
  gateways: [gw1]
  http: [{route: [{destination: {host: service1.apps.svc.cluster.local}}]}]
"""


def test_both_gateways_sharing_a_wildcard_certificate_are_reported():
    findings = run(docs_from_yaml(TWO), "MKB-102")
    assert sorted(str(f.resource) for f in findings) == ["Gateway istio-system/gw1", "Gateway istio-system/gw2"]
    assert "404" in findings[0].message


def test_different_certificates_are_fine():
    docs = docs_from_yaml(TWO.replace("credentialName: wildcard-test-com}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService",
                                      "credentialName: other-cert}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService", 1))
    assert run(docs, "MKB-102") == []


def test_passthrough_servers_are_not_reported():
    assert run(docs_from_yaml(TWO.replace("mode: SIMPLE", "mode: PASSTHROUGH")), "MKB-102") == []


def test_other_ports_do_not_share_a_connection():
    docs = docs_from_yaml(TWO.replace("hosts: [service2.test.com]", "hosts: [service2.test.com]", 1)
                          .replace("{number: 443, name: https, protocol: HTTPS}\n    hosts: [service2.test.com]",
                                   "{number: 8443, name: https, protocol: HTTPS}\n    hosts: [service2.test.com]"))
    assert run(docs, "MKB-102") == []


def test_two_servers_in_one_gateway_are_reported_too():
    docs = docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: both, namespace: istio-system}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 443, name: https-1, protocol: HTTPS}
            hosts: [a.test.com]
            tls: {mode: SIMPLE, credentialName: wildcard}
          - port: {number: 443, name: https-2, protocol: HTTPS}
            hosts: [b.test.com]
            tls: {mode: SIMPLE, credentialName: wildcard}
    """)
    [f] = run(docs, "MKB-102")
    [gw] = f.remediation.objects
    assert gw["spec"]["servers"] == [{"port": {"number": 443, "name": "https-1", "protocol": "HTTPS"},
                                      "hosts": ["a.test.com", "b.test.com"],
                                      "tls": {"mode": "SIMPLE", "credentialName": "wildcard"}}]


def test_the_merge_fix_moves_hosts_and_virtualservices_and_round_trips():
    docs = docs_from_yaml(TWO)
    f = run(docs, "MKB-102")[0]
    assert [str(r) for r in f.remediation.deletes] == ["Gateway istio-system/gw2"]
    vs = next(o for o in f.remediation.objects if o["kind"] == "VirtualService")
    assert vs["metadata"]["name"] == "service2" and vs["spec"]["gateways"] == ["gw1"]
    before, after = round_trip(docs, f)
    assert not any(x.rule == "MKB-102" for x in after.values())
    assert set(after) <= before


def test_moved_hosts_keep_their_namespace_restriction():
    docs = docs_from_yaml(TWO.replace("hosts: [service2.test.com]", 'hosts: ["./service2.test.com"]'))
    f = run(docs, "MKB-102")[0]
    gw = next(o for o in f.remediation.objects if o["kind"] == "Gateway")
    assert gw["spec"]["servers"][0]["hosts"] == ["service1.test.com", "istio-system/service2.test.com"]
