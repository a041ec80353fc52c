"""The JSON API (``/api/v1/``): read-only, same filters and access rules as the pages."""

import json

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from .access import catalog_reader
from .forms import CatalogFilterForm, SearchForm
from .models import Article
from .search.engine import DEFAULT_LIMIT
from .search.engine import search as search_articles

PAGE_SIZE = 50


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_GET
@catalog_reader
def articles(request):
    form = CatalogFilterForm(request.GET)
    if not form.is_valid():
        return error(form_error(form), 400)
    queryset = Article.objects.filtered(**form.filters()).in_display_order()
    paginator = Paginator(queryset, PAGE_SIZE)
    number = form.cleaned_data.get("page") or 1
    if number > paginator.num_pages:
        return error(f"page: {number} is past the last page ({paginator.num_pages})", 404)
    page = paginator.page(number)
    next_url = None
    if page.has_next():
        query = request.GET.copy()
        query["page"] = page.next_page_number()
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return JsonResponse(
        {
            "count": paginator.count,
            "next": next_url,
            "results": [article.to_summary_dict() for article in page.object_list],
        }
    )


@require_GET
@catalog_reader
def article(request, slug):
    found = Article.objects.prefetch_related("symptoms").filter(slug=slug).first()
    if found is None:
        return error(f"no article with slug {slug!r}", 404)
    return JsonResponse(found.to_dict())


@csrf_exempt  # read-only: a POST only carries a paste too long for a URL
@require_http_methods(["GET", "POST"])
@catalog_reader
def search(request):
    """``GET /api/v1/search?q=...`` or ``POST`` with form field ``q`` or a JSON body ``{"q": ...}``."""
    data = request.GET
    if request.method == "POST":
        data = request.POST
        if request.content_type == "application/json":
            try:
                data = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError):
                return error("body: not valid JSON", 400)
            if not isinstance(data, dict):
                return error('body: expected a JSON object like {"q": "..."}', 400)
    form = SearchForm(data)
    if not form.is_valid():
        return error(form_error(form), 400)
    if not form.query().strip():
        return error("q: paste an error message to search for", 400)
    result = search_articles(form.query(), limit=form.cleaned_data.get("limit") or DEFAULT_LIMIT)
    return JsonResponse(result.to_dict())


def form_error(form) -> str:
    field, errors = next(iter(form.errors.items()))
    return f"{field}: {errors[0]}"
