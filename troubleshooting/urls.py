from django.urls import path

from . import account_views, api, cluster_views, views

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("api/v1/articles/", api.articles, name="api-articles"),
    path("api/v1/articles/<str:slug>/", api.article, name="api-article"),
    path("search", views.search, name="search"),
    path("api/v1/search", api.search, name="api-search"),
    path("api/v1/clusters/", api.clusters, name="api-clusters"),
    path("api/v1/clusters/<slug:name>/findings", api.cluster_findings, name="api-cluster-findings"),
    path("clusters/", cluster_views.clusters, name="clusters"),
    path("clusters/add", cluster_views.cluster_add, name="cluster-add"),
    path("clusters/<slug:name>/", cluster_views.cluster, name="cluster"),
    path("clusters/<slug:name>/edit", cluster_views.cluster_edit, name="cluster-edit"),
    path("clusters/<slug:name>/delete", cluster_views.cluster_delete, name="cluster-delete"),
    path("clusters/<slug:name>/scan", cluster_views.scan_now, name="cluster-scan"),
    path("clusters/<slug:name>/scans/<int:scan_id>/status", cluster_views.scan_status, name="scan-status"),
    path("clusters/<slug:name>/findings/<str:fingerprint>/", cluster_views.finding, name="finding"),
    path("clusters/<slug:name>/findings/<str:fingerprint>/remediation.yaml", cluster_views.remediation_yaml, name="finding-yaml"),
    path("clusters/<slug:name>/findings/<str:fingerprint>/suppress", cluster_views.suppress, name="finding-suppress"),
    path("clusters/<slug:name>/suppressions/<int:suppression_id>/delete", cluster_views.unsuppress, name="unsuppress"),
    path("account/tokens", account_views.api_tokens, name="api-tokens"),
    path("account/tokens/<int:token_id>/revoke", account_views.api_token_revoke, name="api-token-revoke"),
]
