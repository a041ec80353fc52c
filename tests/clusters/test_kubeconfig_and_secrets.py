"""Kubeconfigs are hostile input: checked, reduced, encrypted at rest and never shown."""

from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.db import connection

from tests.clusters.conftest import connect
from troubleshooting.clusters import crypto
from troubleshooting.clusters import kubeconfig as kubeconfigs
from troubleshooting.models import Cluster

TOKEN = "sha256~top-secret-bearer-token-value"


def config(user: dict | None = None, **extra) -> dict:
    return {
        "apiVersion": "v1", "kind": "Config", "current-context": "prod",
        "clusters": [{"name": "c1", "cluster": {"server": "https://10.0.0.1:6443", "certificate-authority-data": "Q0E="}},
                     {"name": "c2", "cluster": {"server": "https://10.0.0.2:6443"}}],
        "contexts": [{"name": "prod", "context": {"cluster": "c1", "user": "u1"}},
                     {"name": "staging", "context": {"cluster": "c2", "user": "u2"}}],
        "users": [{"name": "u1", "user": user if user is not None else {"token": TOKEN}},
                  {"name": "u2", "user": {"token": "other-token"}}],
        **extra,
    }


def test_it_keeps_only_the_chosen_context():
    reduced, name = kubeconfigs.minimal(config(), "staging")
    assert name == "staging"
    assert [c["name"] for c in reduced["clusters"]] == ["c2"]
    assert [u["name"] for u in reduced["users"]] == ["u2"]
    assert reduced["current-context"] == "staging"
    assert kubeconfigs.minimal(config(), None)[1] == "prod"


@pytest.mark.parametrize(
    "user, message",
    [
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "gke-gcloud-auth-plugin"}},
         "kubeconfig: user 'u1' uses an exec plugin (gke-gcloud-auth-plugin), which would run a command on the meshkb server"),
        ({"auth-provider": {"name": "oidc", "config": {}}},
         "kubeconfig: user 'u1' uses an auth-provider plugin (oidc), which would run a command on the meshkb server"),
        ({"client-certificate": "/etc/ssl/private/admin.crt"},
         "kubeconfig: user 'u1' reads the file '/etc/ssl/private/admin.crt' (client-certificate); meshkb does not read files"),
        ({"tokenFile": "/var/run/secrets/token"},
         "kubeconfig: user 'u1' reads the file '/var/run/secrets/token' (tokenFile)"),
    ],
)
def test_plugins_and_local_files_are_refused_with_one_line(user, message):
    with pytest.raises(kubeconfigs.KubeconfigError) as raised:
        kubeconfigs.minimal(config(user), None)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_plugins_can_be_allowed_explicitly():
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws"}}
    assert kubeconfigs.minimal(config(user), None, allow_plugins=True)[0]["users"][0]["user"] == user


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\xff\xfe\x00binary", "kubeconfig: not UTF-8 text"),
        (b"a: [unclosed", "kubeconfig: not valid YAML at line 2"),
        (b"- just\n- a list\n", "kubeconfig: not a kubeconfig"),
        (b"x" * 2048, "kubeconfig: too large (2,048 bytes; the limit is 1,024)"),
        (b"apiVersion: v1\nkind: Config\ncontexts: []\n", None),
    ],
)
def test_bad_files_get_a_clear_error(data, message):
    if message is None:
        with pytest.raises(kubeconfigs.KubeconfigError, match="it defines no contexts"):
            kubeconfigs.minimal(kubeconfigs.parse(data, 1024), None)
        return
    with pytest.raises(kubeconfigs.KubeconfigError) as raised:
        kubeconfigs.parse(data, 1024)
    assert str(raised.value).startswith(message)


def test_an_unknown_context_names_the_ones_available():
    with pytest.raises(kubeconfigs.KubeconfigError, match=r"no context named 'dev' \(it has: prod, staging\)"):
        kubeconfigs.minimal(config(), "dev")


def test_the_kubeconfig_is_encrypted_at_rest(db, seeded):
    cluster = connect("prod", seeded)
    with connection.cursor() as cursor:
        cursor.execute("SELECT kubeconfig_encrypted FROM troubleshooting_cluster WHERE id = %s", [cluster.pk])
        stored = cursor.fetchone()[0]
    assert seeded.token not in stored and "server" not in stored
    assert Cluster.objects.get().kubeconfig()["users"][0]["user"]["token"] == seeded.token


def test_keys_rotate_and_a_removed_key_fails_clearly(db, seeded, settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.MESHKB_ENCRYPTION_KEYS = [old]
    connect("prod", seeded)
    settings.MESHKB_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("rotatekeys", stdout=out)
    assert out.getvalue() == "re-encrypted 1 kubeconfig with the newest key\n"
    settings.MESHKB_ENCRYPTION_KEYS = [new]
    assert Cluster.objects.get().kubeconfig()["users"][0]["user"]["token"] == seeded.token
    settings.MESHKB_ENCRYPTION_KEYS = [old]
    with pytest.raises(crypto.DecryptionError, match="cannot be decrypted with MESHKB_ENCRYPTION_KEYS"):
        Cluster.objects.get().kubeconfig()


def test_an_exec_plugin_never_runs_even_if_stored_before_the_rule(db, tmp_path, settings):
    """A kubeconfig saved while plugins were allowed is refused at scan time once they are not."""
    from troubleshooting.clusters import scanning

    marker = tmp_path / "plugin-ran"
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "sh",
                     "args": ["-c", f"touch {marker}; echo '{{}}'"]}}
    settings.MESHKB_ALLOW_KUBECONFIG_PLUGINS = True
    from troubleshooting.clusters.registry import configure

    cluster = configure(Cluster(name="plugged"), source=Cluster.KUBECONFIG, kubeconfig=yaml.safe_dump(config(user)))
    settings.MESHKB_ALLOW_KUBECONFIG_PLUGINS = False
    scan = scanning.execute(scanning.scan_now(cluster))
    assert scan.status == "failed"
    assert scan.error.startswith("kubeconfig: user 'u1' uses an exec plugin (sh)")
    assert not marker.exists()


def test_addcluster_refuses_an_exec_kubeconfig_without_running_it(db, tmp_path):
    marker = tmp_path / "plugin-ran"
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "sh", "args": ["-c", f"touch {marker}"]}}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config(user)))
    with pytest.raises(CommandError, match=r"^kubeconfig: user 'u1' uses an exec plugin \(sh\)"):
        call_command("addcluster", "gke", "--kubeconfig", str(path))
    assert not marker.exists() and not Cluster.objects.exists()


def test_the_first_rotation_moves_from_the_derived_key_to_an_explicit_one(db, seeded, settings):
    from cryptography.fernet import Fernet

    settings.MESHKB_ENCRYPTION_KEYS = [""]
    connect("prod", seeded)
    explicit = Fernet.generate_key().decode()
    settings.MESHKB_ENCRYPTION_KEYS = [explicit, "derived"]
    call_command("rotatekeys", stdout=StringIO())
    settings.MESHKB_ENCRYPTION_KEYS = [explicit]
    settings.SECRET_KEY = "a-new-secret-key"
    assert Cluster.objects.get().kubeconfig()["users"][0]["user"]["token"] == seeded.token

