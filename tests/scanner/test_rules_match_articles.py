"""Every rule links to a real catalog article, and a version-limited rule agrees with its article."""

from pathlib import Path

import pytest

from troubleshooting.catalog.parser import parse_catalog
from troubleshooting.scanner.engine import all_rules
from troubleshooting.versions import IstioVersion

ARTICLES = {a.slug: a for a in parse_catalog([Path(__file__).resolve().parents[2] / "troubleshooting" / "articles"])}


@pytest.mark.parametrize("rule", all_rules(), ids=lambda rule: rule.id)
def test_every_rule_links_to_a_catalog_article(rule):
    assert rule.slug in ARTICLES


def test_the_externalname_rule_uses_the_articles_version_range():
    from troubleshooting.scanner.rules.mkb002_externalname_service_hijacks_port import AFFECTED

    article = ARTICLES["externalname-service-hijacks-port"].affected_versions
    for version in ("1.11.4", "1.20.9", "1.21.0", "1.23.5", "1.24.0", "1.26.1"):
        for env in ({}, {"ENABLE_EXTERNAL_NAME_ALIAS": "false"}, {"ENABLE_EXTERNAL_NAME_ALIAS": "true"}):
            assert AFFECTED.applies(IstioVersion.parse(version), env) == article.applies(IstioVersion.parse(version), env)
