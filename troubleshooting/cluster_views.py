"""Cluster health pages. Everything here requires login; changing clusters requires staff."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Value
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from .clusters import kubeconfig as kubeconfigs
from .clusters import scanning
from .clusters.health import health_of
from .clusters.registry import ClusterInputError, configure
from .forms import ClusterForm, SuppressionForm
from .models import Article, Cluster, Finding, Scan, Suppression
from .models.clusters import SEVERITIES

OBJECTS_PER_GROUP = 25
MAX_EXPANDED = 2000  # objects listed for one failure when the user asks for all of them
DISPLAY_ORDER = ("namespace", "name", "kind")
SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can add, change or delete clusters.")
        return view(request, *args, **kwargs)

    return wrapper


def _enqueue(scan: Scan) -> None:
    from .tasks import run_scan

    run_scan.delay_on_commit(scan.pk)


@require_GET
@login_required
def clusters(request):
    items = health_of(list(Cluster.objects.all()))
    return render(request, "clusters/overview.html", {"items": items, "nav": "clusters"})


@require_GET
@login_required
def cluster(request, name):
    """The cluster page: a fixed number of queries however many findings there are."""
    cluster = get_object_or_404(Cluster, name=name)
    health = health_of([cluster])[0]
    latest = health.latest
    suppressions = cluster.active_suppressions()
    hidden = Suppression.covering(suppressions)
    open_findings = Finding.objects.filter(cluster=cluster, resolved_at__isnull=True)
    shown = open_findings.exclude(hidden) if hidden is not None else open_findings
    expanded = request.GET.get("article", "")

    # Per failure: how many objects, how many new, the worst severity (one aggregate query).
    stats = shown.values("article_slug").annotate(
        total=Count("id"),
        new=Count("id", filter=Q(first_seen_scan=latest)) if latest else Value(0),
        errors=Count("id", filter=Q(severity="error")),
        warnings=Count("id", filter=Q(severity="warning")),
    ).order_by()
    groups = {}
    for row in stats:
        severity = "error" if row["errors"] else "warning" if row["warnings"] else "info"
        groups[row["article_slug"]] = {
            "slug": row["article_slug"], "total": row["total"], "new": row["new"], "severity": severity, "shown": [],
        }
    # The first objects of each failure (all of the expanded one) in one query: a LIMITed
    # subquery per failure, each read along the index in display order.
    firsts = Q(pk__in=[])
    for slug in groups:
        limit = MAX_EXPANDED if slug == expanded else OBJECTS_PER_GROUP
        firsts |= Q(pk__in=shown.filter(article_slug=slug).order_by(*DISPLAY_ORDER).values("pk")[:limit])
    rows = Finding.objects.filter(firsts).defer("data").order_by("article_slug", *DISPLAY_ORDER) if groups else []
    for finding in rows:
        finding.cluster = cluster  # already loaded: no query per row for its URL
        groups[finding.article_slug]["shown"].append(finding)
    titles = dict(Article.objects.filter(slug__in=groups).values_list("slug", "title"))
    ordered = sorted(groups.values(), key=lambda g: (SEVERITY_ORDER[g["severity"]], -g["total"], g["slug"]))
    for group in ordered:
        group["title"] = titles.get(group["slug"], group["slug"])

    suppressed = []
    if hidden is not None:
        for finding in open_findings.filter(hidden).defer("data").order_by("rule", "namespace", "name")[:MAX_EXPANDED]:
            finding.cluster = cluster
            suppressed.append((finding, finding.suppressed_by(suppressions)))
    resolved = []
    if latest:
        resolved = list(Finding.objects.filter(cluster=cluster, resolved_in_scan=latest).defer("data")[:200])
    context = {
        "cluster": cluster,
        "health": health,
        "groups": ordered,
        "suppressed": suppressed,
        "suppressions": suppressions,
        "resolved": resolved,
        "history": list(cluster.scans.all()[:20]),
        "active": health.active,
        "nav": "clusters",
        "can_manage": request.user.is_staff,
        # Row links are built from this prefix: one reverse() instead of one per finding.
        "findings_url": reverse("finding", args=[cluster.name, "x"])[:-2],
        "latest_id": latest.pk if latest else None,
    }
    return render(request, "clusters/cluster.html", context)


@require_POST
@login_required
def scan_now(request, name):
    cluster = get_object_or_404(Cluster, name=name)
    scan = scanning.scan_now(cluster)
    if scan is None:
        messages.info(request, f"{cluster.name} is being scanned already.")
    else:
        _enqueue(scan)
    if request.htmx:
        active = scan or cluster.active_scan()
        return render(request, "clusters/cluster.html#scan-progress", {"cluster": cluster, "active": active})
    return redirect(cluster)


@require_GET
@login_required
def scan_status(request, name, scan_id):
    """Polled by htmx every second; 286 stops the polling, and a refresh shows the results."""
    scan = get_object_or_404(Scan.objects.select_related("cluster"), pk=scan_id, cluster__name=name)
    if scan.finished:
        response = HttpResponseClientRefresh()
        response.status_code = 286
        return response
    return render(request, "clusters/cluster.html#scan-progress", {"cluster": scan.cluster, "active": scan})


@require_GET
@login_required
def finding(request, name, fingerprint):
    found = get_object_or_404(Finding.objects.select_related("cluster"), cluster__name=name, fingerprint=fingerprint)
    suppressions = found.cluster.active_suppressions()
    article = Article.objects.filter(slug=found.article_slug).only("slug", "title", "summary").first()
    form = SuppressionForm(initial={"expires_at": (timezone.localdate() + timedelta(days=30)).isoformat()})
    return render(
        request,
        "clusters/finding.html",
        {
            "cluster": found.cluster,
            "finding": found,
            "article": article,
            "suppression": found.suppressed_by(suppressions),
            "form": form,
            "nav": "clusters",
        },
    )


@require_GET
@login_required
def remediation_yaml(request, name, fingerprint):
    found = get_object_or_404(Finding, cluster__name=name, fingerprint=fingerprint)
    text = found.remediation.get("yaml") or ""
    if not text:
        return HttpResponse("This finding has no YAML to apply; see its commands.\n", status=404, content_type="text/plain")
    response = HttpResponse(text, content_type="application/yaml; charset=utf-8")
    filename = f"{found.cluster.name}-{found.rule.lower()}-{found.name}.yaml"
    response["Content-Disposition"] = f'attachment; filename="{"".join(c for c in filename if c.isalnum() or c in "-._")}"'
    return response


@require_POST
@login_required
def suppress(request, name, fingerprint):
    found = get_object_or_404(Finding.objects.select_related("cluster"), cluster__name=name, fingerprint=fingerprint)
    form = SuppressionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(f"{field}: {errors[0]}" for field, errors in form.errors.items()))
        return redirect(found)
    scope = form.cleaned_data["scope"]
    expires = timezone.make_aware(datetime.combine(form.cleaned_data["expires_at"], time.min))
    Suppression.objects.create(
        cluster=found.cluster,
        rule=found.rule,
        namespace=found.namespace if scope == "namespace" else "",
        fingerprint=found.fingerprint if scope == "finding" else "",
        reason=form.cleaned_data["reason"],
        author=request.user,
        expires_at=expires,
    )
    messages.success(request, f"Suppressed until {form.cleaned_data['expires_at']:%Y-%m-%d}.")
    return redirect(found.cluster)


@require_POST
@login_required
def unsuppress(request, name, suppression_id):
    suppression = get_object_or_404(Suppression, pk=suppression_id, cluster__name=name)
    if not (request.user.is_staff or request.user == suppression.author):
        raise PermissionDenied("Only its author or staff can lift a suppression.")
    suppression.delete()
    messages.success(request, "Suppression lifted.")
    return redirect("cluster", name)


def _save_cluster(request, form: ClusterForm, cluster: Cluster) -> bool:
    data = form.cleaned_data
    cluster.scan_interval = data["scan_interval"]
    cluster.enabled = data["enabled"]
    try:
        snapshot = form.snapshot_upload() if data["source"] == Cluster.SNAPSHOT else None
        configure(
            cluster,
            source=data["source"],
            kubeconfig=form.kubeconfig_bytes() if data["source"] == Cluster.KUBECONFIG else None,
            context=data.get("context") or None,
            snapshot=snapshot[0] if snapshot else None,
            snapshot_name=snapshot[1] if snapshot else "snapshot",
        )
    except (ClusterInputError, kubeconfigs.KubeconfigError) as exc:
        form.add_error(None, str(exc))
        return False
    except ValidationError as exc:  # an upload over the size limit
        form.add_error(None, exc.messages[0])
        return False
    return True


def _contexts_for(form: ClusterForm) -> list[str]:
    """The contexts of the submitted kubeconfig, so the form can offer them."""
    raw = form.kubeconfig_bytes() if form.is_bound and hasattr(form, "cleaned_data") else None
    if not raw:
        return []
    try:
        return kubeconfigs.context_names(kubeconfigs.parse(raw, settings.MESHKB_MAX_KUBECONFIG_BYTES))
    except kubeconfigs.KubeconfigError:
        return []


@require_http_methods(["GET", "POST"])
@staff_required
def cluster_add(request):
    form = ClusterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        cluster = Cluster(name=form.cleaned_data["name"])
        if _save_cluster(request, form, cluster):
            messages.success(request, f"Cluster {cluster.name} added; its first scan starts within a minute.")
            return redirect(cluster)
    return render(request, "clusters/form.html", {"form": form, "contexts": _contexts_for(form), "nav": "clusters"},
                  status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@staff_required
def cluster_edit(request, name):
    cluster = get_object_or_404(Cluster, name=name)
    initial = {"name": cluster.name, "source": cluster.source, "context": cluster.context,
               "scan_interval": cluster.scan_interval, "enabled": cluster.enabled}
    form = ClusterForm(request.POST or None, request.FILES or None, instance=cluster, initial=initial)
    if request.method == "POST" and form.is_valid() and _save_cluster(request, form, cluster):
        messages.success(request, f"Cluster {cluster.name} saved.")
        return redirect(cluster)
    return render(request, "clusters/form.html", {"form": form, "cluster": cluster, "contexts": _contexts_for(form),
                                                  "nav": "clusters"}, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@staff_required
def cluster_delete(request, name):
    cluster = get_object_or_404(Cluster, name=name)
    if request.method == "POST":
        cluster.delete()
        messages.success(request, f"Cluster {name} and its scan history were deleted.")
        return redirect("clusters")
    return render(request, "clusters/delete.html", {"cluster": cluster, "nav": "clusters"})


def affected_clusters(article_slug: str) -> list[dict]:
    """Where a failure is found right now: [{cluster, objects}] (for the article page)."""
    rows = (
        Finding.objects.filter(article_slug=article_slug, resolved_at__isnull=True)
        .values("cluster__name")
        .annotate(objects=Count("id"))
        .order_by("cluster__name")
    )
    return [{"name": row["cluster__name"], "objects": row["objects"]} for row in rows]
