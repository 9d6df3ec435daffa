"""The managers' lists of track records read from snapshots: the snapshot equals the live records on
a hand-made history (every field, every period), the list keeps the live order and pages, each
viewer sees only their people, the list costs the same queries for 3 people as for 30, and the
refresh (the beat task, the command) is idempotent."""

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from empower.models import Employee
from feedback.cockpit import views_recommend
from feedback.cockpit.models import TrackRecordSnapshot, TrackRecordState
from feedback.cockpit.tasks import refresh_track_records
from feedback.cockpit.track_record import period_start, records_of_people_below, track_records
from feedback.cockpit.track_record_snapshots import records_below, track_records_refresh
from feedback.models import FollowUp, Survey
from feedback.selectors import INSIGHT_PERIODS
from tests.feedback.cockpit_recommend_data import escalated, within

LISTED = re.compile(r'href="/insights/track-records/([^/]+)/\?period=')


def ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def history(org, make_case):
    """alice: 3 within authority (one corrected later), 2 approved as asked, 1 for less, 1 rejected,
    1 withdrawn in the last 10 days, one decision 100 days ago, CSAT 5 and 2 and one follow-up.
    erin: 4 approved as asked in the last 4 days, one rejected 50 days ago, one as asked 200 days
    ago, one waiting. bob: 2 approved as asked and one within authority; gina: 2 approved as asked
    (bob and gina tie on support and share: bob has more decisions). frank, hank: nothing in 30 days
    (tie broken by username); frank decided once, 40 days ago."""
    refund, goodwill = org.refund, org.goodwill
    case = make_case(org.alice)
    kw = {"case": case, "maker": org.alice, "decision_type": refund}
    within(amount=20, at=ago(10), **kw)
    within(amount=30, at=ago(9), **kw)
    within(amount=40, at=ago(100), **kw)
    for outcome, days in (("as_asked", 8), ("as_asked", 7), ("lower", 6), ("rejected", 5), ("withdrawn", 4)):
        escalated(approver=org.bob, amount=150, outcome=outcome, at=ago(days), **kw)
    corrected = make_case(org.alice)
    within(case=corrected, maker=org.alice, decision_type=refund, amount=50, at=ago(20))
    happy = make_case(org.alice)
    Survey.objects.create(case=happy, team=org.alice.team, resolved_by=org.alice, csat=5, answered_at=ago(15))
    survey = Survey.objects.create(
        case=corrected, team=org.alice.team, resolved_by=org.alice, csat=2, answered_at=ago(18), created_at=ago(19)
    )
    FollowUp.objects.create(
        survey=survey,
        case=corrected,
        reason=FollowUp.Reason.LOW_SCORE,
        resolver=org.alice,
        assigned_to=org.alice,
        due_at=ago(16),
        created_at=ago(18),
    )
    within(case=corrected, maker=org.bob, decision_type=goodwill, amount=20, at=ago(17))
    case = make_case(org.erin)
    kw = {"case": case, "maker": org.erin, "approver": org.bob, "decision_type": refund, "amount": 150}
    for days in range(1, 5):
        escalated(at=ago(days), **kw)
    escalated(outcome="rejected", at=ago(50), **kw)
    escalated(at=ago(200), **kw)
    escalated(outcome="waiting", at=ago(2), **kw)
    for maker, approver in ((org.bob, org.carol), (org.gina, org.hank)):
        case = make_case(maker)
        for days in (3, 6):
            escalated(case=case, maker=maker, approver=approver, decision_type=refund, amount=150, at=ago(days))
    within(case=make_case(org.frank), maker=org.frank, decision_type=refund, amount=10, at=ago(40))


def snapshot_of(period: str) -> dict[int, dict]:
    fields = ("employee_id", *TrackRecordSnapshot.FIGURES, "support", "as_asked_share")
    return {row["employee_id"]: row for row in TrackRecordSnapshot.objects.filter(period=period).values(*fields)}


def usernames(records) -> list[str]:
    return [r.username for r in records]


