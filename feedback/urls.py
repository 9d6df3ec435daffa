from django.urls import path

from feedback import views, views_stories

app_name = "feedback"
urlpatterns = [
    # Staff pages first: a survey token never looks like these words.
    path("follow-ups/", views.follow_up_list, name="follow-ups"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow-up-detail"),
    path("follow-ups/<int:pk>/remedy/", views.follow_up_remedy_view, name="follow-up-remedy"),
    path("answers/", views.answer_list, name="answers"),
    path("answers/<int:pk>/flag/", views.answer_flag, name="answer-flag"),
    path("reports/", views.report_board, name="reports"),
    path("reports/new/", views.report_new, name="report-new"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/second/", views.report_second, name="report-second"),
    path("reports/<int:pk>/answer/", views.report_answer, name="report-answer"),
    path("reports/<int:pk>/change/", views.report_change, name="report-change"),
    path("insights/", views.insights, name="insights"),
    path("stories/", views_stories.stories, name="stories"),
    path("stories/<slug:kind>/<int:ref_id>/applaud/", views_stories.story_applaud, name="story-applaud"),
    path("stories/<slug:kind>/<int:ref_id>/feature/", views_stories.story_feature, name="story-feature"),
    path("people/<str:username>/recognition/", views_stories.recognition, name="recognition"),
    # The customer's public page: the signed token is the only key.
    path("<str:token>/", views.survey, name="survey"),
    path("<str:token>/complaint/", views.survey_complaint, name="survey-complaint"),
]
