"""MKB-117: an AuthorizationPolicy keyed on an identity its workloads never receive (403 RBAC: access denied)."""

from tests.scanner.support import RULES, apply_remediation, docs_from_yaml, round_trip, run
from troubleshooting.scanner import SnapshotBuilder, scan

PODS = """
apiVersion: v1
kind: Service
metadata: {name: payments, namespace: pay}
spec: {selector: {app: payments}, ports: [{name: http, port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: payments-7c9d8-x1
  namespace: pay
  labels: {app: payments, pod-template-hash: 7c9d8}
  ownerReferences: [{kind: ReplicaSet, name: payments-7c9d8, controller: true}]
spec: {containers: [{name: payments}, {name: istio-proxy}]}
status: {phase: Running}
"""

MTLS_DISABLED = PODS + """
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: pay}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: payments-allow, namespace: pay}
spec:
  selector: {matchLabels: {app: payments}}
  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/orders]}}]
    to: [{operation: {methods: [POST]}}]
"""

NO_REQUEST_AUTHENTICATION = """
apiVersion: v1
kind: Pod
metadata: {name: orders-1, namespace: shop, labels: {app: orders}}
spec: {containers: [{name: orders}, {name: istio-proxy}]}
status: {phase: Running}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: require-jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: orders}}
  action: ALLOW
  rules:
  - from: [{source: {requestPrincipals: ["*"]}}]
"""

DENY_EXCEPT_SHOP = MTLS_DISABLED.replace(
    """  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/orders]}}]
    to: [{operation: {methods: [POST]}}]""",
    """  action: DENY
  rules:
  - from: [{source: {notNamespaces: [shop]}}]""")


def docs(text: str, old: str = "", new: str = "", extra: str = ""):
    """A world from ``text`` with ``old`` replaced by ``new`` (which must be there) and ``extra`` added."""
    assert old in text, old
    return docs_from_yaml(text.replace(old, new) if old else text) + (docs_from_yaml(extra) if extra else [])


def test_an_allow_policy_on_principals_matches_nothing_where_mtls_is_disabled():
    [f] = run(docs(MTLS_DISABLED), "MKB-117")
    assert str(f.resource) == "AuthorizationPolicy pay/payments-allow" and f.severity == "error"
    assert f.message.startswith("AuthorizationPolicy pay/payments-allow can never match on Deployment pay/payments: "
                                "every rule needs a peer identity, but mTLS is disabled there (PeerAuthentication "
                                "pay/default mode DISABLE)")
    assert "403 RBAC: access denied" in f.message
    assert {str(r) for r in f.related} == {"Deployment pay/payments", "PeerAuthentication pay/default"}
    assert f.evidence["missing"] == ["peer identity"]


def test_the_fix_is_a_strict_policy_for_the_same_pods_and_round_trips():
    world = docs(MTLS_DISABLED)
    [f] = run(world, "MKB-117")
    assert f.remediation.objects == [{
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "payments-allow", "namespace": "pay"},
        "spec": {"selector": {"matchLabels": {"app": "payments"}}, "mtls": {"mode": "STRICT"}}}]
    before, after = round_trip(world, f)
    assert f.fingerprint not in after and set(after) <= before


def test_permissive_or_strict_mtls_gives_callers_an_identity():
    for mode in ("PERMISSIVE", "STRICT", "UNSET"):
        assert run(docs(MTLS_DISABLED, "mode: DISABLE", f"mode: {mode}"), "MKB-117") == []


def test_namespaces_service_accounts_and_source_conditions_need_mtls_too():
    for source in ("{namespaces: [shop]}", "{serviceAccounts: [shop/orders]}", "{principals: ['*']}"):
        assert len(run(docs(MTLS_DISABLED, "{principals: [cluster.local/ns/shop/sa/orders]}", source), "MKB-117")) == 1
    world = docs(MTLS_DISABLED, "  - from: [{source: {principals: [cluster.local/ns/shop/sa/orders]}}]\n",
                 "  - when: [{key: source.namespace, values: [shop]}]\n")
    assert len(run(world, "MKB-117")) == 1


