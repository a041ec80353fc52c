"""Paste-an-error search over the real database: ranking, safety, interfaces."""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.helpers import write_article
from troubleshooting.search.engine import search

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def catalog(db):
    call_command("loadarticles", stdout=StringIO())


def ranked(text: str, limit: int = 5) -> list[str]:
    return [hit.slug for hit in search(text, limit=limit).hits]


def test_a_verbatim_symptom_in_a_noisy_paste_ranks_its_article_first(catalog):
    paste = (
        "2021-11-29T07:24:21.703924Z\tdebug\tmodel\tskipping server on gateway default/shop-gw, "
        "duplicate host names: [shop.example.org]\n"
        "2021-11-29T07:24:22.101010Z\tinfo\tads\tPush debounce stable[42] 3 for config Gateway/default/shop-gw"
    )
    hits = search(paste).hits
    assert hits[0].slug == "gateway-duplicate-tls-host"
    assert hits[0].matched_kind == "symptom"
    assert hits[0].matched.startswith("skipping server on gateway")
    assert hits[0].line.startswith("2021-11-29T07:24:21.703924Z debug model skipping server on gateway default/shop-gw")


def test_codes_alone_find_the_failure(catalog):
    assert ranked("IST0145")[0] in ("gateway-duplicate-tls-host", "gateway-port-protocol-conflict")
    assert ranked("503 UO")[0] == "circuit-breaker-overflow-uo"
    assert ranked("upstream request timeout")[0] == "upstream-request-timeout-504"


def test_an_ambiguous_message_returns_several_candidates_each_with_what_matched(catalog):
    hits = search("upstream connect error or disconnect/reset before headers. reset reason: connection termination").hits
    assert len(hits) >= 3
    assert len({hit.slug for hit in hits}) == len(hits)
    assert all(hit.matched for hit in hits[:3])
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_text_that_matches_nothing_returns_nothing(catalog):
    assert search("the quick brown fox jumps over the lazy dog").hits == []
    assert search("").hits == [] and search("   \n  ").hits == []


def test_the_index_follows_the_article_files(db, tmp_path):
    path = write_article(tmp_path, replace=('"curl: (56) Recv failure: Connection reset by peer"', '"zanzibar quokka handshake"'))
    call_command("loadarticles", dirs=[str(tmp_path)], stdout=StringIO())
    assert ranked("zanzibar quokka handshake") == ["demo-mtls-reset"]
    path.write_text(path.read_text().replace("zanzibar quokka handshake", "marmalade teapot"))
    call_command("loadarticles", dirs=[str(tmp_path)], stdout=StringIO())
    assert ranked("zanzibar quokka handshake") == []
    assert ranked("marmalade teapot") == ["demo-mtls-reset"]
    path.unlink()
    write_article(tmp_path, slug="other-failure")
    call_command("loadarticles", dirs=[str(tmp_path)], stdout=StringIO())
    assert ranked("marmalade teapot") == []


