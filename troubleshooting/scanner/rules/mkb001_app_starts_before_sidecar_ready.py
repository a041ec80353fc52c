"""MKB-001 app-starts-before-sidecar-ready: application containers crash at start-up before Envoy has config."""

from __future__ import annotations

from datetime import timedelta

from ..engine import Rule
from ..findings import Patch, Remediation
from ..findings import Ref
from ..mesh import load_yaml_text, truthy, workload
from ..snapshot import parse_time

RULE = Rule(
    id="MKB-001",
    slug="app-starts-before-sidecar-ready",
    title="Application containers fail at start-up while the sidecar is not ready yet",
    severity="warning",
    description=(
        "Pods with an injected (classic) istio-proxy sidecar whose application containers exited with an error "
        "within the first minute of the pod's life, while holdApplicationUntilProxyStarts is in effect neither "
        "in the pod's proxy.istio.io/config annotation nor in the defaultConfig of the mesh config of the pod's "
        "revision. Reported once per owning workload. Pods without a sidecar, with hold on, or with a native "
        "sidecar (init container with restartPolicy: Always) are not reported."
    ),
)

STARTUP_WINDOW = timedelta(seconds=60)
HOLD = "holdApplicationUntilProxyStarts"
ANNOTATION = "proxy.istio.io/config"


def hold_in_annotation(annotations: dict) -> bool | None:
    cfg = load_yaml_text(annotations.get(ANNOTATION))
    if cfg is None or HOLD not in cfg:
        return None
    return truthy(cfg.get(HOLD))


def _early_failures(pod):
    start = parse_time(pod.spec["start_time"]) or parse_time(pod.created)
    if start is None:
        return []
    out = []
    for st in pod.spec["statuses"]:
        if not isinstance(st, dict) or st.get("name") == "istio-proxy":
            continue
        runs = []
        last = (st.get("lastState") or {}).get("terminated") if isinstance(st.get("lastState"), dict) else None
        if last and (st.get("restartCount") or 0) > 0:
            runs.append(last)
        current = (st.get("state") or {}).get("terminated") if isinstance(st.get("state"), dict) else None
        if current:
            runs.append(current)
        for term in runs:
            if not isinstance(term, dict) or term.get("exitCode") in (0, None):
                continue
            finished = parse_time(term.get("finishedAt"))
            if finished is None or finished - start > STARTUP_WINDOW:
                continue
            waiting = ((st.get("state") or {}).get("waiting") or {}).get("reason") if isinstance(st.get("state"), dict) else None
            out.append({
                "pod": pod.name,
                "container": st.get("name"),
                "restartCount": st.get("restartCount") or 0,
                "exitCode": term.get("exitCode"),
                "reason": term.get("reason"),
                "podStartTime": pod.spec["start_time"] or pod.created,
                "finishedAt": term.get("finishedAt"),
                "secondsAfterPodStart": int((finished - start).total_seconds()),
                "now": waiting or ("running" if st.get("ready") else "not ready"),
            })
            break
    return out


@RULE
def check(snapshot):
    by_workload: dict[Ref, list] = {}
    for pod in snapshot.of_kind("Pod"):
        if pod.spec["sidecar"] != "container" or pod.spec["hold_hook"]:
            continue
        failures = _early_failures(pod)
        if not failures:
            continue
        if hold_in_annotation(pod.annotations):
            continue
        ref = snapshot.workload_of(pod)
        by_workload.setdefault(ref, []).append((pod, failures))
    findings = []
    for ref, items in sorted(by_workload.items()):
        owner = workload(snapshot, ref)
        template_ann = owner.spec.get("template_annotations", {}) if owner is not None and owner.kind != "Pod" else {}
        if hold_in_annotation(template_ann):
            continue  # already fixed in the template; pods from the old template are being replaced
        pod = items[0][0]
        revision = snapshot.pod_revision(pod)
        mesh = snapshot.mesh_config(revision)
        default_cfg = mesh.get("defaultConfig") if isinstance(mesh.get("defaultConfig"), dict) else {}
        if truthy(default_cfg.get(HOLD)):
            continue
        failures = [f for _, fs in items for f in fs]
        crashing = any(f["now"] in ("CrashLoopBackOff", "Error") for f in failures)
        containers = sorted({f["container"] for f in failures})
        mesh_src = mesh.get("_source")
        message = (
            f"{len(items)} pod{'s' if len(items) > 1 else ''} of {ref} ran application container"
            f"{'s' if len(containers) > 1 else ''} {', '.join(containers)} that exited with an error within "
            f"{max(f['secondsAfterPodStart'] for f in failures)} s of the pod starting, next to a classic istio-proxy "
            f"sidecar, while holdApplicationUntilProxyStarts is not set (not in the {ANNOTATION} annotation, not in "
            f"defaultConfig of the mesh config for revision {revision}"
            f"{' in ConfigMap ' + mesh_src.short if mesh_src else ', no mesh config found'}). Outbound calls made "
            f"before Envoy has its listeners fail, so the application dies at start-up."
        )
        evidence = {
            "revision": revision,
            "mesh_config": str(mesh_src) if mesh_src else None,
            "holdApplicationUntilProxyStarts": {"pod_annotation": None, "mesh_default_config": default_cfg.get(HOLD)},
            "sidecar": "classic container (not a native sidecar)",
            "proxy_image": pod.spec["proxy_image"],
            "failures": failures[:10],
        }
        findings.append(RULE.finding(
            ref, message, related=[p.ref for p, _ in items[:10]], evidence=evidence,
            severity="error" if crashing else None,
            remediation=_remediation(ref, owner, pod)))
    return findings


def _hold_config(annotations: dict) -> str:
    cfg = load_yaml_text(annotations.get(ANNOTATION)) or {}
    cfg = {k: v for k, v in cfg.items() if k != HOLD}
    cfg[HOLD] = True
    import yaml

    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=False)


def _remediation(ref: Ref, owner, pod) -> Remediation:
    if ref.kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        source = owner.spec.get("template_annotations", {}) if owner is not None else pod.annotations
        value = _hold_config(source)
        patch = Patch(ref, {"spec": {"template": {"metadata": {"annotations": {ANNOTATION: value}}}}})
        return Remediation(
            summary=(f"Make istio-proxy start and become ready before the application containers of {ref}: set "
                     f"{HOLD}: true in the pod template's {ANNOTATION} annotation (the patch keeps any settings "
                     f"already there and rolls the pods). To cover every workload, set "
                     f"meshConfig.defaultConfig.{HOLD}: true instead, or use native sidecars "
                     f"(ENABLE_NATIVE_SIDECARS=true on istiod, Kubernetes 1.29 or later)."),
            patches=[patch])
    return Remediation(
        summary=(f"{ref} has no Deployment, StatefulSet or DaemonSet whose template can be patched: add the annotation "
                 f"{ANNOTATION}: \"{HOLD}: true\" to the pod template where it is defined (Job, CronJob or manifest) "
                 f"and recreate the pod."),
        commands=[f"# pod template annotation:  {ANNOTATION}: '{{\"{HOLD}\": true}}'"])
