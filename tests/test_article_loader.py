import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import DEMO_ARTICLES
from tests.helpers import write_article
from troubleshooting.models import Article, Symptom

ROOT = Path(__file__).resolve().parent.parent


def load(*dirs) -> str:
    out = StringIO()
    call_command("loadarticles", dirs=[str(d) for d in dirs], stdout=out)
    return out.getvalue()


def test_it_loads_every_structured_field_of_a_good_file(db):
    assert load(DEMO_ARTICLES) == "articles: 3 created, 0 updated, 0 unchanged, 0 removed\n"
    article = Article.objects.get(slug="demo-gateway-failure")
    assert article.title == "Demo gateway drops a TLS server"
    assert article.category == "gateway" and article.severity == "high"
    assert article.components == ["ingress-gateway", "istiod"]
    assert article.analyzer_codes == ["IST0145"] and article.response_flags == ["NR"]
    assert article.related_slugs == ["demo-sidecar-startup"]
    assert article.references == [
        {"title": "Istio Gateway reference", "url": "https://istio.io/latest/docs/reference/config/networking/gateway/"}
    ]
    assert [(s.text, s.seen_in, s.note) for s in article.symptoms.all()] == [
        ("skipping server on gateway default/demo, duplicate host names: [demo.example.com]", "istiod-log", ""),
        ("curl: (35) OpenSSL SSL_connect: Connection reset by peer", "client", "Only for hosts of the dropped server."),
    ]
    assert article.sections["root_cause"] == "istiod skips the whole server.\n"
    assert [s["language"] for s in article.snippets] == ["console", "yaml"]
    assert article.yaml_snippets[0]["heading"] == "Option 1: one Gateway per host"


def test_a_second_run_changes_nothing(db):
    load(DEMO_ARTICLES)
    first = {a.slug: a.updated for a in Article.objects.all()}
    assert load(DEMO_ARTICLES) == "articles: 0 created, 0 updated, 3 unchanged, 0 removed\n"
    assert {a.slug: a.updated for a in Article.objects.all()} == first
    assert Symptom.objects.count() == 4


def test_an_edited_file_updates_its_article_and_symptoms(db, tmp_path):
    write_article(tmp_path)
    load(tmp_path)
    write_article(tmp_path, replace=("Recv failure: Connection reset by peer", "Recv failure: Broken pipe"))
    assert load(tmp_path) == "articles: 0 created, 1 updated, 0 unchanged, 0 removed\n"
    assert list(Symptom.objects.values_list("text", flat=True)) == ["curl: (56) Recv failure: Broken pipe"]


def test_a_deleted_file_removes_its_article(db, tmp_path):
    write_article(tmp_path, slug="first-failure")
    kept = write_article(tmp_path, slug="second-failure")
    load(tmp_path)
    (tmp_path / "first-failure.md").unlink()
    assert load(tmp_path) == "articles: 0 created, 0 updated, 1 unchanged, 1 removed\n"
    assert list(Article.objects.values_list("slug", flat=True)) == [kept.stem]
    assert Symptom.objects.count() == 1


BAD_FILES = {
    "malformed front matter": (("severity: critical", "severity: [critical"), 7, "malformed front matter"),
    "unknown category": (("category: tls", "category: plumbing"), 5, "unknown category 'plumbing' (expected one of: startup, routing"),
    "unknown severity": (("severity: critical", "severity: apocalyptic"), 6, "unknown severity 'apocalyptic'"),
    "unknown seen_in": (("seen_in: client", "seen_in: horoscope"), 10, "symptoms[0] has unknown seen_in 'horoscope'"),
    "missing section": (("## Root cause\n\nThe server only accepts mTLS.\n\n", ""), 24, "missing section '## Root cause' (found '## Fix'"),
    "yaml block that does not parse": (("  mtls:\n    mode: PERMISSIVE", "  mtls:\n    mode: [PERMISSIVE"), 39, "yaml block does not parse"),
    "summary in the wrong form": (("summary: This failure occurs when", "summary: Sometimes"), 4, "summary must start with"),
    "slug unlike the file name": (("slug: demo-mtls-reset", "slug: other-name"), 2, "does not match the file name"),
    "unknown field": (("severity: critical", "severity: critical\nowner: bob"), 7, "unknown front-matter field 'owner'"),
    "no front matter": (("---\nslug", "slug"), 1, "missing front matter"),
    "unknown response flag": (("response_flags: [UF]", "response_flags: [ZZ]"), 8, "unknown response_flags entry 'ZZ'"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_fails_with_its_line_and_changes_nothing(db, tmp_path, case):
    (old, new), line, message = BAD_FILES[case]
    write_article(tmp_path, slug="good-failure")
    load(tmp_path)
    write_article(tmp_path, slug="good-failure", replace=("Every request from the client is reset.", "Edited."))
    bad = write_article(tmp_path, slug="demo-mtls-reset", replace=(old, new))
    with pytest.raises(CommandError) as raised:
        load(tmp_path)
    assert str(raised.value).startswith(f"{bad}:{line}: ")
    assert message in str(raised.value)
    assert list(Article.objects.values_list("slug", flat=True)) == ["good-failure"]
    assert Article.objects.get().sections["symptoms"] == "Every request from the client is reset.\n"


def test_a_slug_found_in_two_folders_is_a_duplicate(db, tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    write_article(tmp_path / "a")
    second = write_article(tmp_path / "b")
    with pytest.raises(CommandError, match=rf"^{second}:2: duplicate slug 'demo-mtls-reset' \(also in .*a/demo-mtls-reset.md\)"):
        load(tmp_path / "a", tmp_path / "b")
    assert not Article.objects.exists()


def test_a_related_slug_must_exist(db, tmp_path):
    write_article(tmp_path, replace=("severity: critical", "severity: critical\nrelated: [no-such-article]"))
    with pytest.raises(CommandError, match="related article 'no-such-article' does not exist"):
        load(tmp_path)


def test_a_file_that_is_not_utf8_or_too_large_is_refused(db, tmp_path):
    path = tmp_path / "binary-failure.md"
    path.write_bytes(b"---\nslug: x\n\xff\xfe\n")
    with pytest.raises(CommandError, match=rf"^{path}:3: file is not valid UTF-8"):
        load(tmp_path)
    path.write_bytes(b"-" * (300 * 1024))
    with pytest.raises(CommandError, match=r"file is too large \(307200 bytes; the limit is 262144\)"):
        load(tmp_path)


def test_check_mode_validates_without_writing(db):
    out = StringIO()
    call_command("loadarticles", dirs=[str(DEMO_ARTICLES)], check=True, stdout=out)
    assert out.getvalue() == "3 articles are valid\n"
    assert not Article.objects.exists()


def test_the_command_line_prints_one_bare_line_for_a_bad_file(tmp_path):
    bad = write_article(tmp_path, replace=("category: tls", "category: plumbing"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    run = subprocess.run(
        [sys.executable, "manage.py", "loadarticles", "--check", "--dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.strip().splitlines() == [
        f"{bad}:5: unknown category 'plumbing' (expected one of: startup, routing, gateway, protocol, tls, auth, "
        "connection, egress, injection, control-plane, proxy)"
    ]
