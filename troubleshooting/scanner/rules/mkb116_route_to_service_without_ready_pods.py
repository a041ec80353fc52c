"""MKB-116 no-healthy-upstream-uh: a VirtualService routes to a Service none of whose pods is ready (503 UH)."""

from __future__ import annotations

import shlex

from ..engine import Rule
from ..findings import Remediation
from ..mesh import host_of, route_destinations, spans_clusters

RULE = Rule(
    id="MKB-116",
    slug="no-healthy-upstream-uh",
    title="VirtualService routes to a Service with no ready pod: 503 no healthy upstream",
    severity="error",
    description=(
        "A route destination of a VirtualService (http, tcp or tls; mirrors and weight-0 entries carry no client "
        "traffic and are left out) whose host is a Kubernetes Service with a selector that no running and ready pod "
        "matches (not-ready pods count when the Service publishes them). The Envoy cluster has no endpoint and every "
        "request routed there gets 503 'no healthy upstream' (UH). A warning when every Deployment or StatefulSet the "
        "selector would match is scaled to zero. Headless and ExternalName Services, Services without a selector "
        "(manual endpoints) and hosts a ServiceEntry also declares are skipped. Only evaluated when the snapshot has "
        "pods and the mesh does not span clusters (other clusters' endpoints are not in the snapshot). WorkloadEntries "
        "are not read: a Service whose only endpoints are VMs is reported and needs a suppression. One finding per "
        "Service."
    ),
)

_SHOWN_ROUTES = 3


@RULE
def check(snapshot):
    if not snapshot.of_kind("Pod") or spans_clusters(snapshot):
        return []  # pods were not collected, or endpoints may live in another cluster: cannot tell
    routed: dict = {}
    for vs in snapshot.of_kind("VirtualService"):
        for where, dest, weight in route_destinations(vs, mirrors=False):
            host = dest.get("host")
            if not isinstance(host, str) or weight == 0:
                continue
            fqdn = host_of(snapshot, host, vs.namespace)
            svc = snapshot.services_by_host.get(fqdn)
            if (svc is None or not svc.spec.get("selector") or svc.spec["type"] == "ExternalName"
                    or svc.spec["clusterIP"] == "None" or fqdn in snapshot.serviceentries_by_host):
                continue
            routed.setdefault(svc.key, (svc, []))[1].append((vs, where))
    findings = []
    for svc, via in routed.values():
        pods = [p for p in snapshot.pods_of_service(svc) if p.spec["phase"] not in ("Succeeded", "Failed")]
        if not any(_endpoint(p, svc) for p in pods):
            findings.append(_finding(snapshot, svc, pods, via))
    return findings


def _endpoint(pod, svc) -> bool:
    """Whether the pod is an endpoint of the Service: running (or phase unknown to the snapshot) and ready."""
    if pod.spec["phase"] in ("Pending", "Unknown"):
        return False
    if svc.spec["publish_not_ready"]:
        return True
    return all(not isinstance(st, dict) or st.get("ready") is not False for st in pod.spec["statuses"])


def _finding(snapshot, svc, pods, via):
    selector = svc.spec["selector"]
    labels = ",".join(f"{k}={v}" for k, v in selector.items())
    workloads = [w for kind in ("Deployment", "StatefulSet") for w in snapshot.in_namespace(kind, svc.namespace)
                 if all(w.spec["template_labels"].get(k) == v for k, v in selector.items())]
    scaled_to_zero = bool(workloads) and all(w.spec["replicas"] == 0 for w in workloads)
    names = " and ".join(f"{w.kind} {w.namespace}/{w.name}" for w in workloads)
    if scaled_to_zero:
        why = (f"{names}, whose pods its selector {labels} matches, {'is' if len(workloads) == 1 else 'are'} "
               f"scaled to zero (replicas: 0)")
    elif len(pods) == 1:
        why = f"the only pod its selector {labels} matches, {pods[0].name}, is not ready"
    elif pods:
        why = f"none of the {len(pods)} pods its selector {labels} matches is ready"
    else:
        why = f"no pod matches its selector {labels}"
    shown = "; ".join(f"VirtualService {vs.namespace}/{vs.name} ({where})" for vs, where in via[:_SHOWN_ROUTES])
    more = f" and {len(via) - _SHOWN_ROUTES} more routes" if len(via) > _SHOWN_ROUTES else ""
    sections = {where.split("[", 1)[0] for _, where in via}
    effects = (["every request sent there gets 503 'no healthy upstream'"] if "spec.http" in sections else []) + (
        ["every TCP/TLS connection sent there is closed at once"] if sections - {"spec.http"} else [])
    message = (f"Service {svc.namespace}/{svc.name} has no ready pod: {why}. {shown}{more} "
               f"route{'' if len(via) > 1 else 's'} to it, so {' and '.join(effects)} (UH).")
    evidence = {"selector": selector, "pods": len(pods), "not_ready_pods": [p.name for p in pods[:10]],
                "routes": [{"virtual_service": f"{vs.namespace}/{vs.name}", "where": where} for vs, where in via],
                "workloads": [{"workload": f"{w.kind} {w.namespace}/{w.name}", "replicas": w.spec["replicas"]}
                              for w in workloads]}
    related = [vs.ref for vs, _ in via] + [w.ref for w in workloads]
    return RULE.finding(svc.ref, message, related=related, evidence=evidence,
                        remediation=_remediation(svc, labels, pods, workloads, scaled_to_zero),
                        severity="warning" if scaled_to_zero else None)


def _remediation(svc, labels, pods, workloads, scaled_to_zero) -> Remediation:
    ns = shlex.quote(svc.namespace)
    if scaled_to_zero:
        return Remediation(
            summary=(f"Scale the workload behind Service {svc.namespace}/{svc.name} back up, or stop routing to the "
                     f"Service while it is meant to stay at zero (KEDA, Knative and similar scale-to-zero setups "
                     f"route through their own activator instead)."),
            commands=[f"kubectl scale {w.kind.lower()}/{shlex.quote(w.name)} -n {ns} --replicas=1" for w in workloads])
    if pods:
        return Remediation(
            summary=(f"Find out why the pods of Service {svc.namespace}/{svc.name} are not ready (failing readiness "
                     f"probe, crash loop, pending scheduling, image pull) and fix that; requests succeed again as soon "
                     f"as one pod is ready."),
            commands=[f"kubectl get pods -n {ns} -l {shlex.quote(labels)} -o wide",
                      f"kubectl describe pods -n {ns} -l {shlex.quote(labels)}"])
    if workloads:
        return Remediation(
            summary=(f"The workload the selector of Service {svc.namespace}/{svc.name} matches has no pods although it "
                     f"is not scaled to zero: its events say why pods are not created (quota, admission webhook, "
                     f"missing service account)."),
            commands=[f"kubectl describe {w.kind.lower()}/{shlex.quote(w.name)} -n {ns}" for w in workloads])
    return Remediation(
        summary=(f"No pod carries the labels {labels}: deploy the workload behind Service {svc.namespace}/{svc.name}, "
                 f"or correct the Service's spec.selector to labels its pods really carry."),
        commands=[f"kubectl get pods -n {ns} --show-labels"])
