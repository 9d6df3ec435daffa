"""Issue 10, item 4: the inbox, the queue, the case page and the notifications cost the same number of
queries with 3 rows as with 30, and the lists that grow come a page at a time."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delegation.selectors import escalation_inbox
from delegation.selectors.escalations import escalations_to_answer
from delegation.services import decision_submit
from delegation.views.cases import DECISIONS_SHOWN
from empower.models import Notification

pytestmark = pytest.mark.django_db


def _decide(org, case, amount: str, n: int = 1) -> None:
    for i in range(n):
        decision_submit(
            employee=org.alice, case=case, decision_type=org.goodwill, amount=Decimal(amount), rationale=f"kettle {i}"
        )


def _queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def _login(client, org, who: str):
    client.force_login(getattr(org, who).user)
    return client


@pytest.fixture
def routed(django_capture_on_commit_callbacks):
    """Decisions routed as after a real request: the on-commit routing task runs (eager Celery)."""
    return django_capture_on_commit_callbacks


def _escalations(org, make_case, n: int, routed) -> None:
    # goodwill: alice may give 25.00 a decision, bob 100.00: 30.00 goes to bob. One case each so no
    # per-customer cap interferes.
    for _ in range(n):
        case = make_case(org.alice)
        with routed(execute=True):
            _decide(org, case, "30.00")


def test_the_inbox_costs_the_same_with_3_and_30_escalations(org, make_case, client, api, routed):
    _login(client, org, "bob")
    bob_api = api("bob")
    _escalations(org, make_case, 3, routed)
    assert escalation_inbox(employee=org.bob).count() == 3
    few_page, few_api = _queries(client, "/escalations/"), _queries(bob_api, "/api/v1/escalations/")
    _escalations(org, make_case, 27, routed)
    assert escalation_inbox(employee=org.bob).count() == 30
    assert _queries(client, "/escalations/") == few_page
    assert _queries(bob_api, "/api/v1/escalations/") == few_api
    assert few_page <= 16 and few_api <= 8


def test_the_inbox_and_its_count_read_the_same_rows_as_the_rule(org, make_case, routed):
    """The index-friendly prefilter changes nothing of who may answer: the open rows are exactly the
    ones `can_answer` allows, and the header's count is the same number."""
    _escalations(org, make_case, 3, routed)
    inbox = escalation_inbox(employee=org.bob)
    assert {e.pk for e in inbox if e.can_answer} == set(
        escalations_to_answer(employee=org.bob).values_list("pk", flat=True)
    )
    assert escalations_to_answer(employee=org.bob).count() == 3
    assert not escalations_to_answer(employee=org.alice).exists()  # the requester never
    assert escalations_to_answer(employee=org.carol).count() == 0  # not hers (yet)


def test_a_stand_in_finds_the_approvers_escalations_in_the_inbox(org, make_case, api, routed):
    _escalations(org, make_case, 2, routed)
    response = api("bob").post(
        "/api/v1/delegations/",
        {
            "to": "erin",
            "decision_types": ["goodwill_credit"],
            "starts_at": "2020-01-01T00:00:00Z",
            "ends_at": "2999-01-01T00:00:00Z",
            "reason": "Holiday",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert escalations_to_answer(employee=org.erin).count() == 2
    assert sum(e.can_answer for e in escalation_inbox(employee=org.erin)) == 2
    assert escalations_to_answer(employee=org.frank).count() == 0


def test_the_queue_and_the_cases_api_cost_the_same_with_3_and_30_cases(org, make_case, client, api):
    for _ in range(3):
        make_case(org.alice)
    clients = {
        ("alice", "/"): _login(client.__class__(), org, "alice"),
        ("carol", "/"): _login(client.__class__(), org, "carol"),
        ("alice", "/api/v1/cases/"): api("alice"),
        ("dan", "/api/v1/cases/"): api("dan"),
    }
    few = {key: _queries(c, key[1]) for key, c in clients.items()}
    for _ in range(27):
        make_case(org.erin)
    assert {key: _queries(c, key[1]) for key, c in clients.items()} == few


def test_the_case_page_shows_the_latest_decisions_and_a_way_to_see_more(org, make_case, client):
    case = make_case(org.alice)
    _decide(org, case, "1.00", n=3)
    _login(client, org, "alice")
    url = f"/cases/{case.pk}/"
    few = _queries(client, url)
    _decide(org, case, "1.00", n=DECISIONS_SHOWN + 7)  # 30 in all
    assert _queries(client, url) == few
    page = client.get(url).content.decode()
    assert page.count('class="decision"') == DECISIONS_SHOWN
    assert "?decisions=2" in page and "Older decisions" in page

    # Without JavaScript: the case page with the older ones; with htmx: only them, the link replaced.
    older = client.get(url, {"decisions": "2"}).content.decode()
    assert older.count('class="decision"') == 10 and "Newer decisions" in older and "<html" in older
    with CaptureQueriesContext(connection) as queries:
        partial = client.get(url, {"decisions": "2"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.count('class="decision"') == 10 and "<html" not in body and "Older decisions" not in body
    assert len(queries) <= few


def test_the_notifications_come_a_page_at_a_time_at_a_constant_cost(org, client):
    def notify(n: int) -> None:
        start = Notification.objects.count()
        Notification.objects.bulk_create(
            Notification(recipient=org.bob, key=f"test:{start + i}", message=f"Note {start + i}") for i in range(n)
        )

    _login(client, org, "bob")
    notify(3)
    few = _queries(client, "/notifications/")
    notify(57)
    assert _queries(client, "/notifications/") == few
    page = client.get("/notifications/").content.decode()
    assert page.count("<li class=") == 50 and "?page=2" in page
    assert client.get("/notifications/?page=2").content.decode().count("<li class=") >= 10
