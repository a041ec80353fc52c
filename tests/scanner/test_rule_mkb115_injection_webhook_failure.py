"""MKB-115: ReplicaSets that cannot create pods because the injection webhook fails."""

from tests.scanner.support import docs_from_yaml, run

BASE = """
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: cart-5d8f9
  namespace: shop
  ownerReferences: [{kind: Deployment, name: cart, controller: true}]
spec: {selector: {matchLabels: {app: cart}}, template: {spec: {containers: [{name: cart}]}}}
status:
  conditions:
  - type: ReplicaFailure
    status: "True"
    reason: FailedCreate
    message: 'Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": context deadline exceeded'
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system, labels: {app: istiod}}
spec:
  selector: {matchLabels: {app: istiod}}
  template: {spec: {containers: [{name: discovery, image: "docker.io/istio/pilot:1.22.3"}]}}
status: {readyReplicas: 0}
"""


def test_a_failed_webhook_call_is_reported_on_the_deployment():
    [f] = run(docs_from_yaml(BASE), "MKB-115")
    assert str(f.resource) == "Deployment shop/cart"
    assert "istiod istio-system/istiod has no ready replica" in f.message


def test_other_create_failures_are_not_this_failure():
    docs = docs_from_yaml(BASE.replace('failed calling webhook "namespace.sidecar-injector.istio.io"', 'exceeded quota: compute'))
    assert run(docs, "MKB-115") == []
