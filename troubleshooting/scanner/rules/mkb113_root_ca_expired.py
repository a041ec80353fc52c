"""MKB-113 root-ca-expired: the mesh root certificate in istio-ca-root-cert has expired or soon will."""

from __future__ import annotations

import datetime as _dt

from ..engine import Rule
from ..findings import Remediation

RULE = Rule(
    id="MKB-113",
    slug="root-ca-expired",
    title="Mesh root certificate expired or about to expire",
    severity="error",
    description=(
        "A certificate in the root-cert.pem of the istio-ca-root-cert ConfigMap (the trust anchor every proxy "
        "gets) has expired, or expires within 30 days (warning). Once it has expired, workload certificates no "
        "longer validate and mTLS fails mesh-wide."
    ),
)

WARN_BEFORE = _dt.timedelta(days=30)


def _certificates(pem: str):
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        return []


@RULE
def check(snapshot, now=None):
    now = now or _dt.datetime.now(_dt.timezone.utc)
    candidates = [cm for cm in snapshot.of_kind("ConfigMap") if cm.name == "istio-ca-root-cert"]
    if not candidates:
        return []
    root = snapshot.root_namespace
    candidates.sort(key=lambda cm: (cm.namespace != root, cm.namespace))
    cm = candidates[0]
    pem = (cm.spec.get("data") or {}).get("root-cert.pem")
    if not isinstance(pem, str):
        return []
    findings = []
    for cert in _certificates(pem):
        not_after = cert.not_valid_after_utc
        subject = cert.subject.rfc4514_string() or "(no subject)"
        left = not_after - now
        if left <= _dt.timedelta(0):
            severity, state = "error", f"expired on {not_after:%Y-%m-%d %H:%M} UTC ({-left.days} days ago)"
        elif left <= WARN_BEFORE:
            severity, state = "warning", f"expires on {not_after:%Y-%m-%d %H:%M} UTC (in {left.days} days)"
        else:
            continue
        message = (f"The mesh root certificate {subject} in ConfigMap {cm.namespace}/{cm.name} {state}. Proxies validate "
                   f"peers against it: once expired, mTLS handshakes fail across the mesh (503, "
                   f"CERTIFICATE_VERIFY_FAILED).")
        findings.append(RULE.finding(
            cm.ref, message, severity=severity,
            evidence={"subject": subject, "serial": format(cert.serial_number, "x"),
                      "not_before": cert.not_valid_before_utc.isoformat(), "not_after": not_after.isoformat()},
            remediation=Remediation(
                summary=("Rotate the root CA before it expires: plug in a new root (cacerts Secret in the istio "
                         "namespace) with both old and new roots trusted during the transition, restart istiod, then "
                         "restart workloads so they get certificates from the new chain. See the article for the "
                         "step-by-step procedure."),
                commands=[f"kubectl -n {cm.namespace} get configmap {cm.name} -o jsonpath='{{.data.root-cert\\.pem}}' "
                          f"| openssl x509 -noout -subject -enddate"]),
            discriminator=format(cert.serial_number, "x")))
    return findings
