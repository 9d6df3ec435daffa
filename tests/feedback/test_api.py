"""Feedback's API: resolving a case (the contract), the public survey calls, staff lists with filters."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
import yaml
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from delegation.services import decision_submit, escalation_withdraw
from feedback import services
from feedback.cockpit.summaries import summaries_refresh
from feedback.models import FollowUp, FrictionReport, Survey


@pytest.fixture
def public():
    return APIClient()


def test_resolve_answers_the_contract_and_emails_the_customer(
    api, make_case, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://help.example.com"
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        response = api("alice").post(
            f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "Replaced the kettle"}, format="json"
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "resolved" and body["id"] == case.pk and body["resolved_by"] == "alice"
    survey = Survey.objects.get(case=case)
    assert body["feedback_url"] == services.survey_url(survey=survey)
    assert body["feedback_url"].startswith("https://help.example.com/feedback/")
    assert len(mail.outbox) == 1 and body["feedback_url"] in mail.outbox[0].body


def test_resolve_refusals(api, make_case, org):
    case = make_case(org.alice)
    alice = api("alice")
    assert api("gina").post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "x"}).status_code == 404
    response = alice.post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "  "}, format="json")
    assert response.status_code == 400 and "resolution_note" in response.json()
    assert alice.post(f"/api/v1/cases/{case.pk}/resolve/", {}, format="json").status_code == 400
    assert alice.post("/api/v1/cases/999999/resolve/", {"resolution_note": "x"}).status_code == 404
    assert not Survey.objects.exists()
    assert alice.post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "Done"}).status_code == 200
    response = api("bob").post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "Again"}, format="json")
    assert response.status_code == 409
    assert Survey.objects.count() == 1
    assert APIClient().post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "x"}).status_code in (401, 403)


def resolved(api, make_case, employee="alice", **case_kwargs) -> tuple[Survey, str]:
    case = make_case(**case_kwargs)
    url = api(employee).post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "Done"}).json()["feedback_url"]
    return Survey.objects.get(case=case), "/api/v1/feedback/" + url.rstrip("/").rsplit("/", 1)[1] + "/"


def test_the_customer_answers_once_without_an_account(api, make_case, public):
    survey, path = resolved(api, make_case)
    shown = public.get(path)
    assert shown.status_code == 200
    assert shown.json()["subject"] == "Broken kettle" and shown.json()["answered"] is False
    assert set(shown.json()) == {
        "subject", "first_name", "answered", "answered_at", "csat", "nps", "comment", "expires_at", "follow_ups",
    }  # fmt: skip
    response = public.post(path, {"csat": 2, "nps": 3, "comment": "Slow"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["answered"] is True and response.json()["csat"] == 2
    assert response.json()["follow_ups"][0]["status"] == "open"
    assert public.post(path, {"csat": 5}, format="json").status_code == 409
    survey.refresh_from_db()
    assert survey.csat == 2 and FollowUp.objects.filter(survey=survey).count() == 1


def test_the_public_call_ignores_a_session_so_csrf_never_gets_in_the_way(api, make_case, org):
    _survey, path = resolved(api, make_case)
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(org.bob.user)  # a logged-in staff browser, no CSRF token sent
    assert browser.post(path, {"csat": 5}, format="json").status_code == 201


@pytest.mark.parametrize(
    "body",
    [{"csat": 0}, {"csat": 6}, {"csat": "abc"}, {}, {"csat": 3, "nps": 11}, {"csat": 3, "nps": -1},
     {"csat": 3, "comment": "x" * 2001}, {"csat": 3.5}, {"csat": True}, {"csat": 3, "comment": "nul\x00"}],
)  # fmt: skip
def test_bad_answers_are_400_and_store_nothing(api, make_case, public, body):
    survey, path = resolved(api, make_case)
    response = public.post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_unknown_tampered_and_expired_tokens(api, make_case, public):
    survey, path = resolved(api, make_case)
    tampered = path[:-3] + ("x" if path[-3] != "x" else "y") + path[-2:]
    assert public.post(tampered, {"csat": 5}, format="json").status_code == 404
    assert public.get("/api/v1/feedback/nonsense/").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = public.post(path, {"csat": 5}, format="json")
        assert response.status_code == 410 and response.json()["code"] == "expired"
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_complaint_through_the_api(api, make_case, public):
    _survey, path = resolved(api, make_case)
    assert public.post(path + "complaint/", {"message": "Early"}, format="json").status_code == 409
    public.post(path, {"csat": 4}, format="json")
    assert public.post(path + "complaint/", {"message": ""}, format="json").status_code == 400
    response = public.post(path + "complaint/", {"message": "The lid is broken"}, format="json")
    assert response.status_code == 201
    assert response.json()["follow_ups"][0]["your_complaint"] == "The lid is broken"


def test_the_public_endpoints_are_throttled(api, make_case, public, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    _survey, path = resolved(api, make_case)
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    assert [public.get(path).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_follow_ups_are_listed_filtered_and_answered_by_the_api(api, make_case, public, org):
    survey, path = resolved(api, make_case)
    public.post(path, {"csat": 1, "comment": "Awful"}, format="json")
    follow_up = FollowUp.objects.get(survey=survey)
    listed = api("bob").get("/api/v1/follow-ups/", {"status": "open"}).json()
    assert listed["count"] == 1 and listed["results"][0]["assigned_to"] == "alice"
    assert listed["results"][0]["csat"] == 1 and listed["results"][0]["comment"] == "Awful"
    assert api("bob").get("/api/v1/follow-ups/", {"status": "done"}).json()["count"] == 0
    assert api("bob").get("/api/v1/follow-ups/", {"overdue": "true"}).json()["count"] == 0
    assert api("erin").get("/api/v1/follow-ups/").json()["count"] == 0
    assert api("erin").get(f"/api/v1/follow-ups/{follow_up.pk}/").status_code == 404
    assert (
        api("hank").post(f"/api/v1/follow-ups/{follow_up.pk}/reply/", {"action_taken": "x", "reply": "y"}).status_code
        == 404
    )
    assert (
        api("alice").post(f"/api/v1/follow-ups/{follow_up.pk}/reply/", {"action_taken": "", "reply": "y"}).status_code
        == 400
    )
    response = api("alice").post(
        f"/api/v1/follow-ups/{follow_up.pk}/reply/",
        {"action_taken": "Called", "reply": "Refunded in full"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "done"
    again = api("bob").post(f"/api/v1/follow-ups/{follow_up.pk}/reply/", {"action_taken": "x", "reply": "y"})
    assert again.status_code == 409
    shown = public.get(path).json()
    assert shown["follow_ups"][0]["reply"] == "Refunded in full" and shown["follow_ups"][0]["status"] == "done"


def test_surveys_list_with_context_and_filters(api, make_case, public, org):
    first_contact, path1 = resolved(api, make_case)
    escalated_case = make_case(org.alice)
    decision = decision_submit(
        employee=org.alice, case=escalated_case, decision_type=org.refund, amount=Decimal("150.00"), rationale="Two"
    )
    # A case is not resolved while its escalation waits: alice withdraws it first.
    escalation_withdraw(escalation_id=decision.escalation.pk, employee=org.alice)
    api("alice").post(f"/api/v1/cases/{escalated_case.pk}/resolve/", {"resolution_note": "Done"})
    escalated = Survey.objects.get(case=escalated_case)
    public.post(path1, {"csat": 5}, format="json")
    services.survey_answer(survey_id=escalated.pk, csat=3)

    everything = api("bob").get("/api/v1/surveys/").json()
    assert everything["count"] == 2
    row = next(r for r in everything["results"] if r["id"] == escalated.pk)
    assert row["handling"] == "escalated" and row["team"] == "Customer Care" and row["resolved_by"] == "alice"
    assert row["decisions"][0]["within_authority"] is False and row["decisions"][0]["made_by"] == "alice"
    assert [r["id"] for r in api("bob").get("/api/v1/surveys/", {"handling": "escalated"}).json()["results"]] == [
        escalated.pk
    ]
    assert [r["id"] for r in api("bob").get("/api/v1/surveys/", {"csat_min": 4}).json()["results"]] == [
        first_contact.pk
    ]
    assert api("bob").get("/api/v1/surveys/", {"answered": "false"}).json()["count"] == 0
    assert api("gina").get("/api/v1/surveys/").json()["count"] == 0
    assert api("gina").get(f"/api/v1/surveys/{escalated.pk}/").status_code == 404
    flagged = api("bob").post(f"/api/v1/surveys/{escalated.pk}/flag-complaint/")
    assert flagged.status_code == 201 and flagged.json()["reason"] == "flagged_comment"
    assert api("bob").post(f"/api/v1/surveys/{escalated.pk}/flag-complaint/").status_code == 409


def test_friction_reports_through_the_api(api, make_case, org):
    case = make_case(org.alice)
    body = {"case": case.pk, "decision_type": "refund", "limit": "per_day", "would_have_done": "Refund 400 today"}
    response = api("alice").post("/api/v1/friction-reports/", body, format="json")
    assert response.status_code == 201, response.content
    report = response.json()
    assert report["assigned_to"] == "bob" and report["rule"] == "Refund · Per day" and report["seconds"] == 0
    assert response["Location"] == f"/api/v1/friction-reports/{report['id']}/"
    assert api("gina").post("/api/v1/friction-reports/", body, format="json").status_code == 404
    assert (
        api("alice").post("/api/v1/friction-reports/", {**body, "decision_type": "nope"}, format="json").status_code
        == 400
    )
    assert (
        api("alice").post("/api/v1/friction-reports/", {**body, "decision": 999999}, format="json").status_code == 400
    )

    url = f"/api/v1/friction-reports/{report['id']}/"
    assert api("erin").post(url + "second/", {"note": "Me too"}, format="json").status_code == 201
    assert api("erin").post(url + "second/", {}, format="json").status_code == 409
    assert api("alice").post(url + "second/", {}, format="json").status_code == 403
    assert api("gina").post(url + "second/", {}, format="json").status_code == 404
    assert api("erin").post(url + "answer/", {"outcome": "accept", "note": "x"}, format="json").status_code == 403
    assert api("bob").post(url + "answer/", {"outcome": "maybe", "note": "x"}, format="json").status_code == 400
    answered = api("bob").post(url + "answer/", {"outcome": "explain", "note": "Fraud risk"}, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "explained"
    seen = api("alice").get(url).json()
    assert seen["answer"] == "Fraud risk" and seen["answers"][0]["by"] == "bob" and seen["seconded_by"] == ["erin"]
    assert api("alice").get("/api/v1/friction-reports/", {"status": "open"}).json()["count"] == 0
    assert api("erin").get("/api/v1/friction-reports/", {"decision_type": "refund"}).json()["count"] == 1
    assert api("hank").get("/api/v1/friction-reports/").json()["count"] == 0
    assert FrictionReport.objects.count() == 1


def test_list_endpoints_stay_at_a_constant_number_of_queries(
    api, make_case, public, org, django_assert_max_num_queries
):
    for _ in range(8):
        _survey, path = resolved(api, make_case)
        public.post(path, {"csat": 1}, format="json")
    bob = api("bob")
    with django_assert_max_num_queries(10):
        assert bob.get("/api/v1/follow-ups/").json()["count"] == 8
    with django_assert_max_num_queries(12):
        assert bob.get("/api/v1/surveys/").json()["count"] == 8
    with django_assert_max_num_queries(10):
        assert bob.get("/api/v1/insights/feedback/").json()["total"]["answered"] == 8


def test_the_openapi_document_has_all_of_it(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    paths = yaml.safe_load(path.read_text())["paths"]
    assert {"200", "400", "404", "409"} <= set(paths["/api/v1/cases/{id}/resolve/"]["post"]["responses"])
    public_answer = paths["/api/v1/feedback/{token}/"]["post"]
    assert {"201", "400", "404", "409", "410", "429"} <= set(public_answer["responses"])
    assert not any(public_answer.get("security", [])), "the customer's call needs no credentials"
    for listed in ("/api/v1/surveys/", "/api/v1/follow-ups/", "/api/v1/friction-reports/"):
        names = {p["name"] for p in paths[listed]["get"]["parameters"]}
        assert {"status", "limit", "offset"} & names and len(names) > 3
    for expected in (
        "/api/v1/feedback/{token}/complaint/",
        "/api/v1/follow-ups/{id}/reply/",
        "/api/v1/friction-reports/{id}/second/",
        "/api/v1/friction-reports/{id}/answer/",
        "/api/v1/surveys/{id}/flag-complaint/",
        "/api/v1/insights/feedback/",
    ):
        assert expected in paths


HUGE = "1" + "0" * 30


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/v1/surveys/", {"team": HUGE}, "team"),
        ("/api/v1/surveys/", {"case": str(2**63)}, "case"),
        ("/api/v1/surveys/", {"case": "abc"}, "case"),
        ("/api/v1/surveys/", {"team": "0"}, "team"),
        ("/api/v1/surveys/", {"csat": HUGE}, "csat"),
        ("/api/v1/surveys/", {"csat_min": "1e400"}, "csat_min"),
        ("/api/v1/surveys/", {"csat_max": "9"}, "csat_max"),
        ("/api/v1/surveys/", {"answered_after": "0001-01-01T00:00:00+01:00"}, "answered_after"),
        ("/api/v1/surveys/", {"answered_before": "9999-12-31T23:59:59-01:00"}, "answered_before"),
        ("/api/v1/surveys/", {"answered_after": "yesterday"}, "answered_after"),
        ("/api/v1/surveys/", {"handling": "sideways"}, "handling"),
        ("/api/v1/follow-ups/", {"case": HUGE}, "case"),
        ("/api/v1/follow-ups/", {"case": "abc"}, "case"),
        ("/api/v1/follow-ups/", {"status": "lost"}, "status"),
        ("/api/v1/friction-reports/", {"team": HUGE}, "team"),
        ("/api/v1/friction-reports/", {"case": HUGE}, "case"),
        ("/api/v1/friction-reports/", {"team": "abc"}, "team"),
        ("/api/v1/friction-reports/", {"limit": "per_week"}, "limit"),
    ],
)
def test_bad_filter_values_are_400_never_a_server_error(api, make_case, public, org, path, query, field):
    _survey, survey_path = resolved(api, make_case)
    public.post(survey_path, {"csat": 1}, format="json")
    response = api("bob").get(path, query)
    assert response.status_code == 400, response.content
    assert field in response.json() and response.json()["code"] == "invalid"


def test_bounded_filters_still_filter(api, make_case, public, org):
    survey, path = resolved(api, make_case)
    public.post(path, {"csat": 2}, format="json")
    bob = api("bob")
    assert bob.get("/api/v1/surveys/", {"case": survey.case_id}).json()["count"] == 1
    assert bob.get("/api/v1/surveys/", {"case": str(2**63 - 1)}).json()["count"] == 0
    assert bob.get("/api/v1/surveys/", {"team": survey.team_id, "csat_max": 2}).json()["count"] == 1
    assert bob.get("/api/v1/surveys/", {"answered_after": "2000-01-01T00:00:00+01:00"}).json()["count"] == 1
    assert bob.get("/api/v1/follow-ups/", {"case": survey.case_id}).json()["count"] == 1


def test_a_colleague_cannot_flag_a_comment_through_the_api(api, make_case, public, org):
    survey, path = resolved(api, make_case)
    public.post(path, {"csat": 3, "comment": "The courier was rude"}, format="json")
    response = api("erin").post(f"/api/v1/surveys/{survey.pk}/flag-complaint/")
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"
    assert not FollowUp.objects.exists()
    survey.refresh_from_db()
    assert survey.comment_is_complaint is False
    assert api("alice").post(f"/api/v1/surveys/{survey.pk}/flag-complaint/").status_code == 201


def test_a_decision_and_another_decision_type_are_refused_by_the_api(api, make_case, org):
    case = make_case(org.alice)
    decision = decision_submit(
        employee=org.alice, case=case, decision_type=org.refund, amount=Decimal("150.00"), rationale="Two"
    )
    body = {"case": case.pk, "decision": decision.pk, "decision_type": "goodwill_credit", "would_have_done": "x"}
    response = api("alice").post("/api/v1/friction-reports/", body, format="json")
    assert response.status_code == 400 and "decision_type" in response.json()
    assert not FrictionReport.objects.exists()


def test_insights_are_for_managers_with_the_pages_periods(api, org, resolve, client):
    long_ago = timezone.now() - timedelta(days=100)
    with time_machine.travel(long_ago):
        services.survey_answer(survey_id=resolve(org.alice).pk, csat=1)
    services.survey_answer(survey_id=resolve(org.alice).pk, csat=5)
    summaries_refresh()  # what beat does every minute: past days are read from the summaries

    response = api("alice").get("/api/v1/insights/feedback/")
    assert response.status_code == 403  # as the page: nobody reports to alice
    bob = api("bob")
    recent = bob.get("/api/v1/insights/feedback/").json()  # the last 90 days by default
    assert recent["period"] == "90" and recent["total"]["answered"] == 1
    assert recent["total"]["first_contact_csat"] == 5.0
    year = bob.get("/api/v1/insights/feedback/", {"period": "365"}).json()
    assert year["total"]["answered"] == 2 and year["follow_ups"]["open"] == 1
    assert bob.get("/api/v1/insights/feedback/", {"period": "all"}).json()["since"] is None
    assert bob.get("/api/v1/insights/feedback/", {"period": "7"}).status_code == 400
    client.force_login(org.bob.user)  # the page shows the same numbers for the same period
    page = client.get("/feedback/insights/", {"period": "365"}).content.decode()
    assert "3.00" in page  # (1 + 5) / 2


def test_the_public_throttle_counts_the_connection_not_a_forwarded_header(api, make_case, public, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    _survey, path = resolved(api, make_case)
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    statuses = [public.get(path, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]  # a client cannot pick a fresh address in a header
