"""The pages where authority shows: the queue, the case page and its decision form, the inbox."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delegation.models import Decision, Delegation, Escalation, UsageCounter
from delegation.services import decision_submit, escalation_approve
from empower.models import Employee, Notification

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def login(client):
    def as_(employee):
        client.force_login(employee.user)
        return client

    return as_


def decide(client, case, *, htmx=True, **data):
    body = {"decision_type": "refund", "amount": "50.00", "rationale": "Kettle arrived broken"} | data
    return client.post(f"/cases/{case.pk}/", body, **(HX if htmx else {}))


def escalate(org, case, *, amount="150.00", by=None, capture):
    """alice (by default) proposes a refund beyond her authority; routing runs on commit."""
    with capture(execute=True):
        return decision_submit(
            employee=by or org.alice,
            case=case,
            decision_type=org.refund,
            amount=Decimal(amount),
            rationale="Two kettles",
        )


def text(response) -> str:
    """The response's visible text, whitespace collapsed, for assertions on sentences."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# The queue ----------------------------------------------------------------------------------------


def test_alice_sees_her_teams_open_cases_not_other_teams(org, make_case, login):
    mine = make_case(org.alice, subject="Kettle leaks")
    erins = make_case(org.erin, subject="Toaster sparks")
    ginas = make_case(org.gina, subject="Returns parcel lost")

    response = login(org.alice).get("/")

    assert response.status_code == 200
    body = response.content.decode()
    assert f"/cases/{mine.pk}/" in body
    assert f"/cases/{erins.pk}/" in body
    assert f"/cases/{ginas.pk}/" not in body
    assert "<title>Queue · Empower</title>" in body


def test_resolved_cases_leave_the_queue(org, make_case, login):
    from empower.services import case_resolve

    case = make_case(org.alice)
    case_resolve(employee=org.alice, case=case, resolution_note="Sent a new kettle")

    assert f"/cases/{case.pk}/" not in login(org.alice).get("/").content.decode()


def test_carol_sees_every_team_below_her(org, make_case, login):
    care = make_case(org.alice)
    returns = make_case(org.gina)

    body = login(org.carol).get("/").content.decode()

    assert f"/cases/{care.pk}/" in body
    assert f"/cases/{returns.pk}/" in body
    assert "Cases in your teams" in body


def test_queue_shows_what_is_left_of_todays_authority(org, make_case, login):
    case = make_case(org.alice)
    decision_submit(employee=org.alice, case=case, decision_type=org.refund, amount=Decimal("50.00"), rationale="x")

    response = login(org.alice).get("/")

    row = re.search(r'<tr id="authority-refund">(.*?)</tr>', response.content.decode(), re.S).group(1)
    assert "€100.00" in row  # per decision, and what she can decide now
    assert "€250.00" in row  # 300.00 a day, 50.00 used
    assert "€1,950.00" in row  # 2000.00 a month, 50.00 used


def test_a_stand_in_sees_for_whom_and_until_when(org, login):
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=org.bob,
        delegate=org.alice,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=2),
        reason="Bob on leave",
        created_by=org.bob,
    )
    delegation.decision_types.set([org.refund])

    body = text(login(org.alice).get("/"))

    assert "You are standing in for Bob until" in body
    assert "Held as a stand-in" in body


def test_the_queue_stays_within_its_query_budget(org, make_case, login, django_assert_max_num_queries):
    for _ in range(40):
        make_case(org.erin)
    client = login(org.alice)

    with django_assert_max_num_queries(20):
        response = client.get("/")

    assert response.status_code == 200


# The case page ------------------------------------------------------------------------------------


