"""MKB-117 rbac-access-denied: an AuthorizationPolicy keyed on an identity its workloads can never see (403)."""

from __future__ import annotations

import copy

from ..engine import Rule
from ..findings import Remediation, placeholder
from ..hosts import wildcard_candidates
from ..mesh import (is_gateway_pod, istio_object, match_labels, mtls_disabled, policy_pods,
                    request_authentication_applies, service_host, unique_name)

RULE = Rule(
    id="MKB-117",
    slug="rbac-access-denied",
    title="AuthorizationPolicy needs an identity its workloads never receive: 403 RBAC: access denied",
    severity="error",
    description=(
        "An AuthorizationPolicy (ALLOW or DENY, no targetRef) on sidecar pods present in the snapshot whose rules "
        "depend on an identity no request can carry there. Peer identity (source principals, namespaces, "
        "serviceAccounts, source.principal/source.namespace conditions) needs mTLS, which the effective "
        "PeerAuthentication (workload > namespace > mesh root, port-level exceptions included) disables on every "
        "port; gateway pods are not judged on it. A request principal (source requestPrincipals, request.auth.* "
        "conditions) needs a RequestAuthentication, and none applies (workload, namespace or mesh-wide; one with a "
        "targetRef counts as applying). An ALLOW policy all of whose rules need a missing identity matches nothing: "
        "the requests it should admit get 403 'RBAC: access denied'. A DENY rule whose exemption is only "
        "notPrincipals/notNamespaces/notRequestPrincipals of a missing identity matches every request. One finding "
        "per policy; only evaluated when the snapshot has pods."
    ),
)

PEER, REQUEST = "peer identity", "request principal"
_NEEDS = {"principals": PEER, "namespaces": PEER, "serviceAccounts": PEER, "requestPrincipals": REQUEST}
_EXEMPTS = {"notPrincipals": PEER, "notNamespaces": PEER, "notServiceAccounts": PEER, "notRequestPrincipals": REQUEST}
_SHOWN = 3


def _condition_needs(cond: dict) -> str | None:
    if not cond.get("values"):
        return None
    if cond["key"] in ("source.principal", "source.namespace"):
        return PEER
    return REQUEST if cond["key"].startswith("request.auth.") else None


def _dead_allow_rule(rule: dict, missing: set) -> set:
    """The missing identities that keep an ALLOW rule from ever matching (empty: it can match)."""
    dead = {need for cond in rule.get("when") or () if (need := _condition_needs(cond)) in missing}
    sources = [item.get("source") or {} for item in rule.get("from") or ()]
    blocked = [{need for field, need in _NEEDS.items() if source.get(field)} & missing for source in sources]
    if sources and all(blocked):
        dead |= set().union(*blocked)
    return dead


def _vacuous_deny_rule(rule: dict, missing: set) -> set:
    """The missing identities that make a DENY rule's only exemption meaningless (empty: it does not)."""
    if any(_condition_needs(cond) in missing for cond in rule.get("when") or ()):
        return set()  # the rule itself can never match
    for item in rule.get("from") or ():
        source = {field: values for field, values in (item.get("source") or {}).items() if values}
        kinds = {_EXEMPTS.get(field) for field in source}
        if source and None not in kinds and kinds <= missing:
            return kinds
    return set()


def _action(policy) -> str | None:
    action = policy.spec.get("action") or "ALLOW"
    return action if action in ("ALLOW", "DENY") else None


