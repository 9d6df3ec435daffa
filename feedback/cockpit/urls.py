"""The cockpit's pages under /insights/ (included from `config.urls`). The tabs of the cockpit's
navigation (`feedback/templatetags/cockpit.py`) link these names."""

from django.urls import path

from feedback.cockpit import views, views_recommend

urlpatterns = [
    path("", views.decisions, name="cockpit"),
    path("pyramid/", views.pyramid, name="cockpit-pyramid"),
    path("export/<slug:table>.csv", views.export, name="cockpit-export"),
    # Limit recommendations, track records, what-if.
    path("recommendations/", views_recommend.recommendations, name="cockpit-recommendations"),
    path("recommendations/<int:pk>/", views_recommend.recommendation_detail, name="cockpit-recommendation-detail"),
    path(
        "recommendations/<int:pk>/accept/",
        views_recommend.recommendation_accept_view,
        name="cockpit-recommendation-accept",
    ),
    path(
        "recommendations/<int:pk>/dismiss/",
        views_recommend.recommendation_dismiss_view,
        name="cockpit-recommendation-dismiss",
    ),
    path("track-records/", views_recommend.track_records, name="cockpit-track-records"),
    path("track-records/<str:username>/", views_recommend.track_record_detail, name="cockpit-track-record"),
    path("what-if/", views_recommend.what_if_page, name="cockpit-what-if"),
]
