"""MKB-110: DestinationRule TLS mode vs the destination's PeerAuthentication."""

from tests.scanner.support import docs_from_yaml, round_trip, run

BASE = """
apiVersion: v1
kind: Service
metadata: {name: payments, namespace: pay}
spec: {selector: {app: payments}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: payments-1, namespace: pay, labels: {app: payments}}
spec: {containers: [{name: payments}, {name: istio-proxy}]}
status: {phase: Running}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: payments, namespace: pay}
spec:
  host: payments
  trafficPolicy:
    connectionPool: {http: {http1MaxPendingRequests: 100}}
    tls: {mode: DISABLE}
"""


def test_disable_towards_mesh_wide_strict_is_an_error():
    [f] = run(docs_from_yaml(BASE), "MKB-110")
    assert str(f.resource) == "DestinationRule pay/payments"
    assert "PeerAuthentication istio-system/default" in f.message


def test_permissive_or_istio_mutual_is_fine():
    assert run(docs_from_yaml(BASE.replace("mode: STRICT", "mode: PERMISSIVE")), "MKB-110") == []
    assert run(docs_from_yaml(BASE.replace("mode: DISABLE", "mode: ISTIO_MUTUAL")), "MKB-110") == []


def test_a_port_level_exception_in_a_workload_policy_is_respected():
    docs = docs_from_yaml(BASE) + docs_from_yaml("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: payments, namespace: pay}
        spec:
          selector: {matchLabels: {app: payments}}
          mtls: {mode: STRICT}
          portLevelMtls: {"8080": {mode: PERMISSIVE}}
    """)
    assert run(docs, "MKB-110") == []


def test_istio_mutual_towards_pods_without_sidecars_is_an_error():
    docs = docs_from_yaml(BASE.replace("mode: DISABLE", "mode: ISTIO_MUTUAL").replace(", {name: istio-proxy}", ""))
    [f] = run(docs, "MKB-110")
    assert "none of its 1 running pods has a sidecar" in f.message
    assert f.remediation.objects[0]["spec"]["trafficPolicy"]["tls"] == {"mode": "DISABLE"}


def test_the_fix_switches_to_istio_mutual_and_round_trips():
    docs = docs_from_yaml(BASE)
    [f] = run(docs, "MKB-110")
    tp = f.remediation.objects[0]["spec"]["trafficPolicy"]
    assert tp == {"connectionPool": {"http": {"http1MaxPendingRequests": 100}}, "tls": {"mode": "ISTIO_MUTUAL"}}
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before
