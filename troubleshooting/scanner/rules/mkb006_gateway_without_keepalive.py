"""MKB-006 long-connection-without-keepalive (advisory): a load-balanced ingress gateway without SO_KEEPALIVE."""

from __future__ import annotations

from ..engine import Rule
from ..findings import Remediation
from ..mesh import is_gateway_pod, unique_name

RULE = Rule(
    id="MKB-006",
    slug="long-connection-without-keepalive",
    title="Ingress gateway behind a cloud load balancer without TCP keepalive on its listeners",
    severity="info",
    description=(
        "Advisory. An ingress gateway exposed through a Service of type LoadBalancer with no EnvoyFilter that sets "
        "the SO_KEEPALIVE socket option on its listeners. Long-lived client connections through the load balancer "
        "can then be dropped when idle; enable keepalive on the gateway when clients keep connections open."
    ),
)

SOL_SOCKET, SO_KEEPALIVE = 1, 9
_GATEWAY_LABELS = (("istio", "ingressgateway"), ("app", "istio-ingressgateway"))


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _sets_keepalive(ef) -> bool:
    for patch in ef.spec.get("configPatches") or ():
        if not isinstance(patch, dict) or patch.get("applyTo") != "LISTENER":
            continue
        context = ((patch.get("match") or {}).get("context")) or "ANY"
        if context not in ("GATEWAY", "ANY"):
            continue
        value = ((patch.get("patch") or {}).get("value")) or {}
        for opt in value.get("socket_options") or value.get("socketOptions") or ():
            if (isinstance(opt, dict) and _int(opt.get("level")) == SOL_SOCKET and _int(opt.get("name")) == SO_KEEPALIVE
                    and _int(opt.get("int_value", opt.get("intValue"))) == 1):
                return True
    return False


def _filter_applies(ef, labels: dict, namespace: str, root: str) -> bool:
    if ef.namespace not in (namespace, root):
        return False
    selector = (ef.spec.get("workloadSelector") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


@RULE
def check(snapshot):
    filters = [ef for ef in snapshot.of_kind("EnvoyFilter") if _sets_keepalive(ef)]
    root = snapshot.root_namespace
    findings = []
    for svc in snapshot.of_kind("Service"):
        if svc.spec["type"] != "LoadBalancer" or not svc.spec.get("selector"):
            continue
        pods = snapshot.pods_of_service(svc)
        gateway_pods = [p for p in pods if is_gateway_pod(p)]
        if pods and not gateway_pods:
            continue
        if not pods and not any(svc.spec["selector"].get(k) == v for k, v in _GATEWAY_LABELS):
            continue
        labels = gateway_pods[0].labels if gateway_pods else svc.spec["selector"]
        if any(_filter_applies(ef, labels, svc.namespace, root) for ef in filters):
            continue
        ports = [p for p in svc.spec["ports"] if p["port"] != 15021 and p["name"] != "status-port"]
        message = (
            f"Ingress gateway Service {svc.namespace}/{svc.name} is exposed through a cloud load balancer (type "
            f"LoadBalancer) and no EnvoyFilter sets SO_KEEPALIVE on the gateway's listeners. Client connections that "
            f"stay open through the load balancer can be dropped when idle; the next request on them fails with a "
            f"reset. Worth enabling where clients keep long-lived connections."
        )
        evidence = {
            "service_type": "LoadBalancer",
            "ports": [{"port": p["port"], "targetPort": p["targetPort"], "name": p["name"] or None} for p in ports],
            "gateway_pods": [p.name for p in gateway_pods[:5]],
            "keepalive_envoyfilters": [],
        }
        findings.append(RULE.finding(svc.ref, message, related=[p.ref for p in gateway_pods[:5]], evidence=evidence,
                                     remediation=_remediation(snapshot, svc, ports)))
    return findings


def _remediation(snapshot, svc, ports) -> Remediation:
    patches = []
    for p in ports:
        target = p["targetPort"] if isinstance(p["targetPort"], int) else p["port"]
        patches.append({
            "applyTo": "LISTENER",
            "match": {"context": "GATEWAY", "listener": {"portNumber": target}},
            "patch": {"operation": "MERGE", "value": {"socket_options": [
                {"level": 1, "name": 9, "int_value": 1, "state": "STATE_PREBIND"},
                {"level": 6, "name": 4, "int_value": 180, "state": "STATE_PREBIND"},
                {"level": 6, "name": 5, "int_value": 60, "state": "STATE_PREBIND"},
                {"level": 6, "name": 6, "int_value": 3, "state": "STATE_PREBIND"},
            ]}},
        })
    name = unique_name(snapshot, "EnvoyFilter", svc.namespace, f"{svc.name}-tcp-keepalive")
    ef = {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "EnvoyFilter",
        "metadata": {"name": name, "namespace": svc.namespace},
        "spec": {"workloadSelector": {"labels": dict(svc.spec["selector"])}, "configPatches": patches},
    }
    targets = ", ".join(str(pp["match"]["listener"]["portNumber"]) for pp in patches)
    return Remediation(
        summary=(f"Set SO_KEEPALIVE on the gateway's listeners (container ports {targets}, the targetPorts of "
                 f"{svc.namespace}/{svc.name}): first probe after 180 s idle (TCP_KEEPIDLE), every 60 s "
                 f"(TCP_KEEPINTVL), 3 probes (TCP_KEEPCNT). Keep the idle time below the load balancer's idle timeout. "
                 f"Connections accepted after the change get the timer."),
        objects=[ef])
