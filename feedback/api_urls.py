"""Feedback's calls under /api/v1/ (included from `config.api_urls`)."""

from django.urls import path

from feedback import api, api_stories
from feedback.cockpit import api_autonomy, api_recommend
from feedback.cockpit.api import DecisionsInsightsView

urlpatterns = [
    path("cases/<int:pk>/resolve/", api.CaseResolveView.as_view(), name="api-case-resolve"),
    # Public: the customer's signed link is the only key.
    path("feedback/<str:token>/", api.PublicSurveyView.as_view(), name="api-feedback-survey"),
    path("feedback/<str:token>/complaint/", api.PublicComplaintView.as_view(), name="api-feedback-complaint"),
    path("surveys/", api.SurveyListView.as_view(), name="api-surveys"),
    path("surveys/<int:pk>/", api.SurveyDetailView.as_view(), name="api-survey-detail"),
    path("surveys/<int:pk>/flag-complaint/", api.SurveyFlagComplaintView.as_view(), name="api-survey-flag"),
    path("follow-ups/", api.FollowUpListView.as_view(), name="api-follow-ups"),
    path("follow-ups/<int:pk>/", api.FollowUpDetailView.as_view(), name="api-follow-up-detail"),
    path("follow-ups/<int:pk>/reply/", api.FollowUpReplyView.as_view(), name="api-follow-up-reply"),
    path("follow-ups/<int:pk>/remedy/", api.FollowUpRemedyView.as_view(), name="api-follow-up-remedy"),
    path("friction-reports/", api.FrictionReportListCreateView.as_view(), name="api-friction-reports"),
    path("friction-reports/<int:pk>/", api.FrictionReportDetailView.as_view(), name="api-friction-report-detail"),
    path(
        "friction-reports/<int:pk>/second/", api.FrictionReportSecondView.as_view(), name="api-friction-report-second"
    ),
    path(
        "friction-reports/<int:pk>/answer/", api.FrictionReportAnswerView.as_view(), name="api-friction-report-answer"
    ),
    path(
        "friction-reports/<int:pk>/change/", api.FrictionReportChangeView.as_view(), name="api-friction-report-change"
    ),
    path("stories/", api_stories.StoryListView.as_view(), name="api-stories"),
    path("stories/<slug:kind>/<int:ref_id>/applaud/", api_stories.StoryApplaudView.as_view(), name="api-story-applaud"),
    path("stories/<slug:kind>/<int:ref_id>/feature/", api_stories.StoryFeatureView.as_view(), name="api-story-feature"),
    path(
        "employees/<str:username>/recognition/", api_stories.RecognitionView.as_view(), name="api-employee-recognition"
    ),
    path("insights/feedback/", api.FeedbackInsightsView.as_view(), name="api-feedback-insights"),
    path("insights/decisions/", DecisionsInsightsView.as_view(), name="api-insights-decisions"),
]

# The cockpit's recommendations, track records and what-if (feedback.cockpit).

urlpatterns += [
    path(
        "insights/recommendations/",
        api_recommend.RecommendationListView.as_view(),
        name="api-insights-recommendations",
    ),
    path(
        "insights/recommendations/refresh/",
        api_recommend.RecommendationRefreshView.as_view(),
        name="api-insights-recommendations-refresh",
    ),
    path(
        "insights/recommendations/<int:pk>/accept/",
        api_recommend.RecommendationAcceptView.as_view(),
        name="api-insights-recommendation-accept",
    ),
    path(
        "insights/recommendations/<int:pk>/dismiss/",
        api_recommend.RecommendationDismissView.as_view(),
        name="api-insights-recommendation-dismiss",
    ),
    path("insights/what-if/", api_autonomy.WhatIfView.as_view(), name="api-insights-what-if"),
    path(
        "employees/<str:username>/track-record/",
        api_autonomy.TrackRecordView.as_view(),
        name="api-employee-track-record",
    ),
]
