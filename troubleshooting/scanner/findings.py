"""Findings: what a detector reports, with a stable fingerprint and copy-ready remediation."""

from __future__ import annotations

import hashlib
import json
import shlex
from dataclasses import dataclass, field

import yaml

SEVERITIES = ("info", "warning", "error")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
PLACEHOLDER_PREFIX = "<FILL-IN:"


@dataclass(frozen=True, order=True)
class Ref:
    """A Kubernetes object reference: kind, namespace ("" when cluster-scoped) and name."""

    kind: str
    namespace: str
    name: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "namespace": self.namespace, "name": self.name}

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def short(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def placeholder(what: str) -> str:
    """A value the snapshot cannot know, clearly marked so nobody applies it by accident."""
    return f"{PLACEHOLDER_PREFIX} {what}>"


_PLURALS = {
    "Service": "service",
    "Deployment": "deployment",
    "StatefulSet": "statefulset",
    "DaemonSet": "daemonset",
    "ReplicaSet": "replicaset",
    "Pod": "pod",
    "ConfigMap": "configmap",
    "Namespace": "namespace",
    "Gateway": "gateways.networking.istio.io",
    "VirtualService": "virtualservices.networking.istio.io",
    "DestinationRule": "destinationrules.networking.istio.io",
    "ServiceEntry": "serviceentries.networking.istio.io",
    "EnvoyFilter": "envoyfilters.networking.istio.io",
    "PeerAuthentication": "peerauthentications.security.istio.io",
}


def kubectl_target(ref: Ref) -> str:
    resource = _PLURALS.get(ref.kind, ref.kind.lower())
    ns = f" -n {shlex.quote(ref.namespace)}" if ref.namespace else ""
    return f"{resource} {shlex.quote(ref.name)}{ns}"


@dataclass
class Patch:
    """A ``kubectl patch``: a JSON merge patch (``merge``) or a JSON patch (``json``) on one object."""

    target: Ref
    body: dict | list
    type: str = "merge"

    def command(self) -> str:
        body = json.dumps(self.body, separators=(",", ":"), sort_keys=False)
        return f"kubectl patch {kubectl_target(self.target)} --type {self.type} -p {shlex.quote(body)}"


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper, data):
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(objects) -> str:
    """Objects as a multi-document YAML stream, keys in the order they were built."""
    return yaml.dump_all(list(objects), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=120)


@dataclass
class Remediation:
    """How to fix a finding.

    ``objects`` are complete objects to ``kubectl apply`` (a corrected Gateway, a new
    DestinationRule, ...); ``patches`` are ``kubectl patch`` commands where a patch is the natural fix;
    ``deletes`` are objects to remove; ``commands`` are other shell steps (a rollout restart).
    Values the snapshot cannot know are marked with :func:`placeholder`.
    """

    summary: str
    objects: list = field(default_factory=list)
    patches: list = field(default_factory=list)
    deletes: list = field(default_factory=list)
    commands: list = field(default_factory=list)

    @property
    def yaml(self) -> str:
        return dump_yaml(self.objects) if self.objects else ""

    def all_commands(self) -> list[str]:
        out = []
        if self.objects:
            out.append("kubectl apply -f -   # with the YAML above on stdin")
        out.extend(p.command() for p in self.patches)
        out.extend(f"kubectl delete {kubectl_target(ref)}" for ref in self.deletes)
        out.extend(self.commands)
        return out

    @property
    def placeholders(self) -> list[str]:
        text = self.yaml + "\n".join(self.all_commands())
        found = []
        start = 0
        while True:
            i = text.find(PLACEHOLDER_PREFIX, start)
            if i < 0:
                break
            j = text.find(">", i)
            found.append(text[i : j + 1])
            start = j + 1
        return sorted(set(found))

    def to_dict(self) -> dict:
        return {
            "summary": self.summary,
            "yaml": self.yaml,
            "commands": self.all_commands(),
            "placeholders": self.placeholders,
        }


@dataclass
class Finding:
    rule: str
    article: str
    severity: str
    resource: Ref
    message: str
    related: list = field(default_factory=list)
    evidence: dict = field(default_factory=dict)
    remediation: Remediation | None = None
    discriminator: str = ""
    documentation_url: str = ""
    origin: str = ""  # the file (or "cluster") the resource came from; used by SARIF
    line: int = 0  # where the resource starts in that file, 0 when unknown

    @property
    def fingerprint(self) -> str:
        """Stable across scans: rule, object and what on the object (a port, a host), no wording."""
        text = "|".join((self.rule, self.resource.kind, self.resource.namespace, self.resource.name,
                         self.discriminator))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "article": self.article,
            "severity": self.severity,
            "resource": self.resource.to_dict(),
            "related": [r.to_dict() for r in self.related],
            "message": self.message,
            "evidence": self.evidence,
            "fingerprint": self.fingerprint,
            "documentation_url": self.documentation_url,
            "remediation": self.remediation.to_dict() if self.remediation else None,
        }
