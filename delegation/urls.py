"""The delegation app's pages: the one URL module (the root includes it at "").

Deciding and escalations (`delegation.views.cases`, `.escalations`), then where managers shape
authority: the matrix, role defaults, stand-ins and each employee's history (`.limits`, `.roles`,
`.stand_ins`, `.history`).
"""

from django.urls import path

from delegation.views import cases, escalations, guidance, header, history, limits, roles, splitting, stand_ins

urlpatterns = [
    path("", cases.home, name="home"),
    path("notifications/count/", header.header_counts_view, name="notification-count"),
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    path("cases/<int:pk>/decisions/<int:decision_pk>/outcome/", cases.decision_outcome, name="decision-outcome"),
    path("cases/<int:pk>/decisions/<int:decision_pk>/card/", cases.decision_card, name="decision-card"),
    path("cases/<int:pk>/reopen/", cases.case_reopen_view, name="case-reopen"),
    path("cases/<int:pk>/reassign/", cases.case_reassign_view, name="case-reassign"),
    path("escalations/", escalations.escalation_inbox_view, name="escalation-inbox"),
    path("escalations/<int:pk>/", escalations.escalation_detail, name="escalation-detail"),
    path("escalations/<int:pk>/approve/", escalations.escalation_approve_view, name="escalation-approve"),
    path("escalations/<int:pk>/reject/", escalations.escalation_reject_view, name="escalation-reject"),
    path("escalations/<int:pk>/withdraw/", escalations.escalation_withdraw_view, name="escalation-withdraw"),
    # Managers shape authority.
    path("authority/", limits.authority_matrix_view, name="authority-matrix"),
    path("authority/me/", limits.my_authority, name="authority-me"),
    path("authority/roles/", roles.role_defaults_view, name="authority-roles"),
    path("authority/roles/<slug:role>/<slug:decision_type>/", roles.role_cell, name="authority-role-cell"),
    path("authority/roles/<slug:role>/<slug:decision_type>/edit/", roles.role_edit, name="authority-role-edit"),
    path("authority/people/<str:username>/<slug:decision_type>/", limits.limit_cell, name="authority-cell"),
    path("authority/people/<str:username>/<slug:decision_type>/edit/", limits.limit_edit, name="authority-cell-edit"),
    path(
        "authority/people/<str:username>/<slug:decision_type>/windows/<int:pk>/end/",
        limits.limit_window_end,
        name="authority-window-end",
    ),
    path("authority/splits/", splitting.split_flags_view, name="split-flags"),
    path("authority/guidance/", guidance.guidance_list, name="guidance-list"),
    path("authority/guidance/<slug:decision_type>/", guidance.guidance_edit, name="guidance-edit"),
    path("delegations/", stand_ins.delegations_view, name="delegations"),
    path("delegations/candidates/", stand_ins.stand_in_candidates_view, name="stand-in-candidates"),
    path("delegations/<int:pk>/end/", stand_ins.delegation_end_view, name="delegation-end"),
    path("employees/<str:username>/authority/", history.employee_authority_history, name="employee-authority"),
]
