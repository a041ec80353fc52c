"""API tokens: scripts read the JSON API as a user; the key is shown once and stored only as a hash."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from troubleshooting.management.base import InputError
from troubleshooting.models import ApiToken


@pytest.fixture
def alice_key(alice):
    return ApiToken.issue(alice, "grafana")[1]


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_a_token_reads_the_cluster_api_without_a_session(client, prod, alice_key):
    clusters = client.get(reverse("api-clusters"), **bearer(alice_key))
    findings = client.get(reverse("api-cluster-findings", args=["prod"]), **bearer(alice_key))

    assert clusters.status_code == 200 and [c["name"] for c in clusters.json()["results"]] == ["prod"]
    assert findings.status_code == 200 and {f["rule"] for f in findings.json()["results"]} >= {"MKB-003", "MKB-004"}
    assert "sessionid" not in clusters.cookies


def test_a_token_reads_a_private_catalog(client, settings, demo_catalog, alice_key):
    settings.CATALOG_PUBLIC = False

    assert client.get(reverse("api-articles")).status_code == 401
    assert client.get(reverse("api-articles"), **bearer(alice_key)).json()["count"] == 3


@pytest.mark.parametrize("header, message", [
    ("Bearer mkb_not-a-real-token", "Authorization header: unknown or revoked API token"),
    ("Bearer " + "x" * 5000, "Authorization header: unknown or revoked API token"),
    ("Bearer", "Authorization header: expected 'Bearer <API token>'"),
])
def test_a_wrong_authorization_header_is_a_one_line_401(client, prod, alice_key, header, message):
    response = client.get(reverse("api-clusters"), HTTP_AUTHORIZATION=header)

    assert response.status_code == 401 and response.json() == {"error": message}


def test_other_authorization_schemes_are_left_to_the_session(client, prod, alice):
    """A reverse proxy with Basic auth in front of meshkb makes browsers send that header everywhere."""
    basic = {"HTTP_AUTHORIZATION": "Basic cHJveHk6cHJveHk="}
    assert client.get(reverse("api-clusters"), **basic).json() == {"error": "authentication required"}
    client.force_login(alice)
    assert client.get(reverse("api-clusters"), **basic).status_code == 200


def test_a_revoked_token_or_a_deactivated_user_reads_nothing(client, prod, alice, alice_key):
    ApiToken.objects.filter(user=alice).delete()
    assert client.get(reverse("api-clusters"), **bearer(alice_key)).status_code == 401

    _, key = ApiToken.issue(alice, "again")
    alice.is_active = False
    alice.save()
    assert client.get(reverse("api-clusters"), **bearer(key)).status_code == 401


def test_tokens_do_not_open_the_pages(client, prod, alice_key):
    """Pages keep the session and CSRF: a token is for the read-only API only."""
    assert client.get(reverse("clusters"), **bearer(alice_key)).status_code == 302
    assert client.post(reverse("cluster-scan", args=["prod"]), **bearer(alice_key)).status_code == 302


def test_only_a_hash_of_the_key_is_stored_and_use_is_recorded(client, prod, alice_key):
    token = ApiToken.objects.get()
    assert alice_key not in str(ApiToken.objects.values().get()) and token.prefix == alice_key[:12]
    assert token.last_used_at is None

    client.get(reverse("api-clusters"), **bearer(alice_key))
    first_use = ApiToken.objects.get().last_used_at
    client.get(reverse("api-clusters"), **bearer(alice_key))

    assert first_use is not None and ApiToken.objects.get().last_used_at == first_use  # one write a minute


def test_the_tokens_page_shows_a_new_key_once_and_revokes_only_your_own(client, alice, staff):
    assert client.get(reverse("api-tokens")).status_code == 302  # login first
    client.force_login(alice)

    created = client.post(reverse("api-tokens"), {"name": "ci-report"})
    key = created.context["new_key"]
    assert key.startswith("mkb_") and key in created.content.decode() and created["Cache-Control"] == "no-store"
    listing = client.get(reverse("api-tokens")).content.decode()
    assert "ci-report" in listing and key not in listing and key[:12] in listing

    others = ApiToken.issue(staff, "staff-token")[0]
    assert client.post(reverse("api-token-revoke", args=[others.pk])).status_code == 404
    mine = ApiToken.objects.get(user=alice)
    assert client.post(reverse("api-token-revoke", args=[mine.pk])).status_code == 302
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["staff-token"]


def test_a_token_needs_a_name_on_the_page(client, alice):
    client.force_login(alice)
    response = client.post(reverse("api-tokens"), {"name": ""})

    assert response.context["new_key"] is None and "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_apitoken_command_creates_lists_and_revokes(client, prod, alice):
    out, err = StringIO(), StringIO()
    call_command("apitoken", "create", "alice", "--name", "cron", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert "not shown again" in err.getvalue()
    assert client.get(reverse("api-clusters"), **bearer(key)).status_code == 200

    listing = StringIO()
    call_command("apitoken", "list", stdout=listing)
    assert key[:12] in listing.getvalue() and key not in listing.getvalue() and "cron" in listing.getvalue()

    call_command("apitoken", "revoke", key[:12], stdout=StringIO())
    assert client.get(reverse("api-clusters"), **bearer(key)).status_code == 401


@pytest.mark.parametrize("args, message", [
    (["create", "nobody"], "apitoken create: no active user 'nobody'"),
    (["revoke", "mkb_"], "apitoken revoke: give at least the first 8 characters shown by `apitoken list`"),
    (["revoke", "mkb_zzzzzzzz"], "apitoken revoke: no token starts with 'mkb_zzzzzzzz'"),
])
def test_the_apitoken_command_rejects_bad_input_in_one_line(db, args, message):
    with pytest.raises(InputError, match="^" + re.escape(message) + "$"):
        call_command("apitoken", *args, stdout=StringIO(), stderr=StringIO())
