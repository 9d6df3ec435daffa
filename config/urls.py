"""Root URLs: admin, login, health, the API and its documents, then each app's pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import health
from empower.api import ApiDocsView
from empower.forms import AdminLoginForm, LoginForm
from empower.password_reset import PasswordResetView
from feedback.cockpit.views import LoginView

admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    # Directors land on the cockpit's inverted pyramid, everyone else on their queue.
    path("accounts/login/", LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail: Django's views (the e-mail through the outbox, rate limited).
    path("accounts/password-reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", health.healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("", include("empower.page_urls")),
    path("", include("delegation.urls")),
    path("feedback/", include("feedback.urls")),
    path("insights/", include("feedback.cockpit.urls")),
]

# Styled pages in the product's look and the reader's language; JSON under /api/ (empower.error_pages).
handler400 = "empower.error_pages.bad_request"
handler403 = "empower.error_pages.permission_denied"
handler404 = "empower.error_pages.page_not_found"
handler500 = "empower.error_pages.server_error"
