"""Pages where managers shape authority (included from `empower.urls` at the root)."""

from django.urls import path

from delegation import authority_views as views

urlpatterns = [
    path("authority/", views.authority_matrix_view, name="authority-matrix"),
    path("authority/me/", views.my_authority, name="authority-me"),
    path("authority/roles/", views.role_defaults_view, name="authority-roles"),
    path("authority/roles/<slug:role>/<slug:decision_type>/", views.role_cell, name="authority-role-cell"),
    path("authority/roles/<slug:role>/<slug:decision_type>/edit/", views.role_edit, name="authority-role-edit"),
    path("authority/people/<str:username>/<slug:decision_type>/", views.limit_cell, name="authority-cell"),
    path("authority/people/<str:username>/<slug:decision_type>/edit/", views.limit_edit, name="authority-cell-edit"),
    path(
        "authority/people/<str:username>/<slug:decision_type>/windows/<int:pk>/end/",
        views.limit_window_end,
        name="authority-window-end",
    ),
    path("delegations/", views.delegations_view, name="delegations"),
    path("delegations/<int:pk>/end/", views.delegation_end_view, name="delegation-end"),
    path("employees/<str:username>/authority/", views.employee_authority_history, name="employee-authority"),
]
