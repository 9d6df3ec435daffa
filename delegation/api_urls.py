"""Authority, decisions and escalations under /api/v1/ (included from `config.api_urls`)."""

from django.urls import path

from delegation.api import deciding, escalations, limits, splitting, stand_ins

urlpatterns = [
    path("me/authority/", deciding.MyAuthorityView.as_view(), name="api-me-authority"),
    # Only the case itself: `cases/<id>/resolve/` belongs to feedback's API.
    path("cases/<int:pk>/", deciding.CaseDetailView.as_view(), name="api-case-detail"),
    path("decisions/", deciding.DecisionSubmitView.as_view(), name="api-decisions"),
    path("decisions/<int:pk>/", deciding.DecisionDetailView.as_view(), name="api-decision-detail"),
    path("split-flags/", splitting.SplitFlagListView.as_view(), name="api-split-flags"),
    path("escalations/", escalations.EscalationListView.as_view(), name="api-escalations"),
    path("escalations/<int:pk>/", escalations.EscalationDetailView.as_view(), name="api-escalation-detail"),
    path("escalations/<int:pk>/approve/", escalations.EscalationApproveView.as_view(), name="api-escalation-approve"),
    path("escalations/<int:pk>/reject/", escalations.EscalationRejectView.as_view(), name="api-escalation-reject"),
    path(
        "escalations/<int:pk>/withdraw/", escalations.EscalationWithdrawView.as_view(), name="api-escalation-withdraw"
    ),
    # Managers shape authority: limits, stand-ins and their history.
    path("employees/<str:username>/limits/", limits.EmployeeLimitsView.as_view(), name="api-employee-limits"),
    path(
        "employees/<str:username>/limits/<slug:decision_type>/",
        limits.EmployeeLimitView.as_view(),
        name="api-employee-limit",
    ),
    path(
        "employees/<str:username>/limits/<slug:decision_type>/windows/<int:pk>/end/",
        limits.LimitWindowEndView.as_view(),
        name="api-employee-limit-window-end",
    ),
    path(
        "employees/<str:username>/authority/", limits.EmployeeAuthorityAtView.as_view(), name="api-employee-authority"
    ),
    path("delegations/", stand_ins.DelegationListCreateView.as_view(), name="api-delegations"),
    path("delegations/<int:pk>/end/", stand_ins.DelegationEndView.as_view(), name="api-delegation-end"),
]