@RULE
def check(snapshot):
    if not snapshot.of_kind("Pod"):
        return []  # pods were not collected: cannot tell
    judge_jwt = "RequestAuthentication" not in snapshot.unread
    seen: dict = {}

    def identities_missing(pod) -> tuple[set, object]:
        """The identities no request to the pod can carry, and the PeerAuthentication that disables mTLS."""
        if id(pod) not in seen:
            pa = None if is_gateway_pod(pod) else mtls_disabled(snapshot, pod)
            gone = {PEER} if pa is not None else set()
            if judge_jwt and not request_authentication_applies(snapshot, pod):
                gone.add(REQUEST)
            seen[id(pod)] = (gone, pa)
        return seen[id(pod)]

    findings = []
    for policy in snapshot.of_kind("AuthorizationPolicy"):
        action = _action(policy)
        rules = policy.spec.get("rules") or []
        if action is None or not rules or policy.spec.get("targetRef") or policy.spec.get("targetRefs"):
            continue
        hits = []  # (pod, identities missing, deciding PeerAuthentication, rule indexes)
        for pod in policy_pods(snapshot, policy):
            if not pod.spec["sidecar"] or pod.spec["phase"] in ("Succeeded", "Failed"):
                continue
            gone, pa = identities_missing(pod)
            if not gone:
                continue
            if action == "ALLOW":
                per_rule = [_dead_allow_rule(rule, gone) for rule in rules]
                if all(per_rule):
                    hits.append((pod, set().union(*per_rule), pa, list(range(len(rules)))))
            else:
                per_rule = [_vacuous_deny_rule(rule, gone) for rule in rules]
                if any(per_rule):
                    hits.append((pod, set().union(*per_rule), pa, [i for i, why in enumerate(per_rule) if why]))
        if hits:
            findings.append(_finding(snapshot, policy, action, rules, hits))
    return findings


def _finding(snapshot, policy, action, rules, hits):
    workloads = list(dict.fromkeys(snapshot.workload_of(pod) for pod, *_ in hits))
    kinds = set().union(*(why for _, why, _, _ in hits))
    pas = list(dict.fromkeys(pa for _, why, pa, _ in hits if PEER in why))
    targets = ", ".join(str(w) for w in workloads[:_SHOWN]) + (
        f" and {len(workloads) - _SHOWN} more" if len(workloads) > _SHOWN else "")
    causes = []
    if PEER in kinds:
        named = ", ".join(f"{pa.namespace}/{pa.name}" for pa in pas)
        causes.append(f"mTLS is disabled there (PeerAuthentication {named} mode DISABLE), so no request carries a "
                      f"peer identity")
    if REQUEST in kinds:
        causes.append("no RequestAuthentication applies there, so no request carries a request principal")
    name = f"AuthorizationPolicy {policy.namespace}/{policy.name}"
    if action == "ALLOW":
        message = (f"{name} can never match on {targets}: every rule needs a {' or a '.join(sorted(kinds))}, but "
                   f"{'; and '.join(causes)}. It admits nothing, so the requests it was written to allow get "
                   f"403 RBAC: access denied (TCP connections are closed).")
    else:
        indexes = sorted({i for *_, found in hits for i in found})
        scope = " that meets the rule's to/when conditions" if any(rules[i].get("to") or rules[i].get("when")
                                                                   for i in indexes) else ""
        fields = sorted({f for i in indexes for item in rules[i].get("from") or () for f in (item.get("source") or {})
                         if f in _EXEMPTS})
        message = (f"{name} (DENY) exempts callers by {', '.join(fields)} on {targets}, but {'; and '.join(causes)}: "
                   f"the exemption never applies and every request{scope} gets 403 RBAC: access denied.")
    evidence = {"action": action, "workloads": [str(w) for w in workloads], "pods": len(hits),
                "missing": sorted(kinds), "rules": sorted({i for *_, found in hits for i in found}),
                "peer_authentications": [f"{pa.namespace}/{pa.name}" for pa in pas]}
    return RULE.finding(policy.ref, message, related=list(workloads[:10]) + [pa.ref for pa in pas], evidence=evidence,
                        remediation=_remediation(snapshot, policy, hits, kinds))


# --- remediation ----------------------------------------------------------------------------


