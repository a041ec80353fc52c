from django.urls import path

from . import api, views

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("api/v1/articles/", api.articles, name="api-articles"),
    path("api/v1/articles/<str:slug>/", api.article, name="api-article"),
    path("search", views.search, name="search"),
    path("api/v1/search", api.search, name="api-search"),
]
