"""MKB-105: a VirtualService routes to a subset no DestinationRule defines."""

from tests.scanner.support import docs_from_yaml, round_trip, run

BASE = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-1, namespace: bookinfo, labels: {app: reviews, version: v1}}
spec: {containers: [{name: reviews}, {name: istio-proxy}]}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2-1, namespace: bookinfo, labels: {app: reviews, version: v2}}
spec: {containers: [{name: reviews}, {name: istio-proxy}]}
status: {phase: Running}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: v2}}]}]
"""


def test_a_route_to_an_undefined_subset_is_reported():
    [f] = run(docs_from_yaml(BASE), "MKB-105")
    assert str(f.resource) == "VirtualService bookinfo/reviews"
    assert f.evidence["missing"] == [{"where": "spec.http[0].route[0]", "host": "reviews", "subset": "v2",
                                      "destination_rule": "bookinfo/reviews"}]


def test_a_defined_subset_is_fine_also_by_fqdn():
    docs = docs_from_yaml(BASE.replace("subset: v2", "subset: v1").replace("host: reviews, subset",
                                                                            "host: reviews.bookinfo.svc.cluster.local, subset"))
    assert run(docs, "MKB-105") == []


def test_the_fix_adds_the_subset_with_the_pods_version_label_and_round_trips():
    docs = docs_from_yaml(BASE)
    [f] = run(docs, "MKB-105")
    [dr] = f.remediation.objects
    assert dr["spec"]["subsets"][-1] == {"name": "v2", "labels": {"version": "v2"}}
    before, after = round_trip(docs, f)
    assert f.fingerprint not in after and set(after) <= before


def test_nothing_is_said_when_no_destination_rules_were_collected():
    docs = [d for d in docs_from_yaml(BASE) if d["kind"] != "DestinationRule"]
    assert run(docs, "MKB-105") == []
