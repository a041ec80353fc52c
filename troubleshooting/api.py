"""The JSON API (``/api/v1/``): read-only, same filters and access rules as the pages."""

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from .access import catalog_reader
from .forms import CatalogFilterForm
from .models import Article

PAGE_SIZE = 50


def error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_GET
@catalog_reader
def articles(request):
    form = CatalogFilterForm(request.GET)
    if not form.is_valid():
        return error(form.first_error(), 400)
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
