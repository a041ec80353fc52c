"""MKB-112: TLS origination on top of the application's own TLS."""

from tests.scanner.support import docs_from_yaml, round_trip, run

BASE = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: payments-api, namespace: shop}
spec:
  hosts: [pay.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 443, name: https, protocol: HTTPS}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments-api, namespace: shop}
spec:
  host: pay.example.com
  trafficPolicy:
    tls: {mode: SIMPLE, sni: pay.example.com}
"""


def test_simple_tls_to_a_port_declared_https_is_reported():
    [f] = run(docs_from_yaml(BASE), "MKB-112")
    assert str(f.resource) == "DestinationRule shop/payments-api"
    assert [str(r) for r in f.related] == ["ServiceEntry shop/payments-api"]


def test_origination_to_an_http_port_is_the_normal_pattern():
    assert run(docs_from_yaml(BASE.replace("name: https, protocol: HTTPS", "name: http, protocol: HTTP")), "MKB-112") == []


def test_a_service_port_named_https_counts_too():
    docs = docs_from_yaml("""
        apiVersion: v1
        kind: Service
        metadata: {name: legacy, namespace: shop}
        spec: {selector: {app: legacy}, ports: [{name: https, port: 8443}]}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: legacy, namespace: shop}
        spec: {host: legacy, trafficPolicy: {tls: {mode: SIMPLE}}}
    """)
    [f] = run(docs, "MKB-112")
    assert f.remediation.deletes  # the rule held nothing but TLS


def test_the_fix_drops_the_origination_and_round_trips():
    docs = docs_from_yaml(BASE)
    [f] = run(docs, "MKB-112")
    assert [str(r) for r in f.remediation.deletes] == ["DestinationRule shop/payments-api"]
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before