def test_a_rule_or_source_that_needs_no_identity_keeps_the_policy_alive():
    assert run(docs(MTLS_DISABLED, "    to: [{operation: {methods: [POST]}}]",
                    "    to: [{operation: {methods: [POST]}}]\n  - to: [{operation: {paths: [/healthz]}}]"),
               "MKB-117") == []
    assert run(docs(MTLS_DISABLED, "{source: {principals: [cluster.local/ns/shop/sa/orders]}}",
                    "{source: {principals: [cluster.local/ns/shop/sa/orders]}}, {source: {ipBlocks: [10.0.0.0/8]}}"),
               "MKB-117") == []
    assert run(docs(MTLS_DISABLED, "{principals: [cluster.local/ns/shop/sa/orders]}",
                    "{notPrincipals: [cluster.local/ns/shop/sa/orders]}"), "MKB-117") == []


def test_a_policy_that_admits_nothing_on_purpose_is_not_reported():
    assert run(docs(MTLS_DISABLED, """  rules:
  - from: [{source: {principals: [cluster.local/ns/shop/sa/orders]}}]
    to: [{operation: {methods: [POST]}}]""", ""), "MKB-117") == []


def test_a_port_level_exception_that_accepts_mtls_keeps_the_policy_alive():
    world = docs(MTLS_DISABLED, extra="""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: payments, namespace: pay}
        spec:
          selector: {matchLabels: {app: payments}}
          portLevelMtls: {8080: {mode: PERMISSIVE}}
    """)
    assert run(world, "MKB-117") == []
    assert len(run(docs(MTLS_DISABLED, extra="""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: payments, namespace: pay}
        spec:
          selector: {matchLabels: {app: payments}}
          portLevelMtls: {8080: {mode: DISABLE}}
    """), "MKB-117")) == 1


def test_a_workload_policy_that_disables_mtls_is_changed_in_place():
    world = docs(MTLS_DISABLED, "metadata: {name: default, namespace: pay}\nspec: {mtls: {mode: DISABLE}}",
                 "metadata: {name: payments-plain, namespace: pay, creationTimestamp: '2024-01-01T00:00:00Z'}\n"
                 "spec: {selector: {matchLabels: {app: payments}}, mtls: {mode: DISABLE}}")
    [f] = run(world, "MKB-117")
    [pa] = f.remediation.objects
    assert pa["metadata"]["name"] == "payments-plain" and pa["spec"]["mtls"] == {"mode": "STRICT"}
    before, after = round_trip(world, f)
    assert f.fingerprint not in after and set(after) <= before


def test_a_namespace_wide_policy_under_a_mesh_wide_disable_gets_a_namespace_policy():
    world = docs(MTLS_DISABLED.replace("namespace: pay}\nspec: {mtls", "namespace: istio-system}\nspec: {mtls")
                 .replace("  selector: {matchLabels: {app: payments}}\n  rules:", "  rules:"))
    [f] = run(world, "MKB-117")
    assert "PeerAuthentication istio-system/default mode DISABLE" in f.message
    [pa] = f.remediation.objects
    assert pa["metadata"] == {"name": "default", "namespace": "pay"} and pa["spec"] == {"mtls": {"mode": "STRICT"}}
    before, after = round_trip(world, f)
    assert f.fingerprint not in after and set(after) <= before


def test_pods_without_a_sidecar_under_the_fix_make_it_permissive():
    plain = """
        apiVersion: v1
        kind: Pod
        metadata: {name: legacy-1, namespace: pay, labels: {app: legacy}}
        spec: {containers: [{name: legacy}]}
        status: {phase: Running}
    """
    world = docs(MTLS_DISABLED, "  selector: {matchLabels: {app: payments}}\n  rules:", "  rules:", extra=plain)
    [f] = run(world, "MKB-117")
    [pa] = f.remediation.objects
    assert pa["metadata"]["name"] == "default" and pa["spec"] == {"mtls": {"mode": "PERMISSIVE"}}
    assert "PERMISSIVE, not STRICT: pods without a sidecar" in f.remediation.summary
    before, after = round_trip(world, f)
    assert f.fingerprint not in after and set(after) <= before


