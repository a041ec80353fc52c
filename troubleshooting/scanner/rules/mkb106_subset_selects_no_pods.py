"""MKB-106 no-healthy-upstream-uh: a DestinationRule subset that selects no pod (503 UH)."""

from __future__ import annotations

from collections import Counter

from ..engine import Rule
from ..findings import Remediation, placeholder
from ..mesh import dr_object, host_of

RULE = Rule(
    id="MKB-106",
    slug="no-healthy-upstream-uh",
    title="DestinationRule subset selects no pods: 503 no healthy upstream",
    severity="error",
    description=(
        "A subset of a DestinationRule for a Kubernetes Service whose labels, together with the Service's "
        "selector, match no pod in the Service's namespace (IST0173). Traffic routed to the subset gets 503 "
        "'no healthy upstream' (UH). Node topology labels are ignored like istioctl does. Only evaluated when the "
        "snapshot contains pods, and only for Services that have pods (a Service without any is MKB-116's case)."
    ),
)

_TOPOLOGY = ("topology.kubernetes.io/", "topology.istio.io/", "kubernetes.io/hostname", "failure-domain.beta.kubernetes.io/")


@RULE
def check(snapshot):
    if not snapshot.of_kind("Pod"):
        return []  # pods were not collected: cannot tell
    findings = []
    for dr in snapshot.of_kind("DestinationRule"):
        svc = snapshot.services_by_host.get(host_of(snapshot, dr.spec["host"], dr.namespace))
        if svc is None or not svc.spec.get("selector"):
            continue
        pods = [p for p in snapshot.pods_of_service(svc) if p.spec["phase"] not in ("Succeeded", "Failed")]
        if not pods:
            continue  # the Service itself has no pods: MKB-116 reports that once, not once per subset
        empty = []
        for i, subset in enumerate(dr.spec.get("subsets") or ()):
            labels = {k: v for k, v in (subset.get("labels") or {}).items() if not k.startswith(_TOPOLOGY)}
            if not labels and subset.get("labels"):
                continue
            if not any(all(p.labels.get(k) == str(v) for k, v in labels.items()) for p in pods):
                empty.append((i, subset, labels))
        if not empty:
            continue
        seen = Counter(f"{k}={v}" for p in pods for k, v in p.labels.items() if k in {k for _, _, l in empty for k in l})
        message = (f"DestinationRule {dr.namespace}/{dr.name} for Service {svc.namespace}/{svc.name} has subset"
                   f"{'s' if len(empty) > 1 else ''} "
                   + ", ".join(f"{s.get('name')} ({', '.join(f'{k}={v}' for k, v in l.items())})" for _, s, l in empty)
                   + f" that select{'s' if len(empty) == 1 else ''} none of the Service's {len(pods)} pods; requests "
                   f"routed there get 503 no healthy upstream (UH).")
        evidence = {"service": f"{svc.namespace}/{svc.name}", "service_selector": svc.spec["selector"],
                    "empty_subsets": [{"name": s.get("name"), "labels": l} for _, s, l in empty],
                    "pod_label_values": dict(sorted(seen.items())), "pods": len(pods)}
        spec = dict(dr.spec)
        subsets = [dict(s) for s in spec.get("subsets") or ()]
        for i, s, l in empty:
            subsets[i] = {**subsets[i], "labels": {k: placeholder(f"a value some {svc.name} pods carry for {k}; they have: "
                                                                  + (", ".join(sorted(x for x in seen if x.startswith(k + "="))) or "none"))
                                                   for k in l}}
        spec["subsets"] = subsets
        findings.append(RULE.finding(
            dr.ref, message, related=[svc.ref], evidence=evidence,
            remediation=Remediation(summary=("Make the subset labels match labels the Service's pods really carry (or "
                                             "deploy the missing version before routing to it)."),
                                    objects=[dr_object(dr, spec)]),
            discriminator=",".join(s.get("name") for _, s, _ in empty)))
    return findings