def _peer_authentication_fix(snapshot, policy, hits) -> tuple[list, str]:
    """PeerAuthentications that turn mTLS on for the pods that lost it, narrowest first, and the mode chosen.

    A workload's own policy is changed in place (a second one would lose to it, the oldest wins); else a new
    one with the AuthorizationPolicy's selector; else the namespace's own policy, or a new namespace-wide one.
    """
    selector = match_labels(policy)
    changed: dict = {}  # (namespace, name) -> spec
    for pod, why, pa, _ in hits:
        if PEER not in why:
            continue
        if match_labels(pa):  # the workload's own policy
            key, spec = (pa.namespace, pa.name), pa.spec
        elif selector and policy.namespace == pod.namespace:
            key, spec = (pod.namespace, unique_name(snapshot, "PeerAuthentication", pod.namespace, policy.name)), {
                "selector": {"matchLabels": dict(selector)}}
        elif pa.namespace == pod.namespace:  # the namespace's own policy (the mesh's, in the root namespace)
            key, spec = (pa.namespace, pa.name), pa.spec
        else:
            key, spec = (pod.namespace, unique_name(snapshot, "PeerAuthentication", pod.namespace, "default")), {}
        changed.setdefault(key, copy.deepcopy(spec))
    governed = [p for (namespace, _), spec in changed.items() for p in _governed(snapshot, namespace, spec)]
    mode = "PERMISSIVE" if _plaintext_callers_or_servers(snapshot, governed) else "STRICT"
    objects = []
    for (namespace, name), spec in changed.items():
        spec["mtls"] = {**(spec.get("mtls") or {}), "mode": mode}
        existing = snapshot.get("PeerAuthentication", namespace, name)
        objects.append(istio_object(existing, spec) if existing else _security_object(
            policy, "PeerAuthentication", namespace, name, spec))
    return objects, mode


def _security_object(policy, kind: str, namespace: str, name: str, spec: dict) -> dict:
    """A new security.istio.io object, at the API version the AuthorizationPolicy was read at."""
    return {"apiVersion": policy.api_version or "security.istio.io/v1", "kind": kind,
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _governed(snapshot, namespace: str, spec: dict) -> list:
    """The running pods a PeerAuthentication in ``namespace`` with ``spec`` governs."""
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    wide = not selector and namespace == snapshot.root_namespace
    return [p for p in snapshot.pods_matching(selector, None if wide else namespace)
            if p.spec["phase"] not in ("Succeeded", "Failed")]


def _plaintext_callers_or_servers(snapshot, pods) -> bool:
    """Pods without a sidecar, or a DestinationRule with its own tls block for one of their Services: STRICT would
    cut them off (MKB-110), PERMISSIVE does not."""
    if any(not p.spec["sidecar"] for p in pods):
        return True
    hosts = {service_host(snapshot, svc) for p in pods for svc in snapshot.services_selecting(p)}
    names = {name for h in hosts for name in wildcard_candidates(h)}
    for dr in (dr for name in names for dr in snapshot.destinationrules_by_host.get(name, ())):
        policies = [dr.spec.get("trafficPolicy") or {}]
        policies += [s.get("trafficPolicy") or {} for s in dr.spec.get("subsets") or ()]
        blocks = [tp.get("tls") for tp in policies]
        blocks += [pl.get("tls") for tp in policies for pl in tp.get("portLevelSettings") or ()]
        if any(tls and tls.get("mode") != "ISTIO_MUTUAL" for tls in blocks):
            return True
    return False


def _remediation(snapshot, policy, hits, kinds) -> Remediation:
    objects, summary = [], []
    if PEER in kinds:
        pas, mode = _peer_authentication_fix(snapshot, policy, hits)
        objects += pas
        summary.append(
            f"Turn mTLS back on for the pods the policy protects (PeerAuthentication mode {mode}"
            + (", not STRICT: pods without a sidecar, or a DestinationRule with its own tls block, still talk to "
               "them in plaintext" if mode == "PERMISSIVE" else "")
            + "). Callers with a sidecar then present their identity; callers without one still have none.")
    if REQUEST in kinds:
        selector = match_labels(policy)
        name = unique_name(snapshot, "RequestAuthentication", policy.namespace, policy.name)
        objects.append(_security_object(policy, "RequestAuthentication", policy.namespace, name, (
            {"selector": {"matchLabels": dict(selector)}} if selector else {}) | {"jwtRules": [{
                "issuer": placeholder("the issuer (iss claim) of the tokens your callers send"),
                "jwksUri": placeholder("the JSON Web Key Set URL of that issuer")}]}))
        summary.append("Add a RequestAuthentication for the same pods with your token issuer and JWKS URL, so that "
                       "requests carrying a valid JWT get a request principal (or drop the requestPrincipals / "
                       "request.auth conditions if the policy is not meant to check tokens).")
    return Remediation(summary=" ".join(summary), objects=objects)
