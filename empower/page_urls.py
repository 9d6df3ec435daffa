from django.urls import path

from empower import views

urlpatterns = [
    path("cases/new/", views.case_new, name="case-new"),
    path("cases/<int:pk>/resolve/", views.case_resolve_view, name="case-resolve"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications-read"),
    path("account/tokens/", views.api_tokens_view, name="api-tokens"),
    path("account/tokens/<int:pk>/revoke/", views.api_token_revoke_view, name="api-token-revoke"),
]
