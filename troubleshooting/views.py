from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from .access import catalog_reader
from .catalog.vocabulary import CATEGORIES
from .cluster_views import affected_clusters
from .forms import CatalogFilterForm, SearchForm
from .models import Article
from .search.engine import search as search_articles


def _category_counts(filters: dict) -> list[dict]:
    """Articles per category under the current severity/component filters."""
    rows = (
        Article.objects.filtered(severity=filters["severity"], component=filters["component"])
        .values("category")
        .annotate(n=Count("id"))
    )
    counts = {row["category"]: row["n"] for row in rows}
    return [
        {"value": value, "label": label, "count": counts.get(value, 0), "active": filters["category"] == value}
        for value, label in CATEGORIES.items()
    ]


@require_GET
@catalog_reader
def catalog(request):
    form = CatalogFilterForm(request.GET)
    filters = form.filters() if form.is_valid() else {"category": "", "severity": "", "component": ""}
    articles = Article.objects.filtered(**filters).in_display_order()
    context = {
        "form": form,
        "filters": filters,
        "articles": articles,
        "category_counts": _category_counts(filters),
        "total": Article.objects.count(),
        "nav": "catalog",
    }
    template = "troubleshooting/catalog.html"
    if request.htmx:
        template += "#catalog-results"
    return render(request, template, context, status=200 if form.is_valid() else 400)


@require_GET
@catalog_reader
def article(request, slug):
    article = get_object_or_404(Article.objects.prefetch_related("symptoms"), slug=slug)
    # Where the failure is found right now; cluster data only for logged-in users.
    affected = affected_clusters(article.slug) if request.user.is_authenticated else []
    return render(request, "troubleshooting/article.html", {"article": article, "affected": affected, "nav": "catalog"})


@require_http_methods(["GET", "POST"])
@catalog_reader
def search(request):
    """The search page (GET for links and the header box, POST for big pastes).

    One view, three renderings: the full page, its results fragment (the paste form), and
    the compact list under the header box, chosen by the element htmx targets.
    """
    form = SearchForm(request.POST if request.method == "POST" else request.GET)
    query = form.query() if form.is_valid() else ""
    result = search_articles(query) if query.strip() else None
    template = "troubleshooting/search.html"
    if request.htmx:
        template += "#header-results" if request.htmx.target == "header-results" else "#search-results"
    return render(request, template, {"form": form, "query": query, "result": result, "nav": "search"})
