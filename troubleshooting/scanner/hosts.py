"""Host names as Istio compares them (``pkg/config/host``)."""

from __future__ import annotations

DEFAULT_DOMAIN = "cluster.local"


def fqdn(host: str, namespace: str, domain: str = DEFAULT_DOMAIN) -> str:
    """Resolve a short name the way istiod does: a name without dots is a Service in ``namespace``.

    Names with dots are taken literally (``reviews.default`` is *not* expanded by Istio).
    """
    if not host or "." in host or host == "*":
        return host
    return f"{host}.{namespace}.svc.{domain}"


def matches(a: str, b: str) -> bool:
    """``host.Name.Matches``: true when the two names overlap (either may be a wildcard)."""
    if a == b:
        return True
    a_wild = a.startswith("*")
    b_wild = b.startswith("*")
    if a_wild:
        if b_wild:
            # both wildcards: the longer suffix must end with the shorter one
            if len(a) > len(b):
                return a[1:].endswith(b[1:])
            return b[1:].endswith(a[1:])
        return b.endswith(a[1:])
    if b_wild:
        return a.endswith(b[1:])
    return False


def covers(wide: str, narrow: str) -> bool:
    """``host.Name.SubsetOf`` reversed: every name ``narrow`` matches is also matched by ``wide``."""
    if wide == narrow:
        return True
    if wide.startswith("*"):
        if narrow.startswith("*"):
            return narrow[1:].endswith(wide[1:])
        return narrow.endswith(wide[1:])
    return False


def specificity(host: str) -> tuple[int, int]:
    """Sort key: exact names before wildcards, longer wildcards before shorter ones."""
    return (0 if not host.startswith("*") else 1, -len(host))


def split_namespaced(host: str, default_namespace: str) -> tuple[str, str]:
    """Split a Gateway/Sidecar ``ns/host`` entry; ``./h`` means the object's namespace, ``*/h`` any."""
    if "/" not in host:
        return "*", host
    ns, name = host.split("/", 1)
    if ns == ".":
        ns = default_namespace
    return ns, name


def wildcard_candidates(host: str):
    """Every name that covers ``host``: itself, then ``*.<suffix>`` for each shorter suffix, then ``*``.

    ``a.b.com`` -> ``a.b.com``, ``*.b.com``, ``*.com``, ``*``. Lets an index answer "which rules cover this
    host" with a few dictionary lookups instead of a scan.
    """
    seen = {host}
    yield host
    parts = host.split(".")
    for i in range(1, len(parts)):
        candidate = "*." + ".".join(parts[i:])
        if candidate not in seen:
            seen.add(candidate)
            yield candidate
    if "*" not in seen:
        yield "*"
