"""MKB-105 subset-not-found: a VirtualService routes to a subset no DestinationRule defines."""

from __future__ import annotations

import copy

from ..engine import Rule
from ..findings import Remediation, placeholder
from ..mesh import dr_object, host_of, route_destinations

RULE = Rule(
    id="MKB-105",
    slug="subset-not-found",
    title="VirtualService routes to a subset that no DestinationRule defines",
    severity="error",
    description=(
        "A route or mirror destination of a VirtualService names a subset that no DestinationRule for that host "
        "(visible from the VirtualService's namespace) defines. istiod drops the destination's cluster and "
        "requests get 503 (NC, no cluster found) or 500. Same resources as istioctl's IST0101 for subsets."
    ),
)


@RULE
def check(snapshot):
    if snapshot.scanned.get("DestinationRule", 0) == 0 and not snapshot.of_kind("DestinationRule"):
        return []  # DestinationRules were not collected: cannot tell
    findings = []
    for vs in snapshot.of_kind("VirtualService"):
        missing = []
        for where, dest, _ in route_destinations(vs):
            subset, host = dest.get("subset"), dest.get("host")
            if not subset or not isinstance(host, str):
                continue
            fqdn = host_of(snapshot, host, vs.namespace)
            drs = snapshot.destination_rules_for(fqdn, vs.namespace)
            if any(s.get("name") == subset for dr in drs for s in dr.spec.get("subsets") or ()):
                continue
            missing.append((where, host, fqdn, subset, drs[0] if drs else None))
        if not missing:
            continue
        text = "; ".join(f"{where} → {host} subset {subset!r}" for where, host, _, subset, _ in missing)
        message = (f"VirtualService {vs.namespace}/{vs.name} routes to subsets that no DestinationRule defines ({text}); "
                   f"istiod has no cluster for them and those requests fail with 503 (NC) or 500.")
        evidence = {"missing": [{"where": w, "host": h, "subset": s,
                                 "destination_rule": f"{dr.namespace}/{dr.name}" if dr else None}
                                for w, h, _, s, dr in missing]}
        related = sorted({dr.ref for *_, dr in missing if dr is not None})
        findings.append(RULE.finding(vs.ref, message, related=related, evidence=evidence,
                                     remediation=_remediation(snapshot, vs, missing),
                                     discriminator=",".join(sorted(f"{f}/{s}" for _, _, f, s, _ in missing))))
    return findings


def _labels_for(snapshot, fqdn: str, subset: str):
    svc = snapshot.services_by_host.get(fqdn)
    if svc is None:
        return None
    pods = snapshot.pods_of_service(svc)
    if any(p.labels.get("version") == subset for p in pods):
        return {"version": subset}
    return None


def _remediation(snapshot, vs, missing) -> Remediation:
    changed: dict = {}
    new: dict = {}
    for _, host, fqdn, subset, dr in missing:
        labels = _labels_for(snapshot, fqdn, subset) or {
            "version": placeholder(f"labels of the {host} pods subset {subset} should select")}
        entry = {"name": subset, "labels": labels}
        if dr is not None:
            spec = changed.setdefault(dr.key, (dr, copy.deepcopy(dr.spec)))[1]
            if subset not in [s.get("name") for s in spec.setdefault("subsets", [])]:
                spec["subsets"].append(entry)
        else:
            spec = new.setdefault(fqdn, {"host": host, "subsets": []})
            if subset not in [s["name"] for s in spec["subsets"]]:
                spec["subsets"].append(entry)
    objects = [dr_object(dr, spec) for dr, spec in changed.values()]
    for fqdn, spec in new.items():
        short = spec["host"].split(".")[0]
        objects.append({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                        "metadata": {"name": short, "namespace": vs.namespace}, "spec": spec})
    return Remediation(summary=("Define the missing subsets in the DestinationRule for the host (or route to a subset "
                                "that exists). Subset labels must select running pods of the Service."),
                       objects=objects)