@pytest.mark.parametrize("period", list(INSIGHT_PERIODS))
def test_the_snapshot_equals_the_records_counted_live(org, history, period):
    now = timezone.now()
    assert track_records_refresh(now=now) == 4 * Employee.objects.count()
    everyone = list(Employee.objects.select_related("user"))
    live = track_records(employees=everyone, since=period_start(period, now=now))
    assert snapshot_of(period) == {
        r.employee_id: {
            "employee_id": r.employee_id,
            **{name: getattr(r, name) for name in TrackRecordSnapshot.FIGURES},
            "support": r.support,
            "as_asked_share": r.as_asked_share,
        }
        for r in live
    }
    alice = snapshot_of(period)[org.alice.pk]
    expected = {"30": 8, "90": 8, "365": 9, "all": 9}[period]
    assert alice["decisions"] == expected and alice["reversed_later"] == 1 and alice["csat_average"] == 3.5
    assert TrackRecordState.objects.get(period=period).refreshed_at == now


@pytest.mark.parametrize("period", list(INSIGHT_PERIODS))
def test_the_list_keeps_the_live_order(org, history, period):
    track_records_refresh()
    for manager in (org.dan, org.carol, org.bob, org.hank, org.alice):
        listing = records_below(manager=manager, period=period)
        assert listing.as_of is not None  # from the snapshot
        live = records_of_people_below(manager=manager, since=period_start(period))
        assert [r.__dict__ for r in listing.records[:]] == [r.__dict__ for r in live]


def test_the_order_by_hand(org, history):
    track_records_refresh()
    listed = usernames(records_below(manager=org.dan, period="30").records[:])
    # erin 4 as asked (support 4); bob and gina 2 (bob has 3 decisions); carol, frank, hank nothing
    # (by username); alice 2 as asked, 1 cut, 1 rejected, 1 corrected, 1 follow-up: 2 - 6 - 1.
    assert listed == ["erin", "bob", "gina", "carol", "frank", "hank", "alice"]
    # 90 days: erin's rejection 50 days ago brings her to 2, behind bob and gina (all as asked);
    # frank's one decision 40 days ago puts him ahead of carol and hank.
    listed = usernames(records_below(manager=org.dan, period="90").records[:])
    assert listed == ["bob", "gina", "erin", "frank", "carol", "hank", "alice"]


def test_before_the_first_refresh_the_list_is_counted_live(client, org, history):
    listing = records_below(manager=org.bob, period="90")
    assert listing.as_of is None and usernames(listing.records) == ["erin", "frank", "alice"]
    client.force_login(org.bob.user)
    page = client.get("/insights/track-records/?period=90").content.decode()
    assert LISTED.findall(page) == ["erin", "frank", "alice"] and "Records counted just now." in page


def test_the_list_shows_the_snapshot_and_when_it_was_taken(client, org, history, make_case):
    track_records_refresh()
    # frank earns three approvals after the snapshot: the list shows him as of the snapshot …
    case = make_case(org.frank)
    for days in (0.5, 0.4, 0.3):
        escalated(case=case, maker=org.frank, approver=org.bob, decision_type=org.refund, amount=150, at=ago(days))
    client.force_login(org.bob.user)
    page = client.get("/insights/track-records/?period=30").content.decode()
    assert LISTED.findall(page) == ["erin", "frank", "alice"] and "Records as of" in page
    # … his own page counts up to now, and the next refresh moves him up.
    assert client.get("/insights/track-records/frank/?period=30").context["record"].approved_as_asked == 3
    refresh_track_records.delay().get()
    page = client.get("/insights/track-records/?period=30").content.decode()
    assert LISTED.findall(page) == ["erin", "frank", "alice"]
    assert [r.approved_as_asked for r in records_below(manager=org.bob, period="30").records[:2]] == [4, 3]


def test_someone_hired_after_the_snapshot_is_listed_with_an_empty_record(org, history):
    track_records_refresh()
    user = type(org.alice.user).objects.create_user(username="ivy", password="x")
    Employee.objects.create(user=user, role=org.alice.role, team=org.alice.team, parent=org.bob)
    listed = records_below(manager=org.bob, period="90").records[:]
    assert usernames(listed) == ["erin", "frank", "ivy", "alice"]
    assert (listed[2].decisions, listed[2].support, listed[2].csat_average) == (0, 0, None)


