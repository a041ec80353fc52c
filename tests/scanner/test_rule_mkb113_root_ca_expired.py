"""MKB-113: the mesh root certificate has expired or soon will."""

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.scanner.support import run

NOW = dt.datetime.now(dt.timezone.utc)


def root_cert(not_after: dt.datetime) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cluster.local")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_after - dt.timedelta(days=3650))
            .not_valid_after(not_after).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def configmap(pem: str) -> list[dict]:
    return [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "istio-ca-root-cert", "namespace": "istio-system"}, "data": {"root-cert.pem": pem}}]


def test_an_expired_root_is_an_error():
    [f] = run(configmap(root_cert(NOW - dt.timedelta(days=2))), "MKB-113")
    assert f.severity == "error"
    assert "expired on" in f.message and "O=cluster.local" in f.message


def test_a_root_expiring_within_30_days_is_a_warning():
    [f] = run(configmap(root_cert(NOW + dt.timedelta(days=10))), "MKB-113")
    assert f.severity == "warning"


def test_a_root_valid_for_years_is_fine():
    assert run(configmap(root_cert(NOW + dt.timedelta(days=3000))), "MKB-113") == []


def test_only_the_expired_one_of_two_roots_is_reported():
    pem = root_cert(NOW + dt.timedelta(days=3000)) + root_cert(NOW - dt.timedelta(days=1))
    assert len(run(configmap(pem), "MKB-113")) == 1


def test_garbage_instead_of_a_certificate_is_ignored():
    assert run(configmap("not a certificate"), "MKB-113") == []
