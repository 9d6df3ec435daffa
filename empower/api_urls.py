"""The organization's calls under /api/v1/ (included from `config.api_urls`)."""

from django.urls import path

from empower import api

urlpatterns = [
    path("auth/token/", api.AuthTokenView.as_view(), name="api-auth-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path("me/tokens/", api.MyTokensView.as_view(), name="api-me-tokens"),
    path("me/tokens/<int:pk>/", api.MyTokenView.as_view(), name="api-me-token"),
    path("cases/", api.CaseListCreateView.as_view(), name="api-cases"),
    path("cases/<int:pk>/reopen/", api.CaseReopenView.as_view(), name="api-case-reopen"),
    path("cases/<int:pk>/reassign/", api.CaseReassignView.as_view(), name="api-case-reassign"),
]
