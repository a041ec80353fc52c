"""`Authorization: Bearer mkb_…` on the JSON API authenticates as the token's user."""

from django.http import JsonResponse

from .models import ApiToken


class ApiTokenMiddleware:
    """Only /api/ paths look at the header; pages keep using the login session.

    The API only reads (its one POST, search, carries a long paste), so a token grants its
    user's read access and nothing more. A wrong header is a 401, never a silent anonymous request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.headers.get("Authorization")
        if header is not None and request.path.startswith("/api/"):
            scheme, _, key = header.strip().partition(" ")
            if scheme.lower() != "bearer":
                # e.g. Basic credentials a reverse proxy in front of meshkb asked the browser for: not ours
                return self.get_response(request)
            if not key.strip():
                return JsonResponse({"error": "Authorization header: expected 'Bearer <API token>'"}, status=401)
            user = ApiToken.user_for(key.strip())
            if user is None:
                return JsonResponse({"error": "Authorization header: unknown or revoked API token"}, status=401)
            request.user = user
        return self.get_response(request)
