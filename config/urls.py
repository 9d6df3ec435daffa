"""Root URLs: admin, login, health, the API and its documents, then each app's pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import health
from empower.api import ApiDocsView
from feedback.cockpit.views import LoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Directors land on the cockpit's inverted pyramid, everyone else on their queue.
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
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
