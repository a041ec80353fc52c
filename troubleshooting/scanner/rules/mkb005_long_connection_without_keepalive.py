"""MKB-005 long-connection-without-keepalive: long-lived external TCP destinations without TCP keepalive."""

from __future__ import annotations

import copy

from .. import protocol as proto
from ..engine import Rule
from ..findings import Remediation
from ..mesh import dr_object, effective_destination_rule, ports_of, se_port_protocol, tcp_keepalive, unique_name

RULE = Rule(
    id="MKB-005",
    slug="long-connection-without-keepalive",
    title="Long-lived external TCP connections without TCP keepalive",
    severity="warning",
    description=(
        "MESH_EXTERNAL ServiceEntries with TCP, TLS, MySQL, Mongo or Redis ports (pooled, long-lived "
        "connections) for which no DestinationRule visible from the ServiceEntry's namespace sets "
        "connectionPool.tcp.tcpKeepalive (the most specific host match wins, wildcards included) and no mesh-wide "
        "meshConfig.tcpKeepalive exists. Idle connections are then silently dropped by load balancers, NAT and "
        "firewalls and the next request on them fails."
    ),
)

LONG_LIVED = {proto.TCP, proto.TLS, proto.MYSQL, proto.MONGO, proto.REDIS, ""}
KEEPALIVE = {"time": "180s", "interval": "60s", "probes": 3}


@RULE
def check(snapshot):
    if any(isinstance(cfg.get("tcpKeepalive"), dict) for cfg in snapshot.mesh_configs().values()):
        return []
    findings = []
    for se in snapshot.of_kind("ServiceEntry"):
        if (se.spec.get("location") or "MESH_EXTERNAL") != "MESH_EXTERNAL":
            continue
        ports = [p for p in ports_of(se) if se_port_protocol(p) in LONG_LIVED]
        if not ports:
            continue
        missing = []
        for host in se.spec.get("hosts") or ():
            dr = effective_destination_rule(snapshot, host, se.namespace)
            uncovered = [p for p in ports if dr is None or tcp_keepalive(dr, p.get("number")) is None]
            if uncovered:
                missing.append((host, dr, uncovered))
        if not missing:
            continue
        hosts_text = ", ".join(h for h, _, _ in missing)
        ports_text = ", ".join(f"{p.get('number')}/{p.get('protocol') or 'TCP'}" for p in ports)
        existing = [dr for _, dr, _ in missing if dr is not None]
        message = (
            f"ServiceEntry {se.namespace}/{se.name} sends long-lived {ports_text} connections to {hosts_text} outside "
            f"the mesh, and no DestinationRule "
            + (f"(the one that applies, {existing[0].namespace}/{existing[0].name}, has no tcpKeepalive) " if existing else "")
            + "sets connectionPool.tcp.tcpKeepalive for them. Middleboxes with idle timeouts (cloud load balancers, "
            "NAT gateways, firewalls) forget idle connections silently; the next request on a pooled connection gets "
            "a reset, seen as rare 500/503 errors."
        )
        evidence = {
            "hosts": [h for h, _, _ in missing],
            "ports": [{"number": p.get("number"), "protocol": p.get("protocol") or None} for p in ports],
            "location": se.spec.get("location") or "MESH_EXTERNAL (default)",
            "destination_rules": {h: (f"{dr.namespace}/{dr.name}" if dr else None) for h, dr, _ in missing},
            "mesh_tcpKeepalive": None,
        }
        findings.append(RULE.finding(se.ref, message, related=[dr.ref for dr in existing], evidence=evidence,
                                     remediation=_remediation(snapshot, se, missing),
                                     discriminator=",".join(sorted(h for h, _, _ in missing))))
    return findings


def _with_keepalive(tp: dict | None) -> dict:
    tp = copy.deepcopy(tp) if tp else {}
    pool = tp.setdefault("connectionPool", {})
    tcp = pool.setdefault("tcp", {})
    tcp["tcpKeepalive"] = dict(KEEPALIVE)
    return tp


def _remediation(snapshot, se, missing) -> Remediation:
    objects = []
    for host, dr, _ in missing:
        if dr is not None and dr.namespace == se.namespace and dr.spec.get("host") == host:
            spec = copy.deepcopy(dr.spec)
            spec["trafficPolicy"] = _with_keepalive(spec.get("trafficPolicy"))
            for item in spec["trafficPolicy"].get("portLevelSettings") or ():
                keep = ((item.get("connectionPool") or {}).get("tcp") or {})
                if "tcpKeepalive" in keep or (item.get("connectionPool") or {}).get("tcp") is not None:
                    item.setdefault("connectionPool", {}).setdefault("tcp", {})["tcpKeepalive"] = dict(KEEPALIVE)
            objects.append(dr_object(dr, spec))
            continue
        spec = {"host": host}
        if dr is not None:
            # keep what the currently applying (wildcard or other-namespace) rule does, e.g. TLS origination
            base = copy.deepcopy(dr.spec)
            base.pop("host", None)
            base.pop("exportTo", None)
            base.pop("workloadSelector", None)
            spec.update(base)
        spec["trafficPolicy"] = _with_keepalive(spec.get("trafficPolicy"))
        if se.spec.get("exportTo"):
            spec["exportTo"] = list(se.spec["exportTo"])
        base_name = f"{se.name}-keepalive" if len(missing) == 1 else f"{se.name}-{host.replace('*', 'wildcard')}-keepalive"
        name = unique_name(snapshot, "DestinationRule", se.namespace, base_name.replace(".", "-").lower())
        objects.append({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                        "metadata": {"name": name, "namespace": se.namespace}, "spec": spec})
    return Remediation(
        summary=(f"Turn on TCP keepalive on the sidecars' connections to {', '.join(h for h, _, _ in missing)}: probe "
                 f"after 180 s idle, every 60 s, give up after 3 probes. The idle time must stay below the smallest "
                 f"idle timeout on the path (Azure LB 4 min, AWS NLB 350 s); use v1beta1 before Istio 1.22. "
                 f"meshConfig.tcpKeepalive sets the same for every destination."),
        objects=objects)
