"""MKB-106: a DestinationRule subset that selects no pods (503 UH)."""

from tests.scanner.support import docs_from_yaml, run

BASE = """
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: default}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000}]}
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-v1-1, namespace: default, labels: {app: httpbin, version: v1}}
spec: {containers: [{name: httpbin}]}
status: {phase: Running}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: default}
spec:
  host: httpbin.default.svc.cluster.local
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v3, labels: {version: v3}}
"""


def test_a_subset_whose_labels_match_no_pod_is_reported():
    [f] = run(docs_from_yaml(BASE), "MKB-106")
    assert str(f.resource) == "DestinationRule default/httpbin"
    assert f.evidence["empty_subsets"] == [{"name": "v3", "labels": {"version": "v3"}}]
    assert f.evidence["pod_label_values"] == {"version=v1": 1}
    assert "no healthy upstream" in f.message


def test_subsets_that_match_pods_are_fine():
    assert run(docs_from_yaml(BASE.replace("version: v3", "version: v1")), "MKB-106") == []


def test_node_topology_labels_are_ignored():
    docs = docs_from_yaml(BASE.replace("{version: v3}", "{version: v1, topology.kubernetes.io/zone: us-east-1a}"))
    assert run(docs, "MKB-106") == []


def test_without_pods_in_the_snapshot_nothing_is_said():
    assert run([d for d in docs_from_yaml(BASE) if d["kind"] != "Pod"], "MKB-106") == []


def test_a_service_without_any_pod_is_left_to_mkb116():
    docs = [d for d in docs_from_yaml(BASE) if d["kind"] != "Pod"] + docs_from_yaml("""
        apiVersion: v1
        kind: Pod
        metadata: {name: sleep-1, namespace: default, labels: {app: sleep}}
        spec: {containers: [{name: sleep}]}
        status: {phase: Running}
    """)
    assert run(docs, "MKB-106") == []
