"""MKB-006: advisory for load-balanced ingress gateways without SO_KEEPALIVE."""

import copy

from tests.scanner.support import docs_from_yaml, fixture_docs, round_trip, run

SEED = "seed5-long-connection-without-keepalive.yaml"

KEEPALIVE_FILTER = """
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ingress-gateway-socket-options, namespace: istio-system}
spec:
  workloadSelector: {labels: {istio: ingressgateway}}
  configPatches:
  - applyTo: LISTENER
    match: {context: GATEWAY, listener: {name: 0.0.0.0_443, portNumber: 443}}
    patch:
      operation: MERGE
      value:
        socket_options:
        - {int_value: 1, level: 1, name: 9, state: STATE_PREBIND}
"""


def seed():
    return copy.deepcopy(fixture_docs(SEED))


def test_a_load_balanced_ingress_gateway_without_keepalive_gets_an_advisory():
    [f] = run(seed(), "MKB-006")
    assert str(f.resource) == "Service istio-system/istio-ingressgateway"
    assert f.severity == "info"
    assert f.article == "long-connection-without-keepalive"


def test_an_envoyfilter_setting_so_keepalive_silences_it():
    assert run(seed() + docs_from_yaml(KEEPALIVE_FILTER), "MKB-006") == []


def test_a_filter_for_sidecars_only_does_not_count():
    docs = seed() + docs_from_yaml(KEEPALIVE_FILTER.replace("context: GATEWAY", "context: SIDECAR_INBOUND"))
    assert len(run(docs, "MKB-006")) == 1


def test_a_cluster_internal_gateway_is_not_reported():
    docs = seed()
    next(d for d in docs if d["kind"] == "Service")["spec"]["type"] = "ClusterIP"
    assert run(docs, "MKB-006") == []


def test_a_load_balancer_in_front_of_ordinary_pods_is_not_reported():
    docs = docs_from_yaml("""
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec: {type: LoadBalancer, selector: {app: web}, ports: [{name: http, port: 80, targetPort: 8080}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: shop, labels: {app: web}}
        spec: {containers: [{name: web}, {name: istio-proxy, args: [proxy, sidecar]}]}
    """)
    assert run(docs, "MKB-006") == []


def test_the_envoyfilter_targets_the_real_container_ports_and_round_trips():
    docs = seed()
    [f] = run(docs, "MKB-006")
    [ef] = f.remediation.objects
    assert [p["match"]["listener"]["portNumber"] for p in ef["spec"]["configPatches"]] == [8443]
    assert ef["spec"]["workloadSelector"]["labels"] == {"app": "istio-ingressgateway", "istio": "ingressgateway"}
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before
