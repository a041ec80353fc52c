"""MKB-114 proxy-not-ready-no-config: istio-proxy running for minutes but never ready."""

from __future__ import annotations

from datetime import timedelta

from ..engine import Rule
from ..findings import Ref, Remediation
from ..snapshot import parse_time

RULE = Rule(
    id="MKB-114",
    slug="proxy-not-ready-no-config",
    title="istio-proxy has been running for minutes without becoming ready",
    severity="error",
    description=(
        "Pods whose istio-proxy container (classic or native sidecar, or gateway) has been running for more than "
        "5 minutes (relative to the snapshot) and is still not ready: Envoy has no accepted configuration, "
        "because it cannot reach istiod on port 15012 or rejects what istiod sends (often an EnvoyFilter). "
        "Reported once per owning workload."
    ),
)

GRACE = timedelta(minutes=5)


def _proxy_status(pod):
    for st in list(pod.spec["statuses"]) + list(pod.spec["init_statuses"]):
        if isinstance(st, dict) and st.get("name") == "istio-proxy":
            return st
    return None


@RULE
def check(snapshot):
    now = snapshot.now
    by_workload: dict[Ref, list] = {}
    for pod in snapshot.of_kind("Pod"):
        if not pod.spec["sidecar"] or pod.spec["phase"] != "Running":
            continue
        st = _proxy_status(pod)
        if st is None or st.get("ready") is not False:
            continue
        running = (st.get("state") or {}).get("running") if isinstance(st.get("state"), dict) else None
        started = parse_time((running or {}).get("startedAt"))
        if started is None or now - started < GRACE:
            continue
        by_workload.setdefault(snapshot.workload_of(pod), []).append((pod, st, int((now - started).total_seconds() // 60)))
    findings = []
    for ref, items in sorted(by_workload.items()):
        minutes = max(m for *_, m in items)
        pod = items[0][0]
        message = (f"istio-proxy in {len(items)} pod{'s' if len(items) > 1 else ''} of {ref} has been running for up to "
                   f"{minutes} minutes without becoming ready: Envoy has no accepted configuration (istiod unreachable "
                   f"on 15012, or config rejected). The pods receive no traffic.")
        findings.append(RULE.finding(
            ref, message, related=[p.ref for p, _, _ in items[:10]],
            evidence={"pods": [{"pod": p.name, "restartCount": st.get("restartCount", 0), "minutes_not_ready": m}
                               for p, st, m in items[:10]], "revision": snapshot.pod_revision(pod)},
            remediation=Remediation(
                summary=("Find out why Envoy has no config: the istio-proxy log says whether it cannot connect to istiod "
                         "or which resource Envoy rejected. Fix the connectivity (NetworkPolicy, firewall, istiod "
                         "health) or remove the EnvoyFilter/config that is rejected; the proxy becomes ready by itself."),
                commands=[f"kubectl logs {pod.name} -n {pod.namespace} -c istio-proxy --tail=50",
                          "istioctl proxy-status"])))
    return findings
