"""MKB-116: a VirtualService routes to a Service none of whose pods is ready (503 UH)."""

from tests.scanner.support import docs_from_yaml, run

# A ready pod elsewhere: the snapshot holds pods, so their absence behind a Service means something.
CLIENT = """
apiVersion: v1
kind: Pod
metadata: {name: productpage-1, namespace: shop, labels: {app: productpage}}
spec: {containers: [{name: productpage}, {name: istio-proxy}]}
status: {phase: Running}
---
"""

BASE = CLIENT + """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-1, namespace: shop, labels: {app: reviews, version: v1}}
spec: {containers: [{name: reviews}, {name: istio-proxy}]}
status:
  phase: Running
  containerStatuses: [{name: reviews, ready: false}, {name: istio-proxy, ready: true}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, port: {number: 9080}}
"""

SCALED_TO_ZERO = CLIENT + """
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec: {selector: {app: ratings}, ports: [{name: http, port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ratings-v1, namespace: shop}
spec:
  replicas: 0
  selector: {matchLabels: {app: ratings, version: v1}}
  template:
    metadata: {labels: {app: ratings, version: v1}}
    spec: {containers: [{name: ratings, image: ratings:1}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front, namespace: istio-system}
spec:
  hosts: [shop.example.com]
  tcp:
  - route:
    - destination: {host: ratings.shop.svc.cluster.local, port: {number: 9080}}
"""


def test_a_route_to_a_service_whose_only_pod_is_not_ready_is_an_error():
    [f] = run(docs_from_yaml(BASE), "MKB-116")
    assert str(f.resource) == "Service shop/reviews" and f.severity == "error"
    assert "the only pod its selector app=reviews matches, reviews-v1-1, is not ready" in f.message
    assert "VirtualService shop/reviews (spec.http[0].route[0])" in f.message
    assert "routes to it, so every request sent there gets 503 'no healthy upstream' (UH)." in f.message
    assert [str(r) for r in f.related] == ["VirtualService shop/reviews"]
    assert f.evidence["not_ready_pods"] == ["reviews-v1-1"]
    assert f.remediation.commands[0] == "kubectl get pods -n shop -l app=reviews -o wide"


def test_a_ready_pod_is_enough():
    assert run(docs_from_yaml(BASE.replace("ready: false", "ready: true")), "MKB-116") == []


def test_a_service_that_publishes_not_ready_addresses_still_has_endpoints():
    docs = docs_from_yaml(BASE.replace("spec: {selector: {app: reviews},",
                                       "spec: {publishNotReadyAddresses: true, selector: {app: reviews},"))
    assert run(docs, "MKB-116") == []


def test_a_pending_or_finished_pod_is_no_endpoint():
    docs = docs_from_yaml(BASE.replace("phase: Running\n  containerStatuses", "phase: Pending\n  containerStatuses"))
    [f] = run(docs, "MKB-116")
    assert f.evidence["pods"] == 1
    docs = docs_from_yaml(BASE.replace("phase: Running\n  containerStatuses", "phase: Succeeded\n  containerStatuses"))
    [f] = run(docs, "MKB-116")
    assert "no pod matches its selector app=reviews" in f.message
    assert f.remediation.commands == ["kubectl get pods -n shop --show-labels"]


def test_a_workload_scaled_to_zero_is_a_warning_with_a_scale_command():
    [f] = run(docs_from_yaml(SCALED_TO_ZERO), "MKB-116")
    assert str(f.resource) == "Service shop/ratings" and f.severity == "warning"
    assert "Deployment shop/ratings-v1, whose pods its selector app=ratings matches, is scaled to zero" in f.message
    assert ("VirtualService istio-system/front (spec.tcp[0].route[0]) routes to it, so every TCP/TLS connection"
            in f.message)
    assert {str(r) for r in f.related} == {"VirtualService istio-system/front", "Deployment shop/ratings-v1"}
    assert f.remediation.commands == ["kubectl scale deployment/ratings-v1 -n shop --replicas=1"]


def test_a_workload_with_replicas_but_no_pods_is_an_error_pointing_at_its_events():
    [f] = run(docs_from_yaml(SCALED_TO_ZERO.replace("replicas: 0", "replicas: 2")), "MKB-116")
    assert f.severity == "error" and "no pod matches its selector" in f.message
    assert f.remediation.commands == ["kubectl describe deployment/ratings-v1 -n shop"]


def test_one_finding_per_service_names_every_route_to_it():
    docs = docs_from_yaml(BASE) + docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews-canary, namespace: shop}
        spec:
          hosts: [reviews.shop.svc.cluster.local]
          http:
          - match: [{headers: {end-user: {exact: jason}}}]
            route: [{destination: {host: reviews, subset: v1}}]
          - route: [{destination: {host: reviews.shop.svc.cluster.local}}]
    """)
    [f] = run(docs, "MKB-116")
    assert "(spec.http[1].route[0]) route to it" in f.message
    assert [r["virtual_service"] for r in f.evidence["routes"]] == ["shop/reviews", "shop/reviews-canary",
                                                                    "shop/reviews-canary"]


def test_mirrors_and_weight_zero_destinations_carry_no_client_traffic():
    docs = docs_from_yaml(BASE.replace(
        "    - destination: {host: reviews, port: {number: 9080}}",
        "    - {destination: {host: productpage}, weight: 100}\n"
        "    - {destination: {host: reviews}, weight: 0}\n"
        "    mirror: {host: reviews}"))
    docs += docs_from_yaml("""
        apiVersion: v1
        kind: Service
        metadata: {name: productpage, namespace: shop}
        spec: {selector: {app: productpage}, ports: [{name: http, port: 9080}]}
    """)
    assert run(docs, "MKB-116") == []


def test_services_without_selector_headless_or_shadowed_by_a_serviceentry_are_skipped():
    for old, new in [("spec: {selector: {app: reviews},", "spec: {"),
                     ("spec: {selector: {app: reviews},", "spec: {clusterIP: None, selector: {app: reviews},")]:
        assert run(docs_from_yaml(BASE.replace(old, new)), "MKB-116") == []
    docs = docs_from_yaml(BASE) + docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: reviews-vms, namespace: shop}
        spec:
          hosts: [reviews.shop.svc.cluster.local]
          ports: [{number: 9080, name: http, protocol: HTTP}]
          resolution: STATIC
          endpoints: [{address: 10.0.0.7}]
    """)
    assert run(docs, "MKB-116") == []


def test_without_pods_in_the_snapshot_nothing_is_said():
    assert run([d for d in docs_from_yaml(BASE) if d["kind"] != "Pod"], "MKB-116") == []


def test_a_mesh_that_spans_clusters_is_left_alone():
    istiod = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: istiod, namespace: istio-system, labels: {app: istiod}}
        spec:
          template:
            spec:
              containers:
              - name: discovery
                image: docker.io/istio/pilot:1.24.2
                env: [{name: CLUSTER_ID, value: %s}]
    """
    assert len(run(docs_from_yaml(BASE) + docs_from_yaml(istiod % "Kubernetes"), "MKB-116")) == 1
    assert run(docs_from_yaml(BASE) + docs_from_yaml(istiod % "cluster1"), "MKB-116") == []


def test_a_subset_of_a_service_without_pods_is_reported_once_by_mkb116_not_by_mkb106():
    docs = docs_from_yaml(SCALED_TO_ZERO) + docs_from_yaml("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings, namespace: shop}
        spec:
          host: ratings
          subsets: [{name: v1, labels: {version: v1}}]
    """)
    assert [(f.rule, str(f.resource)) for f in run(docs).findings] == [("MKB-116", "Service shop/ratings")]
