"""The bundled catalog: every file loads and every YAML block in it parses."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

from troubleshooting.catalog.parser import parse_catalog
from troubleshooting.models import Article
from troubleshooting.versions import IstioVersion

ARTICLES = parse_catalog([settings.BASE_DIR / "troubleshooting" / "articles"])
BY_SLUG = {article.slug: article for article in ARTICLES}

REQUIRED_SLUGS = """
app-starts-before-sidecar-ready externalname-service-hijacks-port gateway-duplicate-tls-host
server-first-protocol-port-conflict long-connection-without-keepalive route-not-found-nr circuit-breaker-overflow-uo
mtls-mode-conflict strict-mtls-plaintext-client https-to-http-port double-tls gateway-shared-certificate-404
headless-service-503-uc envoy-crash-file-descriptors upstream-connection-reset-idle-timeout no-healthy-upstream-uh
rbac-access-denied jwt-authentication-failure injection-webhook-failure sidecar-not-injected registry-only-blackhole
http10-426-upgrade-required virtualservice-gateway-host-mismatch subset-not-found port-naming-protocol-selection
tcp-serviceentry-without-addresses proxy-not-ready-no-config root-ca-expired upstream-request-timeout-504
gateway-port-protocol-conflict upstream-tls-verify-failed
""".split()


def test_the_catalog_has_every_required_article():
    assert len(ARTICLES) >= 31
    assert sorted(set(REQUIRED_SLUGS) - set(BY_SLUG)) == []


@pytest.mark.parametrize("slug", sorted(BY_SLUG))
def test_every_yaml_block_parses_to_kubernetes_objects_or_config(slug):
    for snippet in (s for s in BY_SLUG[slug].snippets if s.language in ("yaml", "yml")):
        documents = [doc for doc in yaml.safe_load_all(snippet.code) if doc is not None]
        assert documents, f"{slug}: empty yaml block under '{snippet.heading}'"
        for doc in documents:
            if isinstance(doc, dict) and "kind" in doc:
                assert doc.get("apiVersion"), f"{slug}: {doc['kind']} without apiVersion"
                # `istioctl install -f` takes an IstioOperator without a name; kubectl needs one.
                if doc["kind"] != "IstioOperator":
                    assert doc.get("metadata", {}).get("name"), f"{slug}: {doc['kind']} without metadata.name"


@pytest.mark.parametrize("slug", sorted(BY_SLUG))
def test_every_article_lists_several_verbatim_symptoms_and_real_links(slug):
    article = BY_SLUG[slug]
    assert len(article.symptoms) >= 3, f"{slug} lists only {len(article.symptoms)} symptoms"
    assert all(ref["url"].startswith("https://") for ref in article.references)


def test_the_externalname_article_is_limited_to_the_versions_with_the_hijack():
    versions = BY_SLUG["externalname-service-hijacks-port"].affected_versions
    assert versions.applies(IstioVersion.parse("1.20.3"))
    assert versions.applies(IstioVersion.parse("1.22.0"), {"ENABLE_EXTERNAL_NAME_ALIAS": "false"})
    assert not versions.applies(IstioVersion.parse("1.22.0"))
    assert not versions.applies(IstioVersion.parse("1.26.0"), {"ENABLE_EXTERNAL_NAME_ALIAS": "false"})


def test_the_bundled_catalog_loads_into_the_database(db):
    call_command("loadarticles", stdout=open("/dev/null", "w"))
    assert Article.objects.count() == len(ARTICLES)
    for article in Article.objects.all():
        assert Path(article.source_path).name == f"{article.slug}.md"
        assert len(article.rendered_sections) == 5