HOSTILE = [
    '"unbalanced quote',
    "NEAR(foo bar) OR * AND NOT ^x:y -z +w",
    "'; DROP TABLE troubleshooting_article; --",
    "1' OR '1'='1",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "🚀🔥💥 日本語のエラー",
    "\x00\x01\x02 NUL bytes \x00",
    "path/with/slashes:and:colons|pipes&ampersands",
    "a" * 5000,
    "x " * 200_000,  # 400 KB of one word
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_never_breaks_the_api_or_the_page(catalog, client, text):
    api = client.post(reverse("api-search"), {"q": text})
    assert api.status_code in (200, 400)
    assert "results" in api.json() or "error" in api.json()
    page = client.post(reverse("search"), {"q": text})
    assert page.status_code == 200
    assert b"<script>alert" not in page.content.split(b"<main", 1)[1]


def test_a_megabyte_paste_is_searched_up_to_the_limit_with_a_notice(catalog, client):
    paste = "no healthy upstream\n" + "filler line of an unrelated log\n" * 33_000
    data = client.post(reverse("api-search"), {"q": paste}).json()
    assert data["results"][0]["slug"] == "no-healthy-upstream-uh"
    assert "only the first 32,000 were searched" in data["notice"]


def test_the_api_returns_query_normalized_and_ranked_results(catalog, client):
    response = client.get(reverse("api-search"), {"q": "[2026-01-02T03:04:05Z] RBAC: access denied", "limit": 2})
    data = response.json()
    assert set(data) == {"query", "normalized", "results"}
    assert data["query"] == "[2026-01-02T03:04:05Z] RBAC: access denied"
    assert data["normalized"] == "rbac access denied"
    assert len(data["results"]) <= 2
    assert data["results"][0]["slug"] == "rbac-access-denied"
    assert set(data["results"][0]) == {"slug", "title", "score", "matched"}
    assert data["results"][0]["matched"] == "RBAC: access denied"


def test_the_api_explains_bad_requests_in_one_line(catalog, client):
    assert client.get(reverse("api-search")).json() == {"error": "q: paste an error message to search for"}
    assert client.get(reverse("api-search"), {"q": "x", "limit": 500}).json() == {
        "error": "limit: Ensure this value is less than or equal to 50."
    }
    bad_json = client.post(reverse("api-search"), "{not json", content_type="application/json")
    assert bad_json.status_code == 400 and bad_json.json() == {"error": "body: not valid JSON"}
    ok = client.post(reverse("api-search"), {"q": "no healthy upstream"}, content_type="application/json")
    assert ok.json()["results"][0]["slug"] == "no-healthy-upstream-uh"


def test_the_search_page_shows_why_each_result_matched(catalog, client):
    html = client.get(reverse("search"), {"q": "curl: (35) OpenSSL SSL_connect: Connection reset by peer"}).content.decode()
    assert "Matches a known symptom" in html
    assert 'href="/articles/gateway-duplicate-tls-host/#symptoms"' in html
    assert '<textarea id="paste" name="q"' in html


def test_the_header_box_gets_a_compact_fragment_and_the_paste_form_the_results(catalog, client):
    header = client.get(reverse("search"), {"q": "no healthy upstream"}, headers={"HX-Request": "true", "HX-Target": "header-results"})
    assert header.content.decode().lstrip().startswith('<ul class="dropdown-list"')
    assert "no-healthy-upstream-uh" in header.content.decode()
    results = client.post(reverse("search"), {"q": "no healthy upstream"}, headers={"HX-Request": "true", "HX-Target": "search-results"})
    assert results.content.decode().lstrip().startswith('<section id="search-results"')


def test_search_follows_the_catalog_access_setting(catalog, client, settings):
    settings.CATALOG_PUBLIC = False
    assert client.get(reverse("api-search"), {"q": "x"}).status_code == 401
    assert client.get(reverse("search"), {"q": "x"}).status_code == 302


def test_the_command_line_searches_an_argument_or_stdin(catalog):
    out = StringIO()
    call_command("search", "no healthy upstream", "--limit", "1", stdout=out)
    assert out.getvalue().startswith(" 1. no-healthy-upstream-uh  (critical, score ")
    out = StringIO()
    call_command("search", "RBAC: access denied", "--json", stdout=out)
    assert json.loads(out.getvalue())["results"][0]["slug"] == "rbac-access-denied"


def test_the_command_line_reads_a_paste_from_stdin(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}

    def manage(*args, stdin=None):
        return subprocess.run(
            [sys.executable, "manage.py", *args], input=stdin, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    assert manage("migrate", "-v0").returncode == 0
    assert manage("loadarticles").returncode == 0
    run = manage("search", "-", "--json", "--limit", "1", stdin="[2026-01-01T00:00:00Z] warn envoy no healthy upstream\n")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["results"][0]["slug"] == "no-healthy-upstream-uh"
    empty = manage("search", "-", stdin="   \n")
    assert empty.returncode == 1 and empty.stderr.strip() == "search: the error text is empty"