def test_case_page_shows_the_case_history_and_the_decision_form(org, make_case, login):
    case = make_case(org.alice, email="jo@example.com", subject="Kettle leaks")
    earlier = make_case(org.erin, email="jo@example.com", subject="Late delivery")
    elsewhere = make_case(org.gina, email="jo@example.com", subject="Returned blender")
    for amount in ("30.00", "12.50", "150.00"):  # approved, approved, escalated: granted 42.50
        decision_submit(employee=org.erin, case=earlier, decision_type=org.refund, amount=amount, rationale="Late")

    response = login(org.alice).get(f"/cases/{case.pk}/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Kettle leaks" in body
    history = re.search(r'<ul class="plain" id="customer-history">(.*?)</ul>', body, re.S).group(1)
    assert f"/cases/{earlier.pk}/" in history
    assert f"/cases/{elsewhere.pk}/" not in history  # Returns' case is not alice's to see
    assert "granted €42.50" in history
    for field in ("decision_type", "amount", "rationale"):
        assert f'name="{field}"' in body
    assert f'hx-post="/cases/{case.pk}/"' in body
    assert '<option value="refund">Refund</option>' in body


def test_another_teams_case_is_not_found(org, make_case, login):
    case = make_case(org.gina)

    client = login(org.alice)

    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert decide(client, case).status_code == 404
    assert not Decision.objects.exists()


def test_deciding_within_authority_answers_approved_in_place(org, make_case, login):
    case = make_case(org.alice)

    response = decide(login(org.alice), case, amount="50.00")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Approved" in body
    assert '<div id="decision-panel">' in body
    # The list of decisions and the authority panel come along as out-of-band swaps.
    assert '<section class="panel" id="decisions"' in body and 'hx-swap-oob="true"' in body
    assert re.search(r'<section id="authority-panel"[^>]*hx-swap-oob="true"', body)
    assert "€250.00" in body  # refreshed: 300.00 a day less the 50.00 just given
    decision = Decision.objects.get()
    assert (decision.status, decision.amount, decision.made_by) == ("approved", Decimal("50.00"), org.alice)


def test_deciding_without_javascript_posts_and_redirects(org, make_case, login):
    case = make_case(org.alice)
    client = login(org.alice)

    response = decide(client, case, htmx=False)

    decision = Decision.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/?decision={decision.pk}#decide"
    page = client.get(response["Location"])
    assert '<p class="outcome-title">Approved</p>' in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_deciding_beyond_authority_answers_escalated_to_bob(org, make_case, login):
    case = make_case(org.alice)

    # Not in a test transaction: the service commits and eager Celery routes at once, as in production.
    response = decide(login(org.alice), case, amount="150.00")

    assert response.status_code == 200
    assert "Escalated to Bob" in response.content.decode()
    escalation = Escalation.objects.select_related("decision").get()
    assert escalation.status == "assigned" and escalation.assigned_to == org.bob
    assert escalation.decision.exceeded == ["per_decision"]
    assert Notification.objects.filter(recipient=org.bob, url=f"/escalations/{escalation.pk}/").exists()


def test_an_escalation_not_routed_yet_says_so(org, make_case, login):
    case = make_case(org.alice)

    # Inside the test's transaction the on-commit routing has not run when the page answers.
    response = decide(login(org.alice), case, amount="150.00")

    assert response.status_code == 200
    assert "Escalated — finding the right approver" in response.content.decode()
    assert Escalation.objects.get().status == "routing"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "abc"}, "amount", "Enter an amount such as 80.00."),
        ({"amount": "-5"}, "amount", "The amount must be greater than zero."),
        ({"amount": "10.001"}, "amount", "Use at most two decimal places."),
        ({"amount": ""}, "amount", "Enter an amount such as 80.00."),
        ({"rationale": "   "}, "rationale", "Say why: the rationale is required."),
        ({"decision_type": "free_money"}, "decision_type", "Choose one of the decision types."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_input_shows_the_error_beside_the_field_and_creates_nothing(
    org, make_case, login, data, field, message, htmx
):
    case = make_case(org.alice)

    response = decide(login(org.alice), case, htmx=htmx, **data)

    assert response.status_code == 400
    body = response.content.decode()
    assert f'<ul class="errorlist" id="id_{field}_error"><li>{message}</li></ul>' in body
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*name="{field}"', body)
    assert not Decision.objects.exists()
    assert not UsageCounter.objects.filter(amount__gt=0).exists()


def test_deciding_on_a_resolved_case_is_a_conflict(org, make_case, login):
    from empower.services import case_resolve

    case = make_case(org.alice)
    client = login(org.alice)
    client.get(f"/cases/{case.pk}/")
    case_resolve(employee=org.bob, case=case, resolution_note="Bob settled it by phone")

    response = decide(client, case)

    assert response.status_code == 409
    assert "This case is resolved" in response.content.decode()
    assert not Decision.objects.exists()


def test_the_case_page_shows_the_approvers_answer_and_path(org, make_case, login, django_capture_on_commit_callbacks):
    case = make_case(org.alice)
    decision = escalate(org, case, capture=django_capture_on_commit_callbacks)
    escalation_approve(escalation_id=decision.escalation.pk, approver=org.bob, note="Fine, loyal customer")

    body = text(login(org.alice).get(f"/cases/{case.pk}/"))

    assert "approved by Bob" in body
    assert "Fine, loyal customer" in body
    assert "Nearest person above whose authority covers it" in body  # the routing step of the path


def test_the_case_page_stays_within_its_query_budget(
    org, make_case, login, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    case = make_case(org.alice)
    for n in range(20):
        decision_submit(
            employee=org.alice, case=case, decision_type=org.goodwill, amount=Decimal("1.00"), rationale=f"{n}"
        )
    for _ in range(12):
        escalate(org, case, capture=django_capture_on_commit_callbacks)
    make_case(org.erin, email=case.customer.email)
    client = login(org.alice)

    # Who may see the case is asked once; the guidance, wow-budget and feedback panels cost one each;
    # the people the decisions name come in a query of their own (`with_people`: joined into the
    # decisions', sixteen tables cost PostgreSQL more to plan than the page's other queries to run).
    with django_assert_max_num_queries(27):
        response = client.get(f"/cases/{case.pk}/")

    assert response.status_code == 200
    # The latest 20 of the 32; the older ones a page at a time (tests/delegation/test_pages_at_scale.py).
    assert response.content.decode().count('class="decision"') == 20
    assert "Older decisions" in response.content.decode()


# The inbox ----------------------------------------------------------------------------------------


def test_bob_sees_the_escalation_in_his_inbox(org, make_case, login, django_capture_on_commit_callbacks):
    case = make_case(org.alice)
    decision = escalate(org, case, capture=django_capture_on_commit_callbacks)

    response = login(org.bob).get("/escalations/")

    assert response.status_code == 200
    body = text(response)
    escalation = decision.escalation
    assert f'id="escalation-{escalation.pk}"' in response.content.decode()
    assert "Refund €150.00" in body
    assert case.customer.name in body
    assert "Requested by Alice" in body
    assert "Why it came to you Over the per-decision limit of €100.00" in body  # in words, never a key
    assert f'action="/escalations/{escalation.pk}/approve/"' in response.content.decode()
    # The header counts what waits for him.
    assert re.search(r'id="nav-escalations"[^>]*>Escalations <span class="badge">1<', response.content.decode())


def test_bob_approves_from_the_inbox_and_the_row_updates(org, make_case, login, django_capture_on_commit_callbacks):
    case = make_case(org.alice)
    escalation = escalate(org, case, capture=django_capture_on_commit_callbacks).escalation

    response = login(org.bob).post(f"/escalations/{escalation.pk}/approve/", {"note": "Good call", "amount": ""}, **HX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(
        f'<article class="panel escalation escalation-approved" id="escalation-{escalation.pk}"'
    )
    assert "Approved: Refund of €150.00 for Alice" in body
    decision = Decision.objects.get()
    assert (decision.status, decision.final_amount, decision.approved_by) == ("approved", Decimal("150.00"), org.bob)
    escalation.refresh_from_db()
    assert (escalation.status, escalation.note) == ("approved", "Good call")
    assert Notification.objects.filter(recipient=org.alice, url=f"/cases/{case.pk}/").exists()


def test_bob_approves_a_lower_amount(org, make_case, login, django_capture_on_commit_callbacks):
    escalation = escalate(org, make_case(org.alice), capture=django_capture_on_commit_callbacks).escalation

    client = login(org.bob)
    # Less than asked needs a note, so that alice learns why (approving as asked may go without one).
    response = client.post(f"/escalations/{escalation.pk}/approve/", {"note": " ", "amount": "120.00"}, **HX)
    assert response.status_code == 400
    assert "a note is required" in response.content.decode()
    assert Decision.objects.get().final_amount is None

    response = client.post(f"/escalations/{escalation.pk}/approve/", {"note": "Receipt: 120", "amount": "120.00"}, **HX)

    assert response.status_code == 200
    assert Decision.objects.get().final_amount == Decimal("120.00")
    assert "€120.00" in response.content.decode() and "asked €150.00" in response.content.decode()


def test_approving_more_than_asked_shows_the_error_and_changes_nothing(
    org, make_case, login, django_capture_on_commit_callbacks
):
    escalation = escalate(org, make_case(org.alice), capture=django_capture_on_commit_callbacks).escalation

    response = login(org.bob).post(f"/escalations/{escalation.pk}/approve/", {"amount": "500.00"}, **HX)

    assert response.status_code == 400
    assert "You can approve the requested amount or less, not more." in response.content.decode()
    assert Escalation.objects.get().status == "assigned"


def test_bob_rejects_with_a_note(org, make_case, login, django_capture_on_commit_callbacks):
    escalation = escalate(org, make_case(org.alice), capture=django_capture_on_commit_callbacks).escalation

    response = login(org.bob).post(f"/escalations/{escalation.pk}/reject/", {"note": "Offer a replacement"}, **HX)

    assert response.status_code == 200
    assert "Rejected: Refund of €150.00 for Alice" in response.content.decode()
    assert Decision.objects.get().status == "rejected"
    escalation.refresh_from_db()
    assert (escalation.status, escalation.note, escalation.decided_by) == ("rejected", "Offer a replacement", org.bob)


@pytest.mark.parametrize("htmx", [True, False])
def test_rejecting_without_a_note_shows_the_error_and_changes_nothing(
    org, make_case, login, django_capture_on_commit_callbacks, htmx
):
    escalation = escalate(org, make_case(org.alice), capture=django_capture_on_commit_callbacks).escalation

    response = login(org.bob).post(f"/escalations/{escalation.pk}/reject/", {"note": " "}, **(HX if htmx else {}))

    assert response.status_code == 400
    assert (
        f'<ul class="errorlist" id="reject-{escalation.pk}-note_error">'
        "<li>Tell the employee why: a note is required.</li>" in response.content.decode()
    )
    assert Escalation.objects.get().status == "assigned"
    assert Decision.objects.get().status == "escalated"


def test_approving_without_javascript_redirects_to_the_inbox(org, make_case, login, django_capture_on_commit_callbacks):
    escalation = escalate(org, make_case(org.alice), capture=django_capture_on_commit_callbacks).escalation
    client = login(org.bob)

    response = client.post(f"/escalations/{escalation.pk}/approve/", {"note": "OK"})

    assert response.status_code == 302 and response["Location"] == "/escalations/"
    assert "Approved: Refund of €150.00 for Alice" in client.get("/escalations/").content.decode()


@pytest.mark.parametrize("htmx", [True, False])
def test_the_requester_cannot_approve_her_own_decision(org, make_case, login, django_capture_on_commit_callbacks, htmx):
    escalation = escalate(org, make_case(org.alice), capture=django_capture_on_commit_callbacks).escalation

    response = login(org.alice).post(f"/escalations/{escalation.pk}/approve/", {"note": "Me"}, **(HX if htmx else {}))

    assert response.status_code == 403
    assert "Nobody approves their own decision." in response.content.decode()
    assert Decision.objects.get().status == "escalated"


def test_an_outsider_cannot_approve_and_sees_nothing_of_the_case(
    org, make_case, login, django_capture_on_commit_callbacks
):
    case = make_case(org.alice)
    escalation = escalate(org, case, capture=django_capture_on_commit_callbacks).escalation

    response = login(org.hank).post(f"/escalations/{escalation.pk}/approve/", {"note": "Sure"}, **HX)

    assert response.status_code == 404
    body = response.content.decode()
    assert case.customer.name not in body
    assert Decision.objects.get().status == "escalated"


def test_answering_twice_is_a_conflict(org, make_case, login, django_capture_on_commit_callbacks):
    escalation = escalate(org, make_case(org.alice), capture=django_capture_on_commit_callbacks).escalation
    client = login(org.bob)
    client.post(f"/escalations/{escalation.pk}/approve/", {"note": "Yes"}, **HX)

    response = client.post(f"/escalations/{escalation.pk}/reject/", {"note": "No after all"}, **HX)

    assert response.status_code == 409
    assert "This escalation is already approved." in response.content.decode()
    assert Decision.objects.get().status == "approved"


def test_an_unknown_escalation_is_not_found(org, login):
    assert login(org.bob).post("/escalations/999999/approve/", {"note": "x"}).status_code == 404


def test_escalation_page_is_visible_to_the_requester_and_the_chain_only(
    org, make_case, login, django_capture_on_commit_callbacks
):
    escalation = escalate(org, make_case(org.alice), capture=django_capture_on_commit_callbacks).escalation
    url = f"/escalations/{escalation.pk}/"

    alice = login(org.alice).get(url)
    assert alice.status_code == 200
    assert "Nearest person above whose authority covers it" in alice.content.decode()
    assert "approve-form" not in alice.content.decode()  # the requester gets no approve form
    assert login(org.carol).get(url).status_code == 200
    assert login(org.bob).get(url).status_code == 200
    assert login(org.gina).get(url).status_code == 404


def test_the_inbox_stays_within_its_query_budget(
    org, make_case, login, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    for employee in (org.alice, org.erin, org.frank) * 8:
        escalate(org, make_case(employee), by=employee, capture=django_capture_on_commit_callbacks)
    client = login(org.bob)

    with django_assert_max_num_queries(15):
        response = client.get("/escalations/")

    assert response.content.decode().count('class="panel escalation escalation-assigned"') == 24


def test_the_requester_withdraws_a_pending_escalation_from_the_case_page(
    org, make_case, client, django_capture_on_commit_callbacks
):
    case = make_case(org.alice)
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice, case=case, decision_type=org.refund, amount="150.00", rationale="x"
        )
    client.force_login(org.alice.user)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f"/escalations/{decision.escalation.pk}/withdraw/" in page
    assert f"/feedback/reports/new/?case={case.pk}&amp;decision={decision.pk}" in page
    client.force_login(org.bob.user)
    client.post(f"/escalations/{decision.escalation.pk}/withdraw/")
    assert Decision.objects.get(pk=decision.pk).status == Decision.Status.ESCALATED
    client.force_login(org.alice.user)
    response = client.post(f"/escalations/{decision.escalation.pk}/withdraw/", follow=True)
    assert Decision.objects.get(pk=decision.pk).status == Decision.Status.WITHDRAWN
    assert "You withdrew the escalation." in response.content.decode()


@pytest.mark.parametrize(("amount", "outcome"), [("50.00", "Approved"), ("150.00", "Escalated")])
def test_deciding_on_the_page_stays_within_its_query_budget(
    org, make_case, login, django_assert_max_num_queries, django_capture_on_commit_callbacks, amount, outcome
):
    client = login(org.alice)
    with CaptureQueriesContext(connection) as small:
        assert outcome in decide(client, make_case(org.alice), amount=amount).content.decode()
    # The organization and the case's history grow; the answer in place must not notice.
    colleagues = get_user_model().objects.bulk_create([get_user_model()(username=f"agent{n}") for n in range(50)])
    Employee.objects.bulk_create(
        [Employee(user=u, role=org.alice.role, team=org.alice.team, parent=org.bob) for u in colleagues]
    )
    case = make_case(org.alice)
    for n in range(10):
        decision_submit(employee=org.alice, case=case, decision_type=org.goodwill, amount="1.00", rationale=f"{n}")
    for _ in range(5):
        escalate(org, case, capture=django_capture_on_commit_callbacks)

    with django_assert_max_num_queries(len(small)):
        response = decide(client, case, amount=amount)

    assert outcome in response.content.decode()