def test_a_destination_rule_with_its_own_tls_makes_the_fix_permissive_instead_of_breaking_it():
    for host in ("payments", "'*.pay.svc.cluster.local'"):
        world = docs(MTLS_DISABLED, extra=f"""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {{name: payments, namespace: pay}}
            spec: {{host: {host}, trafficPolicy: {{tls: {{mode: DISABLE}}}}}}
        """)
        [f] = run(world, "MKB-117")
        assert f.remediation.objects[0]["spec"]["mtls"] == {"mode": "PERMISSIVE"}, host
        before, after = round_trip(world, f)  # STRICT would have added MKB-110 for the DestinationRule
        assert f.fingerprint not in after and set(after) <= before
    assert run(docs(MTLS_DISABLED, extra="""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: payments, namespace: pay}
        spec: {host: payments, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}
    """), "MKB-117")[0].remediation.objects[0]["spec"]["mtls"] == {"mode": "STRICT"}


def test_gateway_pods_are_not_judged_on_peer_authentication():
    world = docs_from_yaml("""
        apiVersion: v1
        kind: Pod
        metadata: {name: ingress-1, namespace: istio-system, labels: {istio: ingressgateway}}
        spec: {containers: [{name: istio-proxy, args: [proxy, router]}]}
        status: {phase: Running}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec: {mtls: {mode: DISABLE}}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: ingress, namespace: istio-system}
        spec:
          selector: {matchLabels: {istio: ingressgateway}}
          rules: [{from: [{source: {principals: ["*"]}}]}]
    """)
    assert run(world, "MKB-117") == []


def test_a_deny_policy_exempting_by_not_namespaces_denies_everything_without_mtls():
    [f] = run(docs(DENY_EXCEPT_SHOP), "MKB-117")
    assert f.message.startswith("AuthorizationPolicy pay/payments-allow (DENY) exempts callers by notNamespaces on "
                                "Deployment pay/payments, but mTLS is disabled there")
    assert "the exemption never applies and every request gets 403 RBAC: access denied." in f.message
    before, after = round_trip(docs(DENY_EXCEPT_SHOP), f)
    assert f.fingerprint not in after and set(after) <= before
    [f] = run(docs(DENY_EXCEPT_SHOP, "notNamespaces: [shop]}}]", "notNamespaces: [shop]}}]\n    to: [{operation: "
                                                                 "{paths: [/admin]}}]"), "MKB-117")
    assert "every request that meets the rule's to/when conditions gets 403" in f.message


def test_a_deny_policy_whose_rule_needs_more_than_the_missing_identity_is_fine():
    for source in ("{namespaces: [evil]}", "{notNamespaces: [shop], ipBlocks: [10.0.0.0/8]}"):
        assert run(docs(DENY_EXCEPT_SHOP, "{notNamespaces: [shop]}", source), "MKB-117") == []
    assert run(docs(DENY_EXCEPT_SHOP, "mode: DISABLE", "mode: STRICT"), "MKB-117") == []
    world = docs(DENY_EXCEPT_SHOP, "notNamespaces: [shop]}}]",
                 "notNamespaces: [shop]}}]\n    when: [{key: source.principal, values: [cluster.local/ns/a/sa/b]}]")
    assert run(world, "MKB-117") == []  # that rule can never match at all: it denies nothing


def test_a_policy_selecting_no_pods_or_only_pods_without_sidecars_is_not_judged():
    assert run(docs(MTLS_DISABLED, "matchLabels: {app: payments}}\n  rules", "matchLabels: {app: gone}}\n  rules"),
               "MKB-117") == []
    assert run(docs(MTLS_DISABLED, ", {name: istio-proxy}]", "]"), "MKB-117") == []
    assert run(docs(MTLS_DISABLED, "  rules:", "  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, "
                                               "name: waypoint}]\n  rules:"), "MKB-117") == []


def test_without_pods_in_the_snapshot_nothing_is_said():
    assert run([d for d in docs(MTLS_DISABLED) if d["kind"] != "Pod"], "MKB-117") == []


