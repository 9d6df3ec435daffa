from django.urls import path

from delegation import views

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/<int:pk>/", views.case_detail, name="case-detail"),
    path("cases/<int:pk>/decisions/<int:decision_pk>/outcome/", views.decision_outcome, name="decision-outcome"),
    path("escalations/", views.escalation_inbox_view, name="escalation-inbox"),
    path("escalations/<int:pk>/", views.escalation_detail, name="escalation-detail"),
    path("escalations/<int:pk>/approve/", views.escalation_approve_view, name="escalation-approve"),
    path("escalations/<int:pk>/reject/", views.escalation_reject_view, name="escalation-reject"),
    path("escalations/<int:pk>/withdraw/", views.escalation_withdraw_view, name="escalation-withdraw"),
]
