"""Search quality on the development set of real error messages, on this run's database
and across SQLite and PostgreSQL."""

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.conftest import skip_unless_ci
from troubleshooting.models import Article
from troubleshooting.search.engine import search
from troubleshooting.search.evaluation import evaluate, load_cases

DEV_SET = Path(__file__).parent / "search_eval" / "dev_set.yaml"


def cases_for(alias: str = "default"):
    return load_cases(DEV_SET, known_slugs=set(Article.objects.using(alias).values_list("slug", flat=True)))


def top(text: str, depth: int, alias: str = "default") -> list[str]:
    return [hit.slug for hit in search(text, limit=depth, using=alias).hits]


def test_the_development_set_finds_the_right_article(db):
    call_command("loadarticles", stdout=StringIO())
    cases = cases_for()
    assert len(cases) >= 60
    report = evaluate(cases, top)
    misses = [f"{o.case.id}: got {o.ranked}" for o in report.misses(3)]
    assert report.accuracy(3) >= 0.95, f"{report.summary()}\n" + "\n".join(misses)
    assert report.accuracy(1) >= 0.80, report.summary()


@pytest.mark.django_db(databases=["default", "other"])
def test_sqlite_and_postgresql_rank_the_development_set_the_same_way():
    if "other" not in settings.DATABASES:
        skip_unless_ci("no second database: PostgreSQL is not reachable on 127.0.0.1:5432")
    for alias in ("default", "other"):
        call_command("loadarticles", database=alias, stdout=StringIO())
    differences = []
    for case in cases_for():
        here, there = top(case.query, 5, "default"), top(case.query, 5, "other")
        if here[:3] != there[:3]:
            differences.append(f"{case.id}: {here[:3]} vs {there[:3]}")
    assert differences == []


def test_the_evaluation_command_prints_the_accuracy(db):
    call_command("loadarticles", stdout=StringIO())
    out = StringIO()
    call_command("searcheval", stdout=out)
    assert out.getvalue().startswith(f"{DEV_SET}: cases: ")
    assert "top-1: " in out.getvalue() and "top-3: " in out.getvalue()
