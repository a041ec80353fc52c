"""MKB-107: pods without a sidecar in a namespace labelled for injection."""

from tests.scanner.support import docs_from_yaml, run

BASE = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Pod
metadata:
  name: cart-5d8f9-abcde
  namespace: shop
  labels: {app: cart, pod-template-hash: 5d8f9}
  ownerReferences: [{kind: ReplicaSet, name: cart-5d8f9, controller: true}]
spec: {containers: [{name: cart}]}
status: {phase: Running}
"""


def test_a_pod_without_sidecar_in_an_injected_namespace_is_reported_per_workload():
    [f] = run(docs_from_yaml(BASE), "MKB-107")
    assert str(f.resource) == "Deployment shop/cart"
    assert f.remediation.commands == ["kubectl rollout restart deployment/cart -n shop"]


def test_opted_out_host_network_and_finished_pods_are_fine():
    for change in ('labels: {app: cart, pod-template-hash: 5d8f9, sidecar.istio.io/inject: "false"}',):
        assert run(docs_from_yaml(BASE.replace("labels: {app: cart, pod-template-hash: 5d8f9}", change)), "MKB-107") == []
    assert run(docs_from_yaml(BASE.replace("spec: {containers: [{name: cart}]}",
                                           "spec: {hostNetwork: true, containers: [{name: cart}]}")), "MKB-107") == []
    assert run(docs_from_yaml(BASE.replace("phase: Running", "phase: Succeeded")), "MKB-107") == []


def test_an_annotation_opt_out_counts_unless_the_label_says_otherwise():
    docs = docs_from_yaml(BASE.replace("namespace: shop\n", 'namespace: shop\n  annotations: {sidecar.istio.io/inject: "false"}\n', 1))
    assert run(docs, "MKB-107") == []


def test_a_namespace_without_injection_labels_is_fine():
    assert run(docs_from_yaml(BASE.replace("labels: {istio-injection: enabled}", "labels: {team: shop}")), "MKB-107") == []


def test_a_pod_with_a_sidecar_is_fine():
    assert run(docs_from_yaml(BASE.replace("[{name: cart}]", "[{name: cart}, {name: istio-proxy}]")), "MKB-107") == []


def test_a_revision_label_for_a_missing_control_plane_says_so_and_relabels():
    docs = docs_from_yaml(BASE.replace("istio-injection: enabled", "istio.io/rev: 1-19")) + docs_from_yaml("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: istiod-1-22, namespace: istio-system, labels: {app: istiod, istio.io/rev: 1-22}}
        spec:
          selector: {matchLabels: {app: istiod}}
          template: {spec: {containers: [{name: discovery, image: "docker.io/istio/pilot:1.22.3"}]}}
    """)
    [f] = run(docs, "MKB-107")
    assert "no istiod serves" in f.message
    assert f.remediation.commands[0] == "kubectl label namespace shop istio.io/rev=1-22 --overwrite"