def test_an_allow_policy_on_request_principals_matches_nothing_without_request_authentication():
    [f] = run(docs(NO_REQUEST_AUTHENTICATION), "MKB-117")
    assert str(f.resource) == "AuthorizationPolicy shop/require-jwt"
    assert ("every rule needs a request principal, but no RequestAuthentication applies there, so no request carries a "
            "request principal") in f.message
    [ra] = f.remediation.objects
    assert ra["kind"] == "RequestAuthentication" and ra["metadata"] == {"name": "require-jwt", "namespace": "shop"}
    assert ra["spec"]["selector"] == {"matchLabels": {"app": "orders"}}
    assert len(f.remediation.placeholders) == 2


def test_the_request_authentication_once_filled_in_clears_the_finding():
    world = docs(NO_REQUEST_AUTHENTICATION)
    [f] = run(world, "MKB-117")
    [ra] = f.remediation.objects
    ra["spec"]["jwtRules"] = [{"issuer": "https://issuer.example.com", "jwksUri": "https://issuer.example.com/jwks"}]
    after = run(apply_remediation(world, f.remediation)).findings
    assert after == []


def test_request_auth_conditions_need_a_request_principal_too():
    world = docs(NO_REQUEST_AUTHENTICATION, "  - from: [{source: {requestPrincipals: [\"*\"]}}]",
                 "  - when: [{key: 'request.auth.claims[iss]', values: [https://issuer.example.com]}]")
    assert len(run(world, "MKB-117")) == 1


def test_a_request_authentication_for_the_workload_its_namespace_or_the_mesh_is_enough():
    def with_request_authentication(namespace, spec):
        return docs(NO_REQUEST_AUTHENTICATION, extra=f"""
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {{name: jwt, namespace: {namespace}}}
            spec: {spec}
        """)

    for namespace, spec in [("shop", "{selector: {matchLabels: {app: orders}}}"), ("shop", "{}"),
                            ("istio-system", "{}"), ("istio-system", "{selector: {matchLabels: {app: orders}}}"),
                            ("shop", "{targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: w}]}")]:
        assert run(with_request_authentication(namespace, spec), "MKB-117") == [], (namespace, spec)
    for namespace, spec in [("shop", "{selector: {matchLabels: {app: other}}}"), ("billing", "{}")]:
        assert len(run(with_request_authentication(namespace, spec), "MKB-117")) == 1, (namespace, spec)


def test_a_mesh_wide_deny_of_requests_without_a_token_denies_everything_without_request_authentication():
    world = docs(NO_REQUEST_AUTHENTICATION, """metadata: {name: require-jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: orders}}
  action: ALLOW
  rules:
  - from: [{source: {requestPrincipals: ["*"]}}]""", """metadata: {name: require-jwt, namespace: istio-system}
spec:
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]""")
    [f] = run(world, "MKB-117")
    assert "(DENY) exempts callers by notRequestPrincipals on Pod shop/orders-1" in f.message
    [ra] = f.remediation.objects
    assert ra["metadata"]["namespace"] == "istio-system" and "selector" not in ra["spec"]


def test_request_authentications_that_could_not_be_read_are_not_taken_as_absent():
    builder = SnapshotBuilder("cluster")
    for doc in docs(NO_REQUEST_AUTHENTICATION):
        builder.add(doc)
    snapshot = builder.build(unread={"RequestAuthentication": "forbidden"})
    assert scan(snapshot, rules=[RULES["MKB-117"]]).findings == []


def test_rules_dead_for_different_reasons_get_both_fixes():
    world = docs(MTLS_DISABLED, "    to: [{operation: {methods: [POST]}}]",
                 "    to: [{operation: {methods: [POST]}}]\n  - from: [{source: {requestPrincipals: ['*']}}]")
    [f] = run(world, "MKB-117")
    assert f.evidence["missing"] == ["peer identity", "request principal"]
    assert [o["kind"] for o in f.remediation.objects] == ["PeerAuthentication", "RequestAuthentication"]
