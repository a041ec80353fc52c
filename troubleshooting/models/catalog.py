from __future__ import annotations

from dataclasses import dataclass

from django.db import models, transaction
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe

from troubleshooting.catalog.parser import ArticleSource
from troubleshooting.catalog.vocabulary import CATEGORIES, COMPONENTS, RESPONSE_FLAGS, SECTIONS, SEEN_IN, SEVERITIES
from troubleshooting.markup import render_markdown
from troubleshooting.search.index import INDEX_VERSION, build_search_fields
from troubleshooting.versions import AffectedVersions

SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


def stored_hash(source: ArticleSource) -> str:
    """The file's hash plus the search index version: a new normaliser re-indexes everything."""
    return f"{source.source_hash[:56]}:idx{INDEX_VERSION}"


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed"


class ArticleQuerySet(models.QuerySet):
    def filtered(self, *, category: str = "", severity: str = "", component: str = "") -> "ArticleQuerySet":
        articles = self
        if category:
            articles = articles.filter(category=category)
        if severity:
            articles = articles.filter(severity=severity)
        if component:
            # Components are a closed vocabulary stored as a JSON list; matching the quoted
            # value works on every backend (SQLite has no JSON containment lookup).
            articles = articles.filter(components__icontains=f'"{component}"')
        return articles

    def in_display_order(self) -> "ArticleQuerySet":
        severity_order = models.Case(
            *(models.When(severity=name, then=rank) for name, rank in SEVERITY_RANK.items()),
            output_field=models.IntegerField(),
        )
        return self.order_by(severity_order, "title")

    def sync(self, sources: list[ArticleSource]) -> SyncResult:
        """Make the table match the parsed files: create, update, and remove in one transaction."""
        result = SyncResult()
        using = self.db
        with transaction.atomic(using=using):
            existing = {article.slug: article for article in self.select_for_update()}
            for source in sources:
                article = existing.pop(source.slug, None)
                if article is not None and article.source_hash == stored_hash(source):
                    result.unchanged += 1
                    continue
                if article is None:
                    article = Article(slug=source.slug)
                    result.created += 1
                else:
                    result.updated += 1
                article.apply_source(source, using=using)
            for article in existing.values():
                article.delete(using=using)
                result.removed += 1
            if result.created or result.updated or result.removed:
                SearchTerm.rebuild(using=using)
        return result


