"""The cockpit's pages under /insights/ (included from `config.urls`). The tabs of the cockpit's
navigation (`feedback/templatetags/cockpit.py`) link these names, and c11b's pages when present:
`cockpit-recommendations`, `cockpit-track-records`, `cockpit-what-if`."""

from django.urls import path

from feedback.cockpit import views

urlpatterns = [
    path("", views.decisions, name="cockpit"),
    path("pyramid/", views.pyramid, name="cockpit-pyramid"),
    path("export/<slug:table>.csv", views.export, name="cockpit-export"),
]
