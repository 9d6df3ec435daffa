from django.urls import path

from feedback import views
from feedback.cockpit import views_recommend

app_name = "feedback"
urlpatterns = [
    # Staff pages first: a survey token never looks like these words.
    path("follow-ups/", views.follow_up_list, name="follow-ups"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow-up-detail"),
    path("answers/", views.answer_list, name="answers"),
    path("answers/<int:pk>/flag/", views.answer_flag, name="answer-flag"),
    path("reports/", views.report_board, name="reports"),
    path("reports/new/", views.report_new, name="report-new"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/second/", views.report_second, name="report-second"),
    path("reports/<int:pk>/answer/", views.report_answer, name="report-answer"),
    path("insights/", views.insights, name="insights"),
    # The cockpit: limit recommendations, track records, what-if (feedback.cockpit).
    path("cockpit/recommendations/", views_recommend.recommendations, name="cockpit-recommendations"),
    path(
        "cockpit/recommendations/<int:pk>/",
        views_recommend.recommendation_detail,
        name="cockpit-recommendation-detail",
    ),
    path(
        "cockpit/recommendations/<int:pk>/accept/",
        views_recommend.recommendation_accept_view,
        name="cockpit-recommendation-accept",
    ),
    path(
        "cockpit/recommendations/<int:pk>/dismiss/",
        views_recommend.recommendation_dismiss_view,
        name="cockpit-recommendation-dismiss",
    ),
    path("cockpit/track-records/", views_recommend.track_records, name="cockpit-track-records"),
    path(
        "cockpit/track-records/<str:username>/",
        views_recommend.track_record_detail,
        name="cockpit-track-record",
    ),
    path("cockpit/what-if/", views_recommend.what_if_page, name="cockpit-what-if"),
    # The customer's public page: the signed token is the only key.
    path("<str:token>/", views.survey, name="survey"),
    path("<str:token>/complaint/", views.survey_complaint, name="survey-complaint"),
]
