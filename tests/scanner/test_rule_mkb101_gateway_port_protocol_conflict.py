"""MKB-101: servers on one gateway port whose protocols istiod cannot merge."""

from tests.scanner.support import docs_from_yaml, round_trip, run

GATEWAYS = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gateway-a, namespace: web, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: a-cert}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gateway-b, namespace: web, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8443, name: http, protocol: HTTP}
    hosts: [b.example.com]
"""


TCP_PAIR = """apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: db-a, namespace: data, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 31400, name: tcp, protocol: TCP}, hosts: [a.db.example.com]}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: db-b, namespace: data, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 31400, name: tcp, protocol: TCP}, hosts: [b.db.example.com]}]
"""


def test_a_plain_http_server_on_a_tls_port_is_accepted_once_like_istiod_does():
    # istiod's nonPlainTextGatewayPortsBindMap only starts counting at the second server
    assert run(docs_from_yaml(GATEWAYS), "MKB-101") == []


def test_the_third_plain_server_on_a_tls_port_is_dropped():
    docs = docs_from_yaml(GATEWAYS) + docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: gateway-c, namespace: web, creationTimestamp: "2024-03-01T00:00:00Z"}
        spec:
          selector: {istio: ingressgateway}
          servers:
          - port: {number: 8443, name: http-c, protocol: HTTP}
            hosts: [c.example.com]
    """)
    [f] = run(docs, "MKB-101")
    assert str(f.resource) == "Gateway web/gateway-c"


def test_http_and_tcp_on_one_port_drop_the_later_server():
    docs = docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: web, namespace: apps, creationTimestamp: "2024-01-01T00:00:00Z"}
        spec:
          selector: {istio: ingressgateway}
          servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [web.example.com]}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: legacy-tcp, namespace: apps, creationTimestamp: "2024-05-01T00:00:00Z"}
        spec:
          selector: {istio: ingressgateway}
          servers: [{port: {number: 80, name: tcp, protocol: TCP}, hosts: [legacy.example.com]}]
    """)
    [f] = run(docs, "MKB-101")
    assert str(f.resource) == "Gateway apps/legacy-tcp"
    assert [str(r) for r in f.related] == ["Gateway apps/web"]
    assert f.evidence["istiod_log"] == "skipping server on gateway legacy-tcp port tcp.80.TCP: conflict with existing server 80.HTTP"
    assert f.remediation.placeholders  # a free port is not something the snapshot knows


def test_two_tcp_servers_on_one_port_are_merged_by_the_fix():
    docs = docs_from_yaml(TCP_PAIR)
    [f] = run(docs, "MKB-101")
    assert str(f.resource) == "Gateway data/db-b"
    [gw] = f.remediation.objects
    assert gw["spec"]["servers"][0]["hosts"] == ["a.db.example.com", "b.db.example.com"]
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before


def test_http_servers_on_one_port_merge_and_are_not_reported():
    docs = docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: one, namespace: apps}
        spec:
          selector: {istio: ingressgateway}
          servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [same.example.com]}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: two, namespace: apps}
        spec:
          selector: {istio: ingressgateway}
          servers: [{port: {number: 80, name: http2, protocol: HTTP2}, hosts: [same.example.com]}]
    """)
    assert run(docs, "MKB-101") == []