@pytest.mark.parametrize(
    ("viewer", "listed"),
    [
        ("bob", ["erin", "frank", "alice"]),
        ("hank", ["gina"]),
        ("carol", ["erin", "bob", "gina", "frank", "hank", "alice"]),
        ("dan", ["erin", "bob", "gina", "carol", "frank", "hank", "alice"]),
    ],
)
def test_each_manager_sees_the_people_below_them(client, org, history, viewer, listed):
    track_records_refresh()
    client.force_login(getattr(org, viewer).user)
    assert LISTED.findall(client.get("/insights/track-records/?period=30").content.decode()) == listed
    csv = client.get("/insights/track-records/?period=30&format=csv").content.decode().splitlines()
    assert [line.split(",")[0] for line in csv[1:]] == listed


@pytest.mark.parametrize("agent", ["alice", "gina"])
def test_an_agent_sees_only_their_own_record(client, org, history, agent):
    track_records_refresh()
    client.force_login(getattr(org, agent).user)
    response = client.get("/insights/track-records/?period=30")
    assert response.status_code == 302 and response["Location"] == f"/insights/track-records/{agent}/?period=30"
    other = "erin" if agent == "alice" else "alice"
    assert client.get(f"/insights/track-records/{other}/").status_code == 404


def test_the_list_pages(client, org, history, monkeypatch):
    track_records_refresh()
    monkeypatch.setattr(views_recommend, "RECORDS_PER_PAGE", 3)
    client.force_login(org.dan.user)
    pages = [
        LISTED.findall(client.get(f"/insights/track-records/?period=30&page={n}").content.decode()) for n in (1, 2, 3)
    ]
    assert pages == [["erin", "bob", "gina"], ["carol", "frank", "hank"], ["alice"]]
    last = client.get("/insights/track-records/?period=30&page=9").content.decode()
    assert LISTED.findall(last) == ["alice"] and "Page 3 of 3" in last


def hire(org, count: int) -> list[Employee]:
    """`count` more agents below bob, with a decision each."""
    User = type(org.alice.user)
    users = User.objects.bulk_create([User(username=f"agent-{n:03}") for n in range(count)])
    return Employee.objects.bulk_create(
        [Employee(user=u, role=org.alice.role, team=org.alice.team, parent=org.bob) for u in users]
    )


def test_the_list_costs_the_same_queries_for_3_people_as_for_30(client, org, history, make_case):
    track_records_refresh()
    client.force_login(org.bob.user)
    client.get("/insights/track-records/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        page = client.get("/insights/track-records/?period=all").content.decode()
    assert len(LISTED.findall(page)) == 3
    for person in hire(org, 27):
        within(case=make_case(org.alice), maker=person, decision_type=org.refund, amount=10, at=ago(1))
    track_records_refresh()
    with CaptureQueriesContext(connection) as many:
        page = client.get("/insights/track-records/?period=all").content.decode()
    assert len(LISTED.findall(page)) == 30
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as csv:
        assert len(client.get("/insights/track-records/?period=all&format=csv").content.splitlines()) == 31
    assert len(csv) <= len(few)


def test_the_refresh_is_idempotent(org, history):
    assert refresh_track_records.delay().get() == 4 * Employee.objects.count()
    first = {period: snapshot_of(period) for period in INSIGHT_PERIODS}
    assert refresh_track_records.delay().get() == 4 * Employee.objects.count()
    assert {period: snapshot_of(period) for period in INSIGHT_PERIODS} == first
    assert TrackRecordSnapshot.objects.count() == 4 * Employee.objects.count()
    assert TrackRecordState.objects.filter(refreshed_at__isnull=False).count() == 4


def test_the_command_recounts_the_track_records(org, history):
    call_command("cockpit_summaries")
    assert TrackRecordSnapshot.objects.filter(period="90", employee=org.erin).get().approved_as_asked == 4
    TrackRecordSnapshot.objects.all().delete()
    call_command("cockpit_summaries", "--no-track-records")
    assert not TrackRecordSnapshot.objects.exists()
