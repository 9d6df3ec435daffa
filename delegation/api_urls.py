"""Authority, decisions and escalations under /api/v1/ (included from `empower.api_urls`)."""

from django.urls import path

from delegation import api

urlpatterns = [
    path("me/authority/", api.MyAuthorityView.as_view(), name="api-me-authority"),
    # Only the case itself: `cases/<id>/resolve/` belongs to feedback's API.
    path("cases/<int:pk>/", api.CaseDetailView.as_view(), name="api-case-detail"),
    path("decisions/", api.DecisionSubmitView.as_view(), name="api-decisions"),
    path("decisions/<int:pk>/", api.DecisionDetailView.as_view(), name="api-decision-detail"),
    path("escalations/", api.EscalationListView.as_view(), name="api-escalations"),
    path("escalations/<int:pk>/", api.EscalationDetailView.as_view(), name="api-escalation-detail"),
    path("escalations/<int:pk>/approve/", api.EscalationApproveView.as_view(), name="api-escalation-approve"),
    path("escalations/<int:pk>/reject/", api.EscalationRejectView.as_view(), name="api-escalation-reject"),
    path("escalations/<int:pk>/withdraw/", api.EscalationWithdrawView.as_view(), name="api-escalation-withdraw"),
    # Managers shape authority: limits, stand-ins and their history.
    path("employees/<str:username>/limits/", api.EmployeeLimitsView.as_view(), name="api-employee-limits"),
    path(
        "employees/<str:username>/limits/<slug:decision_type>/",
        api.EmployeeLimitView.as_view(),
        name="api-employee-limit",
    ),
    path(
        "employees/<str:username>/limits/<slug:decision_type>/windows/<int:pk>/end/",
        api.LimitWindowEndView.as_view(),
        name="api-employee-limit-window-end",
    ),
    path("employees/<str:username>/authority/", api.EmployeeAuthorityAtView.as_view(), name="api-employee-authority"),
    path("delegations/", api.DelegationListCreateView.as_view(), name="api-delegations"),
    path("delegations/<int:pk>/end/", api.DelegationEndView.as_view(), name="api-delegation-end"),
]
