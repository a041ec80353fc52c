"""MKB-115 injection-webhook-failure: ReplicaSets that cannot create pods because the injector fails."""

from __future__ import annotations

from ..engine import Rule
from ..findings import Ref, Remediation

RULE = Rule(
    id="MKB-115",
    slug="injection-webhook-failure",
    title="Pods cannot be created: the sidecar injection webhook call fails",
    severity="error",
    description=(
        "ReplicaSets whose ReplicaFailure condition says that calling Istio's sidecar injection webhook "
        "(sidecar-injector.istio.io) failed: istiod is down or unreachable from the API server, or the webhook "
        "configuration points at a Service or revision that no longer exists. No new pods start in injected "
        "namespaces."
    ),
)


@RULE
def check(snapshot):
    findings = []
    planes_down = [p for p in snapshot.control_planes
                   if (snapshot.get("Deployment", p.namespace, p.name).spec.get("ready_replicas") or 0) == 0]
    for rs in snapshot.of_kind("ReplicaSet"):
        for cond in rs.spec.get("conditions") or ():
            if not isinstance(cond, dict) or cond.get("type") != "ReplicaFailure" or cond.get("status") != "True":
                continue
            text = str(cond.get("message") or "")
            if "failed calling webhook" not in text or "istio" not in text:
                continue
            owner = Ref("Deployment", rs.namespace, rs.owner[1]) if rs.owner and rs.owner[0] == "Deployment" else rs.ref
            message = (f"{owner} cannot create pods: the API server's call to Istio's sidecar injection webhook fails "
                       f"({text[:300]}).")
            if planes_down:
                message += " " + ", ".join(f"istiod {p.namespace}/{p.name}" for p in planes_down) + " has no ready replica."
            commands = [f"kubectl get pods -n {p.namespace} -l app=istiod" for p in snapshot.control_planes[:1]] or [
                "kubectl get pods -n istio-system -l app=istiod"]
            commands.append("kubectl get mutatingwebhookconfigurations -l app=sidecar-injector -o wide")
            if owner.kind == "Deployment":
                commands.append(f"kubectl rollout restart deployment/{owner.name} -n {owner.namespace}   # once the webhook answers")
            findings.append(RULE.finding(
                owner, message, related=[rs.ref] + [p.ref for p in planes_down],
                evidence={"replicaset": rs.name, "reason": cond.get("reason"), "message": text[:500],
                          "lastTransitionTime": cond.get("lastTransitionTime")},
                remediation=Remediation(
                    summary=("Make the webhook answer: istiod must have ready pods, the API server must reach them on "
                             "port 15017 (firewall/security group), and the webhook must point at an existing istiod "
                             "Service and revision. The ReplicaSet retries on its own afterwards."),
                    commands=commands)))
            break
    return findings