class Article(models.Model):
    """One known Istio failure, loaded from ``troubleshooting/articles/<slug>.md``.

    Every field comes from the file; the file is the source of truth, so the admin shows
    articles read-only and `loadarticles` overwrites any edit made in the database.
    """

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    category = models.CharField(max_length=32, choices=list(CATEGORIES.items()), db_index=True)
    severity = models.CharField(max_length=16, choices=list(SEVERITIES.items()), db_index=True)
    components = models.JSONField(default=list)
    istio_versions = models.JSONField(default=list)
    analyzer_codes = models.JSONField(default=list)
    response_flags = models.JSONField(default=list)
    related_slugs = models.JSONField(default=list)
    references = models.JSONField(default=list)
    sections = models.JSONField(default=dict)
    snippets = models.JSONField(default=list)
    source_path = models.CharField(max_length=500)
    source_hash = models.CharField(max_length=64)
    # Search index inputs, derived from the fields above when the article is loaded: the
    # normalised terms of the symptoms, codes and text, which the database's full-text
    # index (FTS5 / tsvector, see migration 0002) indexes, and the terms per field.
    search_symptoms = models.TextField(default="", editable=False)
    search_codes = models.TextField(default="", editable=False)
    search_body = models.TextField(default="", editable=False)
    search_terms = models.JSONField(default=dict, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("article", args=[self.slug])

    def apply_source(self, source: ArticleSource, using: str = "default") -> None:
        """Copy a parsed file into this row and replace its symptoms."""
        self.title = source.title
        self.summary = source.summary
        self.category = source.category
        self.severity = source.severity
        self.components = source.components
        self.istio_versions = source.istio_versions
        self.analyzer_codes = source.analyzer_codes
        self.response_flags = source.response_flags
        self.related_slugs = source.related
        self.references = source.references
        self.sections = source.sections
        self.snippets = [
            {"section": s.section, "heading": s.heading, "language": s.language, "code": s.code}
            for s in source.snippets
        ]
        self.source_path = source.path
        self.source_hash = stored_hash(source)
        fields = build_search_fields(
            title=source.title,
            summary=source.summary,
            sections=source.sections,
            symptoms=[s["text"] for s in source.symptoms],
            analyzer_codes=source.analyzer_codes,
            response_flags=source.response_flags,
        )
        self.search_symptoms = fields.symptoms_text
        self.search_codes = fields.codes_text
        self.search_body = fields.body_text
        # Space-joined strings: a query splits a few of them, which is much faster than decoding lists.
        self.search_terms = {name: " ".join(terms) for name, terms in fields.terms.items()}
        self.save(using=using)
        Symptom.objects.using(using).filter(article=self).delete()
        Symptom.objects.using(using).bulk_create(
            Symptom(article=self, position=index, text=s["text"], seen_in=s["seen_in"], note=s["note"], tokens=tokens)
            for index, (s, tokens) in enumerate(zip(source.symptoms, fields.symptom_tokens))
        )

    @property
    def affected_versions(self) -> AffectedVersions:
        return AffectedVersions.from_data(self.istio_versions)

    @property
    def category_label(self) -> str:
        return CATEGORIES.get(self.category, self.category)

    @property
    def severity_label(self) -> str:
        return SEVERITIES.get(self.severity, self.severity)

    @property
    def component_labels(self) -> list[str]:
        return [COMPONENTS.get(c, c) for c in self.components]

    @property
    def flag_details(self) -> list[tuple[str, str]]:
        return [(flag, RESPONSE_FLAGS.get(flag, "")) for flag in self.response_flags]

    @cached_property
    def rendered_sections(self) -> list[dict]:
        """The body sections as sanitised HTML, in the fixed order."""
        return [
            {"key": key, "title": title, "html": mark_safe(render_markdown(self.sections.get(key, "")))}
            for key, title in SECTIONS.items()
        ]

    @cached_property
    def yaml_snippets(self) -> list[dict]:
        return [s for s in self.snippets if s["language"] in ("yaml", "yml")]

    def related_articles(self) -> "ArticleQuerySet":
        return Article.objects.filter(slug__in=self.related_slugs).in_display_order()

    def to_summary_dict(self) -> dict:
        return {
            "slug": self.slug,
            "title": self.title,
            "category": self.category,
            "severity": self.severity,
            "components": self.components,
            "summary": self.summary,
        }

    def to_dict(self) -> dict:
        return {
            **self.to_summary_dict(),
            "istio_versions": self.istio_versions,
            "affected_versions": self.affected_versions.describe(),
            "symptoms": [s.to_dict() for s in self.symptoms.all()],
            "analyzer_codes": self.analyzer_codes,
            "response_flags": self.response_flags,
            "related": self.related_slugs,
            "references": self.references,
            "sections": {key: self.sections.get(key, "") for key in SECTIONS},
            "yaml_snippets": [{"heading": s["heading"], "section": s["section"], "yaml": s["code"]} for s in self.yaml_snippets],
            "updated": self.updated.isoformat(),
        }


class Symptom(models.Model):
    """A verbatim string a user sees when the failure happens, and where it is seen."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="symptoms")
    position = models.PositiveIntegerField()
    text = models.TextField()
    seen_in = models.CharField(max_length=32, choices=list(SEEN_IN.items()))
    note = models.TextField(blank=True)
    tokens = models.JSONField(default=list, editable=False)  # the text, normalised for search

    class Meta:
        ordering = ["article", "position"]
        constraints = [models.UniqueConstraint(fields=["article", "position"], name="symptom_position_unique")]

    def __str__(self) -> str:
        return self.text

    @property
    def seen_in_label(self) -> str:
        return SEEN_IN.get(self.seen_in, self.seen_in)

    def to_dict(self) -> dict:
        return {"text": self.text, "seen_in": self.seen_in, "note": self.note}


class SearchTerm(models.Model):
    """How many articles contain a term: the rarer, the more a match on it means."""

    term = models.CharField(max_length=200, unique=True)
    articles = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.term} ({self.articles})"

    @classmethod
    def rebuild(cls, using: str = "default") -> None:
        counts: dict[str, int] = {}
        rows = Article.objects.using(using).values_list("id", "search_terms", "search_codes").iterator(chunk_size=2000)
        symptom_tokens: dict[int, set[str]] = {}
        symptoms = Symptom.objects.using(using).values_list("article_id", "tokens")
        for article_id, tokens in symptoms.iterator(chunk_size=5000):
            symptom_tokens.setdefault(article_id, set()).update(tokens)
        for article_id, terms, codes in rows:
            distinct = set(codes.split()) | symptom_tokens.get(article_id, set())
            for text in terms.values():
                distinct.update(text.split())
            for term in distinct:
                counts[term] = counts.get(term, 0) + 1
        cls.objects.using(using).all().delete()
        cls.objects.using(using).bulk_create(
            (cls(term=term[:200], articles=n) for term, n in counts.items() if len(term) <= 200), batch_size=2000
        )
