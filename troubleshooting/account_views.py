"""The user's own API tokens: issue one (its key is shown once), see when each was used, revoke."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .forms import ApiTokenForm
from .models import ApiToken


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        token, new_key = ApiToken.issue(request.user, form.cleaned_data["name"])
        form = ApiTokenForm()
    tokens = request.user.api_tokens.all()
    # The key is in this one response only; nothing is stored that could show it again.
    response = render(request, "accounts/tokens.html", {"form": form, "tokens": tokens, "new_key": new_key, "nav": "tokens"})
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request, token_id):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.delete()
    messages.success(request, f"Token {token.prefix}… ({token.name}) was revoked.")
    return redirect("api-tokens")
