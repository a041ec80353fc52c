"""MKB-110 mtls-mode-conflict: a DestinationRule TLS mode the destination's PeerAuthentication rejects."""

from __future__ import annotations

import copy

from ..engine import Rule
from ..findings import Remediation
from ..mesh import dr_object, host_of, peer_authentication_mode

RULE = Rule(
    id="MKB-110",
    slug="mtls-mode-conflict",
    title="DestinationRule TLS mode conflicts with the destination's mTLS",
    severity="error",
    description=(
        "A DestinationRule for a Kubernetes Service sets tls.mode DISABLE, SIMPLE or MUTUAL while the Service's "
        "pods run sidecars under a STRICT PeerAuthentication (workload, namespace or mesh-wide, port-level "
        "included), or ISTIO_MUTUAL while none of the Service's pods has a sidecar. An explicit tls block turns "
        "off auto mTLS for the host and every request fails with 503."
    ),
)


def _tls_blocks(dr):
    tp = dr.spec.get("trafficPolicy") or {}
    if tp.get("tls"):
        yield "spec.trafficPolicy.tls", None, tp["tls"]
    for i, item in enumerate(tp.get("portLevelSettings") or ()):
        if item.get("tls"):
            yield f"spec.trafficPolicy.portLevelSettings[{i}].tls", (item.get("port") or {}).get("number"), item["tls"]


@RULE
def check(snapshot):
    findings = []
    for dr in snapshot.of_kind("DestinationRule"):
        svc = snapshot.services_by_host.get(host_of(snapshot, dr.spec["host"], dr.namespace))
        if svc is None or not svc.spec.get("selector"):
            continue
        pods = [p for p in snapshot.pods_of_service(svc) if p.spec["phase"] == "Running"]
        if not pods:
            continue
        with_sidecar = [p for p in pods if p.spec["sidecar"]]
        problems = []
        for where, port, tls in _tls_blocks(dr):
            mode = (tls.get("mode") or "DISABLE").upper()
            ports = [p for p in svc.spec["ports"] if port is None or p["port"] == port]
            if mode in ("DISABLE", "SIMPLE", "MUTUAL") and with_sidecar:
                for sp in ports:
                    target = sp["targetPort"] if isinstance(sp["targetPort"], int) else sp["port"]
                    server_mode, pa = peer_authentication_mode(snapshot, with_sidecar[0], target)
                    if server_mode == "STRICT":
                        problems.append((where, mode, sp["port"], "STRICT", pa))
                        break
            elif mode == "ISTIO_MUTUAL" and not with_sidecar:
                problems.append((where, mode, port, "no sidecar", None))
        if not problems:
            continue
        where, mode, port, server, pa = problems[0]
        if server == "STRICT":
            message = (f"DestinationRule {dr.namespace}/{dr.name} sets tls.mode {mode} ({where}) for Service "
                       f"{svc.namespace}/{svc.name}, whose pods run sidecars under STRICT mTLS"
                       f"{' (PeerAuthentication ' + pa.namespace + '/' + pa.name + ')' if pa else ''}: the servers "
                       f"accept only Istio mTLS, so every request fails with 503 (connection reset).")
        else:
            message = (f"DestinationRule {dr.namespace}/{dr.name} sets tls.mode ISTIO_MUTUAL ({where}) for Service "
                       f"{svc.namespace}/{svc.name}, but none of its {len(pods)} running pods has a sidecar to "
                       f"terminate mTLS: every request fails with 503.")
        evidence = {"service": f"{svc.namespace}/{svc.name}",
                    "conflicts": [{"where": w, "client_tls_mode": m, "port": p, "server": s,
                                   "peer_authentication": f"{x.namespace}/{x.name}" if x else None}
                                  for w, m, p, s, x in problems],
                    "pods_with_sidecar": len(with_sidecar), "pods": len(pods)}
        related = [svc.ref] + [x.ref for *_, x in problems if x is not None]
        findings.append(RULE.finding(dr.ref, message, related=related, evidence=evidence,
                                     remediation=_remediation(dr, problems)))
    return findings


def _remediation(dr, problems) -> Remediation:
    spec = copy.deepcopy(dr.spec)
    tp = spec.get("trafficPolicy") or {}
    for where, mode, port, server, _ in problems:
        new_mode = "ISTIO_MUTUAL" if server == "STRICT" else "DISABLE"
        if where == "spec.trafficPolicy.tls":
            tp["tls"] = {"mode": new_mode}
        else:
            for item in tp.get("portLevelSettings") or ():
                if (item.get("port") or {}).get("number") == port:
                    item["tls"] = {"mode": new_mode}
    spec["trafficPolicy"] = tp
    new_modes = sorted({"ISTIO_MUTUAL" if s == "STRICT" else "DISABLE" for *_, s, _ in problems})
    return Remediation(summary=(f"Set tls.mode {' / '.join(new_modes)} in DestinationRule {dr.namespace}/{dr.name} "
                                f"(or remove the tls block and let auto mTLS choose)."),
                       objects=[dr_object(dr, spec)])
