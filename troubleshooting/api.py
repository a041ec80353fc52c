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


def _login_required_json(view):
    """Cluster data is never public: anonymous requests get 401, not a login redirect."""

    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return error("authentication required", 401)
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


@require_GET
@_login_required_json
def clusters(request):
    from .clusters.health import health_of
    from .models import Cluster

    results = []
    for item in health_of(list(Cluster.objects.all())):
        latest = item.latest
        results.append(
            {
                "name": item.cluster.name,
                "source": item.cluster.source,
                "enabled": item.cluster.enabled,
                "scan_interval_minutes": item.cluster.scan_interval,
                "grade": item.grade,
                "score": item.score,
                "state": item.state,
                "istio_versions": latest.istio_versions if latest else [],
                "last_scan": None
                if latest is None
                else {
                    "status": latest.status,
                    "finished_at": latest.finished_at.isoformat() if latest.finished_at else None,
                    "counts": item.counts,
                    "suppressed": item.suppressed,
                    "kind_errors": latest.kind_errors,
                    "error": latest.error,
                },
                "url": request.build_absolute_uri(item.cluster.get_absolute_url()),
            }
        )
    return JsonResponse({"results": results})


@require_GET
@_login_required_json
def cluster_findings(request, name):
    from .models import Cluster, Finding

    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        return error(f"no cluster named {name!r}", 404)
    suppressions = cluster.active_suppressions()
    results = []
    for finding in Finding.objects.filter(cluster=cluster, resolved_at__isnull=True).order_by("article_slug", "pk"):
        item = dict(finding.data)
        item["first_seen_at"] = finding.first_seen_at.isoformat()
        item["last_seen_at"] = finding.last_seen_at.isoformat()
        suppression = finding.suppressed_by(suppressions)
        item["suppressed"] = None if suppression is None else {
            "reason": suppression.reason, "until": suppression.expires_at.isoformat(), "scope": suppression.scope,
        }
        results.append(item)
    return JsonResponse({"cluster": cluster.name, "results": results})
