"""Track records: the figures on a hand-made history, who may see them, and the manager's order."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback.cockpit.track_record import period_start, records_of_people_below, track_record
from feedback.models import FollowUp, Survey
from tests.feedback.cockpit_recommend_data import escalated, within


def ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def alices_record(org, make_case):
    """alice, last 90 days: 3 within authority (one later corrected), 2 approved as asked, 1 approved
    for less, 1 rejected, 1 withdrawn; one old decision (100 days ago). Cases she resolved: CSAT 5
    and 2, and one follow-up (the 2)."""
    case = make_case(org.alice)
    kw = {"case": case, "maker": org.alice, "decision_type": org.refund}
    within(amount=20, at=ago(10), **kw)
    within(amount=30, at=ago(9), **kw)
    within(amount=40, at=ago(100), **kw)
    for outcome, days in (("as_asked", 8), ("as_asked", 7), ("lower", 6), ("rejected", 5), ("withdrawn", 4)):
        escalated(approver=org.bob, amount=150, outcome=outcome, at=ago(days), **kw)
    # Corrected later: a follow-up on the case after alice's decision, then bob's remedy on it.
    corrected = make_case(org.alice)
    within(case=corrected, maker=org.alice, decision_type=org.refund, amount=50, at=ago(20))
    happy, unhappy = make_case(org.alice), corrected
    Survey.objects.create(case=happy, team=org.alice.team, resolved_by=org.alice, csat=5, answered_at=ago(15))
    survey = Survey.objects.create(
        case=unhappy, team=org.alice.team, resolved_by=org.alice, csat=2, answered_at=ago(18), created_at=ago(19)
    )
    FollowUp.objects.create(
        survey=survey,
        case=unhappy,
        reason=FollowUp.Reason.LOW_SCORE,
        resolver=org.alice,
        assigned_to=org.alice,
        due_at=ago(16),
        created_at=ago(18),
    )
    within(case=corrected, maker=org.bob, decision_type=org.goodwill, amount=20, at=ago(17))


def test_the_figures_of_a_record(org, alices_record):
    record = track_record(employee=org.alice, since=period_start("90"))
    assert (record.decisions, record.within_authority, record.escalated) == (8, 3, 5)
    assert (record.approved_as_asked, record.approved_lower, record.rejected, record.withdrawn) == (2, 1, 1, 1)
    assert record.reversed_later == 1
    assert (record.csat_average, record.csat_answers, record.follow_ups) == (3.5, 2, 1)
    assert track_record(employee=org.alice, since=period_start("all")).decisions == 9
    assert track_record(employee=org.alice, since=period_start("30")).decisions == 8
    # bob's remedy was not corrected by anything later.
    assert track_record(employee=org.bob, since=period_start("90")).reversed_later == 0


def test_managers_see_their_people_where_the_record_supports_more_authority_first(org, make_case, alices_record):
    case = make_case(org.erin)
    for days in range(1, 5):
        escalated(case=case, maker=org.erin, approver=org.bob, decision_type=org.refund, amount=150, at=ago(days))
    records = records_of_people_below(manager=org.bob, since=period_start("90"))
    assert [r.username for r in records] == ["erin", "frank", "alice"]  # alice: 2 as asked, 1 cut, 1 refused, …
    assert [r.username for r in records_of_people_below(manager=org.alice, since=None)] == []


def test_a_managers_list_costs_the_same_queries_for_more_people(org, alices_record, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        records_of_people_below(manager=org.bob, since=period_start("90"))
    with django_assert_max_num_queries(5):
        records_of_people_below(manager=org.dan, since=period_start("90"))


@pytest.mark.parametrize(
    ("viewer", "status"), [("alice", 200), ("bob", 200), ("carol", 200), ("dan", 200), ("erin", 404), ("hank", 404)]
)
def test_the_employee_and_those_above_them_see_the_record(api, alices_record, viewer, status):
    response = api(viewer).get("/api/v1/employees/alice/track-record/?period=90")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["decisions"] == 8 and body["approved_as_asked"] == 2 and body["csat_average"] == 3.5
        assert body["follow_ups"] == 1 and body["reversed_later"] == 1


def test_a_bad_period_is_400(api, org):
    assert api("alice").get("/api/v1/employees/alice/track-record/?period=7").status_code == 400


def test_the_record_as_csv(api, alices_record):
    response = api("bob").get("/api/v1/employees/alice/track-record/?period=90&format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, row = response.content.decode().strip().splitlines()
    assert header.startswith("username,period,decisions") and row.startswith("alice,90,8,3,5")


def test_pages_own_record_encourages_and_managers_list(client, org, alices_record):
    client.force_login(org.alice.user)
    response = client.get("/insights/track-records/")
    assert response.status_code == 302 and response["Location"].startswith("/insights/track-records/alice/")
    page = client.get("/insights/track-records/alice/").content.decode()
    assert "What you have settled for customers" in page and "how more authority is earned" in page
    assert client.get("/insights/track-records/erin/").status_code == 404
    client.force_login(org.bob.user)
    page = client.get("/insights/track-records/?period=90").content.decode()
    assert 'id="track-records"' in page and "Alice" in page
    csv = client.get("/insights/track-records/?period=90&format=csv").content.decode()
    assert csv.splitlines()[0].startswith("username,decisions")


def test_the_pages_cost_the_same_queries_for_more_people(client, org, alices_record):
    client.force_login(org.bob.user)
    client.get("/insights/track-records/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get("/insights/track-records/").status_code == 200
    client.force_login(org.dan.user)
    client.get("/insights/track-records/")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/insights/track-records/").status_code == 200
    assert len(many) == len(few)
