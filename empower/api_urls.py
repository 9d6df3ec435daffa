"""The REST API at /api/v1/: the organization's calls, then authority's, then feedback's."""

from django.urls import include, path

from empower import api

urlpatterns = [
    path("auth/token/", api.AuthTokenView.as_view(), name="api-auth-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("cases/", api.CaseListCreateView.as_view(), name="api-cases"),
    path("", include("delegation.api_urls")),
    path("", include("feedback.api_urls")),
]
