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
# Collected separately from other threads, by someone who did not read the articles: an honest
# estimate of accuracy on messages the catalog was not tuned for.
VALIDATION_SET = Path(__file__).parent / "search_eval" / "validation_set.yaml"


def cases_for(alias: str = "default", path: Path = DEV_SET):
    return load_cases(path, known_slugs=set(Article.objects.using(alias).values_list("slug", flat=True)))


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


def test_messages_the_catalog_was_not_tuned_for_are_still_found(db):
    call_command("loadarticles", stdout=StringIO())
    report = evaluate(cases_for(path=VALIDATION_SET), top)
    assert report.accuracy(3) >= 0.90, report.summary()
    assert report.accuracy(1) >= 0.78, report.summary()


@pytest.mark.django_db(databases=["default", "other"])
def test_sqlite_and_postgresql_rank_the_development_set_the_same_way():
    if "other" not in settings.DATABASES:
        skip_unless_ci("no second database: PostgreSQL is not reachable on 127.0.0.1:5432")
    for alias in ("default", "other"):
        call_command("loadarticles", database=alias, stdout=StringIO())
    differences = []
    for case in cases_for() + cases_for(path=VALIDATION_SET):
        here, there = top(case.query, 5, "default"), top(case.query, 5, "other")
        if here[:3] != there[:3]:
            differences.append(f"{case.id}: {here[:3]} vs {there[:3]}")
    assert differences == []


def test_the_evaluation_command_prints_the_accuracy(db):
    call_command("loadarticles", stdout=StringIO())
    out = StringIO()
    call_command("searcheval", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(": cases: ")[0] for line in lines] == [str(DEV_SET), str(VALIDATION_SET)]
    assert all("top-1: " in line and "top-3: " in line for line in lines)
