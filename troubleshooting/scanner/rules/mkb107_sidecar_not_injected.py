"""MKB-107 sidecar-not-injected: pods without istio-proxy in a namespace labelled for injection."""

from __future__ import annotations

from ..engine import Rule
from ..findings import Ref, Remediation
from ..snapshot import SYSTEM_NAMESPACES

RULE = Rule(
    id="MKB-107",
    slug="sidecar-not-injected",
    title="Pods run without a sidecar in a namespace labelled for injection",
    severity="warning",
    description=(
        "Running pods without istio-proxy in a namespace labelled istio-injection=enabled or istio.io/rev=<rev>, "
        "or carrying the label sidecar.istio.io/inject=true, that do not opt out (sidecar.istio.io/inject=false "
        "label or annotation) and do not use the host network (IST0103). Typically created before the label was "
        "set, or while the injection webhook was down, or the revision label names a control plane that does not "
        "exist. Reported once per owning workload."
    ),
)


def _opted_out(pod) -> bool:
    label = pod.labels.get("sidecar.istio.io/inject")
    if label is not None:
        return label.lower() == "false"
    return pod.annotations.get("sidecar.istio.io/inject", "").lower() == "false"


@RULE
def check(snapshot):
    revisions = set(snapshot.istio_revisions)
    by_workload: dict[Ref, list] = {}
    reasons: dict[Ref, str] = {}
    for pod in snapshot.of_kind("Pod"):
        if pod.spec["sidecar"] or pod.spec["host_network"] or pod.namespace in SYSTEM_NAMESPACES:
            continue
        if pod.spec["phase"] in ("Succeeded", "Failed") or _opted_out(pod):
            continue
        injection = snapshot.namespace_injection(pod.namespace)
        if injection == "enabled":
            why = f"namespace {pod.namespace} is labelled istio-injection=enabled"
        elif injection and injection.startswith("rev:"):
            rev = injection[4:]
            why = f"namespace {pod.namespace} is labelled istio.io/rev={rev}"
            if revisions and rev not in revisions:
                why += f", a revision no istiod serves (installed: {', '.join(sorted(revisions))})"
        elif pod.labels.get("sidecar.istio.io/inject", "").lower() == "true":
            why = "the pod is labelled sidecar.istio.io/inject=true"
        else:
            continue
        ref = snapshot.workload_of(pod)
        by_workload.setdefault(ref, []).append(pod)
        reasons[ref] = why
    findings = []
    for ref, pods in sorted(by_workload.items()):
        why = reasons[ref]
        message = (f"{len(pods)} running pod{'s' if len(pods) > 1 else ''} of {ref} "
                   f"{'have' if len(pods) > 1 else 'has'} no istio-proxy sidecar although {why}: "
                   f"{'they run' if len(pods) > 1 else 'it runs'} outside the mesh (no mTLS, policies or routing), "
                   f"and STRICT mTLS peers refuse {'their' if len(pods) > 1 else 'its'} plaintext calls.")
        evidence = {"reason": why, "pods": [p.name for p in pods[:10]],
                    "containers": pods[0].spec["containers"]}
        findings.append(RULE.finding(ref, message, related=[p.ref for p in pods[:10]], evidence=evidence,
                                     remediation=_remediation(snapshot, ref, why, revisions)))
    return findings


def _remediation(snapshot, ref, why, revisions) -> Remediation:
    commands = []
    summary = ""
    if "no istiod serves" in why:
        ns = ref.namespace
        good = "default" if "default" in revisions else sorted(revisions)[0]
        commands.append(f"kubectl label namespace {ns} istio.io/rev={good} --overwrite")
        summary = f"Point namespace {ns} at a revision that exists ({good}), then recreate the pods. "
    if ref.kind in ("Deployment", "StatefulSet", "DaemonSet"):
        commands.append(f"kubectl rollout restart {ref.kind.lower()}/{ref.name} -n {ref.namespace}")
        summary += (f"Recreate the pods of {ref} so that the injection webhook adds the sidecar (check the "
                    f"webhook is healthy first if pods keep coming up without it).")
    else:
        commands.append(f"kubectl delete pod {ref.name} -n {ref.namespace}   # recreate it from its manifest afterwards"
                        if ref.kind == "Pod" else f"# recreate the pods of {ref} (e.g. delete them; the controller recreates them)")
        summary += f"Recreate the pods of {ref} so that the injection webhook adds the sidecar."
    return Remediation(summary=summary.strip(), commands=commands)
