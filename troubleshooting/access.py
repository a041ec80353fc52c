"""Who may see what: the catalog may be public, clusters never are."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse


def catalog_reader(view):
    """Let anyone read the catalog when CATALOG_PUBLIC is on; otherwise require login."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if settings.CATALOG_PUBLIC or request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.path.startswith("/api/"):
            return JsonResponse({"error": "authentication required"}, status=401)
        return redirect_to_login(request.get_full_path())

    return wrapper
