"""The REST API at /api/v1/: the organization's calls, then authority's, then feedback's."""

from django.urls import include, path

urlpatterns = [
    path("", include("empower.api_urls")),
    path("", include("delegation.api_urls")),
    path("", include("feedback.api_urls")),
]
