"""MKB-102 gateway-shared-certificate-404: one certificate on several HTTPS servers of one gateway port."""

from __future__ import annotations

from collections import defaultdict

from .. import protocol as proto
from ..engine import Rule
from ..findings import Remediation, placeholder
from ..gateways import PASSTHROUGH_MODES, gateway_object, gateway_workloads, merge_servers_remediation, server_tls

RULE = Rule(
    id="MKB-102",
    slug="gateway-shared-certificate-404",
    title="HTTPS servers on one gateway port share a certificate: HTTP/2 connection reuse gets 404",
    severity="warning",
    description=(
        "Two or more HTTPS servers that terminate TLS on the same port of the same gateway workload, with "
        "different hosts and the same certificate (credentialName, or serverCertificate and privateKey). Browsers "
        "reuse an HTTP/2 connection opened for one host for the other (the certificate is valid for both); the "
        "gateway routes by the filter chain of the first host and answers 404 NR. Unlike istioctl's IST0138 it "
        "also reports servers inside one Gateway and both sides of a pair."
    ),
)


def _cert_key(tls: dict):
    if tls.get("credentialName"):
        return ("credentialName", tls["credentialName"])
    if tls.get("serverCertificate"):
        return ("serverCertificate", tls.get("serverCertificate"), tls.get("privateKey"))
    return None


@RULE
def check(snapshot):
    per_gateway: dict = {}
    for wl in gateway_workloads(snapshot):
        groups = defaultdict(list)
        for out in wl.outcomes:
            tls = server_tls(out.server)
            if not out.kept or tls is None or out.protocol != proto.HTTPS:
                continue
            if (tls.get("mode") or "SIMPLE") in PASSTHROUGH_MODES + ("ISTIO_MUTUAL",):
                continue
            key = _cert_key(tls)
            if key is not None:
                groups[(out.port, out.bind, key)].append(out)
        for (port, bind, key), outs in groups.items():
            if len(outs) < 2:
                continue
            for out in outs:
                entry = per_gateway.setdefault((out.gateway.key, port, key), {"out": out, "group": outs, "wl": []})
                entry["wl"].append(wl)
    findings = []
    for (gw_key, port, key), entry in sorted(per_gateway.items(), key=lambda kv: kv[0]):
        out, group = entry["out"], entry["group"]
        gw = out.gateway
        others = [o for o in group if o is not out]
        cert = f"{key[0]} {key[1]}"
        message = (
            f"Gateway {gw.namespace}/{gw.name} serves {', '.join(out.hosts)} on port {out.declared_port} with "
            f"{cert}, which "
            + ", ".join(f"{'the same Gateway' if o.gateway is gw else 'Gateway ' + o.gateway.namespace + '/' + o.gateway.name}"
                        f" (servers[{o.index}]: {', '.join(o.hosts)})" for o in others)
            + " also use on the same gateway workload. Each server is its own filter chain with its own routes; a "
            "browser that reuses an HTTP/2 connection opened for one of these hosts for another gets 404 (NR "
            "route_not_found), intermittently."
        )
        evidence = {
            "port": out.declared_port,
            "certificate": {key[0]: key[1]},
            "servers": [{"gateway": f"{o.gateway.namespace}/{o.gateway.name}", "server_index": o.index,
                         "hosts": o.hosts, "mode": (server_tls(o.server) or {}).get("mode") or "SIMPLE"} for o in group],
            "gateway_workloads": sorted({w.description for w in entry["wl"]}),
        }
        related = [o.gateway.ref for o in others]
        for w in entry["wl"]:
            related.extend(w.pod_refs)
        findings.append(RULE.finding(gw.ref, message, related=related, evidence=evidence,
                                     remediation=_remediation(snapshot, group, cert),
                                     discriminator=f"{out.declared_port}/{cert}"))
    return findings


def _remediation(snapshot, group, cert) -> Remediation:
    modes = {(server_tls(o.server) or {}).get("mode") or "SIMPLE" for o in group}
    keep, absorb = group[0], group[1:]
    if len(modes) == 1:
        return merge_servers_remediation(
            snapshot, keep, absorb,
            summary=(f"Serve every host that uses {cert} on port {keep.declared_port} from one server: the hosts of "
                     + ", ".join(f"servers[{o.index}] of {o.gateway.namespace}/{o.gateway.name}" for o in absorb)
                     + f" move into servers[{keep.index}] of Gateway {keep.gateway.namespace}/{keep.gateway.name}, "
                     f"whose route table then holds all of them, and the VirtualServices follow. Alternatively give "
                     f"each host a certificate of its own that does not cover the others."))
    objects = []
    for o in absorb:
        servers = [dict(s) for s in o.gateway.spec.get("servers") or ()]
        server = dict(servers[o.index])
        tls = dict(server.get("tls") or {})
        tls.pop("serverCertificate", None)
        tls.pop("privateKey", None)
        tls["credentialName"] = placeholder(f"a Secret whose certificate covers only {', '.join(o.hosts)}")
        server["tls"] = tls
        servers[o.index] = server
        objects.append(gateway_object(o.gateway, servers))
    return Remediation(summary=("The servers use different TLS modes, so they cannot be merged: give each of them a "
                                "certificate that covers only its own hosts."), objects=objects)
