"""The pages where managers shape authority: the matrix, role defaults, my authority, stand-ins, history."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from delegation.models import AuthorityLimit, Decision, Delegation
from delegation.selectors import authority_of
from delegation.services import decision_submit, delegation_create, limit_set
from empower.fields import MOMENT_INVALID
from empower.models import AuditRecord, Employee, Notification, Role, Team

D = Decimal
HX = {"HTTP_HX_REQUEST": "true"}
RAISED = {
    "per_decision": "300.00",
    "per_day": "900.00",
    "per_month": "5000.00",
    "per_customer_month": "600.00",
    "reason": "Trusted with bigger refunds",
}


@pytest.fixture
def login(client):
    def as_(employee):
        client.force_login(employee.user)
        return client

    return as_


def text(response) -> str:
    """The response's visible text, whitespace collapsed."""
    return text_of(response.content.decode())


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def refund_line(employee, org):
    return next(x for x in authority_of(employee=employee).lines if x.decision_type == org.refund)


def edit_url(username: str, code: str = "refund") -> str:
    return f"/authority/people/{username}/{code}/edit/"


def nothing_changed_for(employee) -> bool:
    return (
        not AuthorityLimit.objects.filter(employee=employee).exists()
        and not AuditRecord.objects.filter(action__startswith="limit.", subject=employee).exists()
    )


# The matrix -----------------------------------------------------------------------------------------


def test_carol_sees_everyone_below_her_grouped_by_team(org, login):
    limit_set(granter=org.carol, employee=org.gina, decision_type=org.refund, values=RAISED, reason="Returns peak")

    response = login(org.carol).get("/authority/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "<title>Your people's authority · Empower</title>" in body
    page = text(response)
    assert page.index("Customer Care") < page.index("Returns")
    for person in (org.alice, org.bob, org.erin, org.frank, org.gina, org.hank):
        assert f'id="row-{person.pk}"' in body
    assert f'id="row-{org.carol.pk}"' not in body and f'id="row-{org.dan.pk}"' not in body
    gina = re.search(rf'id="cell-{org.gina.pk}-refund".*?</td>', body, re.S).group(0)
    assert "300.00" in gina and "600.00" in gina and "Personal" in gina
    alice = re.search(rf'id="cell-{org.alice.pk}-refund".*?</td>', body, re.S).group(0)
    assert "100.00" in alice and "Role" in alice and f'href="{edit_url("alice")}"' in alice
    assert f'hx-get="{edit_url("alice")}"' in alice


def test_the_matrix_shows_todays_and_this_months_use(org, login, make_case):
    decision_submit(employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("80.00"), rationale="x")

    body = login(org.bob).get("/authority/").content.decode()

    alice = re.search(rf'id="cell-{org.alice.pk}-refund".*?</td>', body, re.S).group(0)
    assert "Used today €80.00 · this month €80.00" in text_of(alice)  # money as the reader writes it


def test_the_matrix_shows_stand_ins(org, login):
    now = timezone.now()
    delegation_create(
        delegator=org.bob,
        delegate=org.erin,
        decision_types=[org.refund],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
    )

    body = login(org.carol).get("/authority/").content.decode()

    bob = re.search(rf'id="cell-{org.bob.pk}-refund".*?</td>', body, re.S).group(0)
    assert "Stand-in: Erin" in bob
    erin_row = re.search(rf'id="row-{org.erin.pk}".*?</th>', body, re.S).group(0)
    assert "Stands in for Bob" in text_of(erin_row) and "Refund" in erin_row


def test_an_agent_sees_an_empty_state(org, login):
    response = login(org.alice).get("/authority/")

    assert response.status_code == 200
    assert "Nobody reports to you" in text(response)
    assert "cell-" not in response.content.decode()


def _people_below_carol(org, count: int, *, first: int = 0) -> list[Employee]:
    """`count` more people below carol, shaped like an organization: teams of 25, each with a team lead
    under carol, agents under the lead and agents under one of them (three levels below carol), every
    tenth with a personal limit, and in every batch one temporary limit and one stand-in."""
    User = get_user_model()
    agent, lead = Role.objects.get(code="agent"), Role.objects.get(code="team_lead")
    people: list[Employee] = []
    for start in range(first, first + count, 25):
        size = min(25, first + count - start)
        team = Team.objects.create(name=f"Team {start:04d}")
        team_lead = Employee.objects.create(
            user=User.objects.create(username=f"lead{start:04d}"), role=lead, team=team, parent=org.carol
        )
        users = User.objects.bulk_create([User(username=f"agent{start + n:04d}") for n in range(1, size)])
        half = len(users) // 2
        agents = Employee.objects.bulk_create(
            [Employee(user=u, role=agent, team=team, parent=team_lead) for u in users[:half]]
        )
        below_agent = Employee.objects.bulk_create(
            [Employee(user=u, role=agent, team=team, parent=agents[0]) for u in users[half:]]
        )
        people += [team_lead, *agents, *below_agent]
    AuthorityLimit.objects.bulk_create(
        [AuthorityLimit(employee=e, decision_type=org.refund, per_decision=D("150.00")) for e in people[1::10]]
    )
    now = timezone.now()
    AuthorityLimit.objects.create(
        employee=people[2],
        decision_type=org.refund,
        per_decision=D("180.00"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )
    Delegation.objects.create(
        delegator=people[0],
        delegate=people[3],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
        created_by=people[0],
    ).decision_types.add(org.refund)
    return people


def test_the_matrix_page_costs_the_same_queries_for_50_people_as_for_500(org, login):
    client = login(org.carol)

    def matrix(query: str = "", **headers) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/authority/{query}", **headers)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    people = _people_below_carol(org, 50)
    first_team = people[0].team
    with_50, body = matrix()
    assert body.count('class="matrix-cell"') == (50 + 6) * len(org.types)  # everyone at once
    team_with_50, _ = matrix(f"?team={first_team.pk}", **HX)

    _people_below_carol(org, 450, first=50)
    with_500, body = matrix()
    team_with_500, team_table = matrix(f"?team={first_team.pk}", **HX)

    assert with_50 <= 20 and with_500 <= with_50
    assert team_with_50 == team_with_500 <= 20
    # 506 people: the page lists the 22 teams, each opened on demand, rather than 2530 cells at once.
    assert 'class="matrix-cell"' not in body
    assert body.count('hx-trigger="toggle once"') == 22 and "25 people" in body
    assert f'href="/authority/?team={first_team.pk}"' in body
    assert "<html" not in team_table
    assert team_table.count('class="matrix-cell"') == 25 * len(org.types)
    assert team_table.count("Temporary until") == 1 and team_table.count("Stands in for") == 1


def test_one_team_of_the_matrix_is_a_page_of_its_own_without_javascript(org, login):
    _people_below_carol(org, 200)
    client = login(org.carol)
    team = Team.objects.get(name="Customer Care")

    page = client.get(f"/authority/?team={team.pk}").content.decode()

    assert "<html" in page and page.count('class="matrix-cell"') == 4 * len(org.types)  # alice, erin, frank, bob
    assert 'href="/authority/"' in page  # back to all teams


def test_a_team_larger_than_a_page_is_shown_a_page_at_a_time_for_the_same_queries(org, login, monkeypatch):
    monkeypatch.setattr("delegation.views.limits.MATRIX_PAGE_SIZE", 10)
    team = _people_below_carol(org, 25)[0].team  # one team of 25: three pages of 10
    client = login(org.carol)

    def team_page(query: str, **headers) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/authority/?team={team.pk}{query}", **headers)
        assert response.status_code == 200
        return len(queries), response.content.decode()

    first_queries, first = team_page("")
    last_queries, last = team_page("&page=3")
    _, opened = team_page("&page=3", **HX)  # a team opened in the page, with htmx: just its table

    assert first.count('id="row-') == 10 and last.count('id="row-') == 5
    assert "Page 1 of 3" in first and f'href="?team={team.pk}&amp;page=2"' in first
    assert "Page 3 of 3" in last and f'href="?team={team.pk}&amp;page=2"' in last
    assert "<html" not in opened and opened.count('id="row-') == 5
    everyone = set(Employee.objects.filter(team=team).values_list("pk", flat=True))
    shown = {int(pk) for n in (1, 2, 3) for pk in re.findall(r'id="row-(\d+)"', team_page(f"&page={n}")[1])}
    assert shown == everyone  # every person once, across the pages
    assert first_queries == last_queries


@pytest.mark.parametrize("team", ["abc", "99999999999999999999", "-1"])
def test_a_team_that_is_not_below_the_manager_is_not_found(org, login, team):
    assert login(org.carol).get(f"/authority/?team={team}").status_code == 404
    returns = Team.objects.get(name="Returns")
    assert login(org.bob).get(f"/authority/?team={returns.pk}").status_code == 404


# Editing a cell ----------------------------------------------------------------------------------------


def test_edit_swaps_in_a_form_starting_from_the_limits_as_they_stand(org, login):
    response = login(org.carol).get(edit_url("alice"), **HX)

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert f'hx-post="{edit_url("alice")}"' in body and f'hx-target="#cell-{org.alice.pk}-refund"' in body
    assert 'name="per_decision"' in body and 'value="100.00"' in body and 'name="reason"' in body
    assert 'value="clear"' not in body  # nothing personal to clear yet


def test_without_javascript_edit_is_a_page_of_its_own(org, login):
    response = login(org.carol).get(edit_url("alice"))

    assert response.status_code == 200
    assert "<html" in response.content.decode() and "Limits of Alice for Refund" in text(response)


def test_carol_sets_alices_refund_limit_in_place_and_the_next_decision_uses_it(org, login, make_case):
    response = login(org.carol).post(edit_url("alice"), RAISED | {"action": "set"}, **HX)

    assert response.status_code == 200, response.content
    page = text(response)
    assert "Saved: Alice's limits for Refund." in page
    assert "300.00" in page and "Personal" in page and "<html" not in response.content.decode()
    line = refund_line(org.alice, org)
    assert (line.limits.per_decision, line.limits.per_customer_month) == (D("300.00"), D("600.00"))
    record = AuditRecord.objects.get(action="limit.created", subject=org.alice)
    assert record.actor == org.carol and record.reason == "Trusted with bigger refunds"
    assert Notification.objects.filter(recipient=org.alice, url="/authority/me/").exists()
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("250.00"), rationale="Sofa"
    )
    assert decision.status == Decision.Status.APPROVED


def test_without_javascript_saving_redirects_to_the_matrix(org, login):
    response = login(org.bob).post(edit_url("alice"), RAISED | {"per_decision": "150.00"})

    assert response.status_code == 302
    assert response["Location"] == f"/authority/#row-{org.alice.pk}"
    assert refund_line(org.alice, org).limits.per_decision == D("150.00")


def test_a_temporary_limit_from_the_page_goes_back_by_itself(org, login):
    now = timezone.localtime()
    until = (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    response = login(org.bob).post(edit_url("alice"), RAISED | {"ends_at": until}, **HX)

    assert response.status_code == 200, response.content
    assert refund_line(org.alice, org).limits.per_decision == D("300.00")
    with time_machine.travel(now + timedelta(hours=3)):
        assert refund_line(org.alice, org).limits.per_decision == D("100.00")


def test_above_the_granters_own_the_refusal_and_field_errors_show_and_nothing_changes(org, login):
    too_much = RAISED | {"per_decision": "500.01", "per_customer_month": "1000.01"}

    response = login(org.bob).post(edit_url("alice"), too_much, **HX)

    assert response.status_code == 403
    page = text(response)
    assert "You cannot grant more than you hold yourself." in page
    assert page.count("At most €500.00: you cannot grant more than you hold.") == 1
    assert "At most €1,000.00: you cannot grant more than you hold." in page
    assert 'value="500.01"' in response.content.decode()  # what was typed stays
    assert nothing_changed_for(org.alice)


def test_no_limit_only_from_someone_who_has_none(org, login):
    response = login(org.carol).post(edit_url("alice"), RAISED | {"per_day": ""}, **HX)

    assert response.status_code == 403 and "At most €10,000.00" in text(response)
    assert nothing_changed_for(org.alice)


@pytest.mark.parametrize(
    ("actor", "username", "message"),
    [
        ("alice", "alice", "Nobody changes their own limits."),
        ("bob", "bob", "Nobody changes their own limits."),
        ("hank", "alice", None),  # not in their chain: no such person for them (404), as on reads
        ("erin", "alice", None),
    ],
)
def test_only_someone_above_may_and_never_their_own(org, login, actor, username, message):
    response = login(getattr(org, actor)).post(edit_url(username), RAISED, **HX)

    assert response.status_code == (403 if message else 404)
    assert message is None or message in text(response)
    assert 'name="per_decision"' not in response.content.decode()  # nothing of their limits is shown
    assert nothing_changed_for(getattr(org, username))


def test_a_refusal_without_javascript_is_a_page(org, login):
    response = login(org.alice).post(edit_url("alice"), RAISED)

    assert response.status_code == 403
    assert "<html" in response.content.decode() and "Nobody changes their own limits." in text(response)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"per_day": "abc"}, "per_day", "Enter an amount such as 80.00."),
        ({"per_month": "1.001"}, "per_month", "Use at most two decimal places."),
        ({"reason": " "}, "reason", "Say why: a reason is required."),
        ({"ends_at": "2001-01-01T10:00"}, "ends_at", "The end must be after the start, and in the future."),
        ({"starts_at": "not a moment"}, "starts_at", str(MOMENT_INVALID)),
    ],
)
def test_bad_input_shows_beside_the_field_and_changes_nothing(org, login, change, field, message):
    response = login(org.bob).post(edit_url("alice"), RAISED | change, **HX)

    assert response.status_code == 400
    body = response.content.decode()
    assert re.search(rf'id="limit-{org.alice.pk}-{field}_error"', body)
    assert message in text(response)
    assert nothing_changed_for(org.alice)


def test_others_cannot_even_open_the_form(org, login):
    assert login(org.hank).get(edit_url("alice"), **HX).status_code == 404
    assert login(org.alice).get(edit_url("alice"), **HX).status_code == 404
    assert login(org.carol).get(edit_url("nobody"), **HX).status_code == 404
    assert login(org.carol).get(edit_url("alice", "teleport"), **HX).status_code == 404


def test_clear_returns_alice_to_her_roles_limits(org, login):
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=RAISED, reason="Sale")
    client = login(org.bob)
    assert 'value="clear"' in client.get(edit_url("alice"), **HX).content.decode()

    response = client.post(edit_url("alice"), {"action": "clear", "reason": "Sale over"}, **HX)

    assert response.status_code == 200
    assert "Alice is back to their role" in text(response)
    line = refund_line(org.alice, org)
    assert line.limits.source == "role" and line.limits.per_decision == D("100.00")
    assert AuditRecord.objects.get(action="limit.deleted", subject=org.alice).reason == "Sale over"


def test_clearing_needs_a_reason(org, login):
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=RAISED, reason="Sale")

    response = login(org.bob).post(edit_url("alice"), {"action": "clear", "reason": ""}, **HX)

    assert response.status_code == 400 and "Say why: a reason is required." in text(response)
    assert AuthorityLimit.objects.filter(employee=org.alice).exists()


def test_cancel_swaps_the_cell_back(org, login):
    response = login(org.bob).get("/authority/people/alice/refund/", **HX)

    assert response.status_code == 200
    assert "100.00" in text(response) and "<html" not in response.content.decode()


# Role defaults -----------------------------------------------------------------------------------------


def test_carol_sees_the_roles_below_hers_and_her_own_for_reference(org, login):
    response = login(org.carol).get("/authority/roles/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="role-agent-refund"' in body and 'id="role-team_lead-refund"' in body
    assert 'id="role-manager-refund"' in body and 'id="role-director-refund"' not in body
    assert 'href="/authority/roles/team_lead/refund/edit/"' in body
    assert 'href="/authority/roles/manager/refund/edit/"' not in body


def test_bob_changes_the_agents_defaults_in_place(org, login):
    body = {"per_decision": "120.00", "per_day": "300.00", "per_month": "2000.00", "per_customer_month": "200.00"}

    response = login(org.bob).post("/authority/roles/agent/refund/edit/", body | {"reason": "Review"}, **HX)

    assert response.status_code == 200, response.content
    assert "120.00" in text(response)
    assert refund_line(org.erin, org).limits.per_decision == D("120.00")
    record = AuditRecord.objects.get(action="limit.changed", target_type="delegation.authoritylimit")
    assert record.actor == org.bob and record.after["role"] == "agent"


@pytest.mark.parametrize(
    ("actor", "role", "values", "status", "message"),
    [
        ("alice", "agent", {}, 403, "Only someone of a higher role may change this role"),
        ("bob", "team_lead", {}, 403, "Only someone of a higher role may change this role"),
        ("bob", "agent", {"per_day": "1500.01"}, 403, "At most €1,500.00"),
        ("bob", "agent", {"per_day": "x"}, 400, "Enter an amount such as 80.00"),
    ],
)
def test_role_defaults_refusals_show_and_change_nothing(org, login, actor, role, values, status, message):
    body = {"per_decision": "50.00", "per_day": "100.00", "per_month": "1000.00", "per_customer_month": "100.00"}

    response = login(getattr(org, actor)).post(
        f"/authority/roles/{role}/refund/edit/", body | values | {"reason": "x"}, **HX
    )

    assert response.status_code == status
    assert message in text(response)
    assert not AuditRecord.objects.filter(action__startswith="limit.").exists()


def test_a_role_one_may_not_change_has_no_form(org, login):
    assert login(org.bob).get("/authority/roles/team_lead/refund/edit/", **HX).status_code == 404
    assert login(org.carol).get("/authority/roles/agent/refund/edit/", **HX).status_code == 200


# My authority ------------------------------------------------------------------------------------------


def test_my_authority_shows_limits_use_and_whats_left(org, login, make_case):
    decision_submit(employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("80.00"), rationale="x")
    limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.goodwill,
        values={"per_decision": "20", "per_day": "100", "per_month": "500", "per_customer_month": "50"},
        reason="Coaching",
    )

    response = login(org.alice).get("/authority/me/")

    assert response.status_code == 200
    body = response.content.decode()
    refund = text_of(re.search(r'id="mine-refund".*?</tr>', body, re.S).group(0))
    assert "Role" in refund and "€80.00 / €220.00" in refund and "€100.00" in refund
    goodwill = text_of(re.search(r'id="mine-goodwill_credit".*?</tr>', body, re.S).group(0))
    assert "Personal" in goodwill and "€20.00" in goodwill
    assert "set by Bob: Coaching" in text(response)


def test_a_stand_in_sees_the_banner_and_the_borrowed_authority(org, login):
    now = timezone.now()
    delegation_create(
        delegator=org.carol,
        delegate=org.bob,
        decision_types=[org.refund],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
    )

    page = text(login(org.bob).get("/authority/me/"))

    assert "You are standing in for Carol until" in page
    assert re.search(r"Refund Stand-in Carol €2,000.00", page)


# Stand-ins ---------------------------------------------------------------------------------------------


def delegation_form(**change) -> dict:
    now = timezone.localtime()
    return {
        "to": "bob",
        "decision_types": ["refund", "goodwill_credit"],
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "reason": "Holiday",
    } | change


def test_carol_hands_her_authority_to_bob_and_alices_800_goes_to_bob(
    org, login, make_case, django_capture_on_commit_callbacks
):
    client = login(org.carol)
    form = client.get("/delegations/").content.decode()
    assert 'type="checkbox" name="decision_types" value="refund"' in form
    assert '<option value="bob">' in form

    response = client.post("/delegations/", delegation_form(), follow=True)

    assert response.status_code == 200
    assert "Bob stands in for Carol until" in text(response)
    delegation = Delegation.objects.get()
    assert (delegation.delegator, delegation.delegate) == (org.carol, org.bob)
    assert {t.code for t in delegation.decision_types.all()} == {"refund", "goodwill_credit"}
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("800.00"), rationale="Sofa"
        )
    decision.refresh_from_db()
    assert decision.escalation.assigned_to == org.bob and decision.escalation.approver == org.carol
    inbox = text(login(org.bob).get("/escalations/"))
    assert "Refund €800.00" in inbox


def test_the_page_lists_given_held_and_below_with_end_buttons_where_allowed(org, login):
    now = timezone.now()

    def delegate(delegator, delegate):
        return delegation_create(
            delegator=delegator,
            delegate=delegate,
            decision_types=[org.refund],
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
            reason=f"{delegator} away",
        )

    given, held, below = delegate(org.bob, org.erin), delegate(org.carol, org.bob), delegate(org.alice, org.frank)

    body = login(org.bob).get("/delegations/").content.decode()

    assert re.search(rf'id="delegations-given".*id="delegation-{given.pk}"', body, re.S)
    assert re.search(rf'id="delegations-held".*id="delegation-{held.pk}"', body, re.S)
    assert re.search(rf'id="delegations-below".*id="delegation-{below.pk}"', body, re.S)
    assert f'action="/delegations/{given.pk}/end/"' in body
    assert f'action="/delegations/{below.pk}/end/"' in body
    assert f'action="/delegations/{held.pk}/end/"' not in body  # bob cannot end carol's
    assert "You are standing in for Carol" in text_of(body)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"to": "carol"}, "Choose a colleague: nobody stands in for themselves."),
        ({"to": "nobody"}, "No such colleague."),
        ({"decision_types": []}, "Choose at least one decision type."),
        ({"ends_at": "2001-01-01T10:00"}, "The end must be after the start, and in the future."),
        ({"reason": ""}, "Say why: a reason is required."),
    ],
)
def test_bad_delegations_show_the_error_and_create_nothing(org, login, change, message):
    response = login(org.carol).post("/delegations/", delegation_form(**change))

    assert response.status_code == 400
    assert message in text(response)
    assert not Delegation.objects.exists()


def test_carol_sets_up_a_stand_in_for_bob_but_alice_cannot_for_bob(org, login):
    response = login(org.carol).post("/delegations/", delegation_form(delegator="bob", to="erin"))
    assert response.status_code == 302
    assert Delegation.objects.get().delegator == org.bob

    refused = login(org.alice).post("/delegations/", delegation_form(delegator="bob", to="erin"))
    assert refused.status_code == 400  # bob is not among the choices alice has
    assert Delegation.objects.count() == 1


def test_end_now(org, login):
    now = timezone.now()
    delegation = delegation_create(
        delegator=org.bob,
        delegate=org.erin,
        decision_types=[org.refund],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
    )

    refused = login(org.erin).post(f"/delegations/{delegation.pk}/end/")
    assert refused.status_code == 403 and "Only the delegator or someone above them may end it." in text(refused)
    assert login(org.hank).post(f"/delegations/{delegation.pk}/end/").status_code == 404

    response = login(org.carol).post(f"/delegations/{delegation.pk}/end/", follow=True)

    assert response.status_code == 200 and "has ended" in text(response)
    delegation.refresh_from_db()
    assert delegation.ended_by == org.carol
    again = login(org.bob).post(f"/delegations/{delegation.pk}/end/")
    assert again.status_code == 409 and "This delegation has already ended." in text(again)


# History -----------------------------------------------------------------------------------------------


def test_the_timeline_shows_when_who_what_and_why(org, login):
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=RAISED, reason="Promotion")
    limit_set(
        granter=org.carol,
        employee=org.alice,
        decision_type=org.refund,
        values=RAISED | {"per_decision": "120.00"},
        reason="Too many reversals",
    )

    response = login(org.carol).get("/employees/alice/authority/")

    assert response.status_code == 200
    page = text(response)
    assert page.index("Limit changed") < page.index("Personal limit set")  # newest first
    assert "by Carol" in page and "by Bob" in page
    assert re.search(r"per decision €300.00 → €120.00", page)
    assert "Why: Too many reversals" in page and "Why: Promotion" in page


def test_what_could_alice_decide_at_a_moment(org, login):
    start = (timezone.localtime() - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False):
        limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=RAISED, reason="Promotion")
    client = login(org.alice)

    before = client.get("/employees/alice/authority/", {"at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    after = client.get("/employees/alice/authority/", {"at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})

    refund_before = text_of(re.search(r'id="at-refund".*?</li>', before.content.decode(), re.S).group(0))
    refund_after = text_of(re.search(r'id="at-refund".*?</li>', after.content.decode(), re.S).group(0))
    assert "Role" in refund_before and "€100.00" in refund_before
    assert "Personal" in refund_after and "€300.00" in refund_after and "Set by bob" in refund_after
    assert "Promotion" in refund_after


def test_a_bad_moment_is_400(org, login):
    response = login(org.alice).get("/employees/alice/authority/", {"at": "last tuesday"})

    assert response.status_code == 400 and str(MOMENT_INVALID) in text(response)


@pytest.mark.parametrize(
    ("viewer", "status"), [("alice", 200), ("bob", 200), ("dan", 200), ("erin", 404), ("hank", 404)]
)
def test_the_timeline_is_for_the_employee_and_those_above(org, login, viewer, status):
    assert login(getattr(org, viewer)).get("/employees/alice/authority/").status_code == status


def test_pages_ask_for_a_login(client, org):
    for url in ("/authority/", "/authority/me/", "/authority/roles/", "/delegations/", "/employees/alice/authority/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_without_javascript_role_defaults_are_edited_on_a_page_of_their_own(org, login):
    client = login(org.bob)
    page = client.get("/authority/roles/agent/refund/edit/")
    assert page.status_code == 200 and "Default limits of the Agent role for Refund" in text(page)
    body = {"per_decision": "90.00", "per_day": "300.00", "per_month": "2000.00", "per_customer_month": "200.00"}

    response = client.post("/authority/roles/agent/refund/edit/", body | {"reason": "Review"})

    assert response.status_code == 302 and response["Location"] == "/authority/roles/"
    assert refund_line(org.alice, org).limits.per_decision == D("90.00")


def test_an_agent_sees_their_own_roles_defaults_and_nothing_to_edit(org, login):
    response = login(org.alice).get("/authority/roles/")

    body = response.content.decode()
    assert response.status_code == 200 and 'id="role-agent-refund"' in body
    assert 'id="role-team_lead-refund"' not in body and "/edit/" not in body


def test_the_stand_in_banner_shows_on_these_pages(org, login):
    now = timezone.now()
    delegation_create(
        delegator=org.carol,
        delegate=org.bob,
        decision_types=[org.refund],
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
    )
    client = login(org.bob)

    for url in ("/authority/", "/authority/roles/", "/delegations/", "/employees/bob/authority/"):
        assert "You are standing in for Carol" in text(client.get(url)), url


def test_the_pages_load_their_stylesheet_in_the_head(org, login):
    client = login(org.carol)

    for url in ("/authority/", "/authority/me/", "/authority/roles/", "/delegations/", "/employees/alice/authority/"):
        head = client.get(url).content.decode().split("</head>")[0]
        assert 'href="/static/css/authority.css"' in head, url


# Temporary limits in the matrix --------------------------------------------------------------------------


def _window_for_alice(org, hours: int = 2, per_decision: str = "300.00"):
    return limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.refund,
        values=RAISED | {"per_decision": per_decision},
        reason="Holiday sale",
        ends_at=timezone.now() + timedelta(hours=hours),
    )


def alice_cell(body: str, org) -> str:
    return re.search(rf'id="cell-{org.alice.pk}-refund".*?</td>', body, re.S).group(0)


def test_the_cell_shows_a_temporary_limit_with_its_end_and_a_button_to_end_it(org, login):
    window = _window_for_alice(org)

    cell = alice_cell(login(org.carol).get("/authority/").content.decode(), org)

    until = date_format(timezone.localtime(window.ends_at), "SHORT_DATE_FORMAT")  # "23 Nov 2026"
    assert "300.00" in cell and "Temporary until" in text_of(cell) and until in text_of(cell)
    assert f'action="/authority/people/alice/refund/windows/{window.pk}/end/"' in cell


def test_saving_the_standing_limit_during_a_window_says_when_it_applies(org, login):
    window = _window_for_alice(org)
    client = login(org.bob)

    response = client.post(edit_url("alice"), RAISED | {"per_decision": "150.00"}, **HX)

    assert response.status_code == 200
    page = text(response)
    assert "Saved: Alice's standing limits for Refund. A temporary limit applies until" in page
    assert "the saved limits apply from then" in page
    assert "300.00" in page and "Temporary until" in page  # the cell shows what applies now
    form = client.get(edit_url("alice"), **HX).content.decode()
    assert "A temporary limit applies until" in text_of(form) and f'id="window-{window.pk}"' in form
    with time_machine.travel(window.ends_at + timedelta(minutes=1)):
        assert refund_line(org.alice, org).limits.per_decision == D("150.00")


def test_a_start_without_an_end_is_refused_beside_the_field(org, login):
    start = (timezone.localtime() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    response = login(org.bob).post(edit_url("alice"), RAISED | {"starts_at": start}, **HX)

    assert response.status_code == 400
    assert "A temporary limit needs an end" in text(response)
    assert nothing_changed_for(org.alice)


def test_carol_ends_alices_temporary_limit_from_the_matrix(org, login):
    window = _window_for_alice(org)
    end_url = f"/authority/people/alice/refund/windows/{window.pk}/end/"

    refused = login(org.carol).post(end_url, {"reason": ""}, **HX)
    assert refused.status_code == 400 and "Say why: a reason is required." in text(refused)
    response = login(org.carol).post(end_url, {"reason": "Sale over early"}, **HX)

    assert response.status_code == 200
    assert "The temporary limit of Alice for Refund has ended" in text(response)
    assert "Temporary until" not in text(response) and "100.00" in text(response)
    assert refund_line(org.alice, org).limits.source == "role"
    assert AuditRecord.objects.get(action="limit.ended").reason == "Sale over early"


def test_without_javascript_ending_a_window_comes_back_to_the_matrix(org, login):
    window = _window_for_alice(org)

    response = login(org.bob).post(f"/authority/people/alice/refund/windows/{window.pk}/end/", {"reason": "Over"})

    assert response.status_code == 302 and response["Location"] == f"/authority/#row-{org.alice.pk}"
    assert refund_line(org.alice, org).limits.per_decision == D("100.00")


def test_only_someone_above_ends_a_window(org, login):
    window = _window_for_alice(org)
    end_url = f"/authority/people/alice/refund/windows/{window.pk}/end/"

    assert login(org.hank).post(end_url, {"reason": "x"}, **HX).status_code == 404
    assert login(org.alice).post(end_url, {"reason": "x"}, **HX).status_code == 404
    assert refund_line(org.alice, org).limits.per_decision == D("300.00")


def test_back_to_the_roles_limits_is_offered_while_only_a_window_runs(org, login):
    _window_for_alice(org)
    client = login(org.bob)
    assert 'value="clear"' in client.get(edit_url("alice"), **HX).content.decode()

    response = client.post(edit_url("alice"), {"action": "clear", "reason": "Back to standard"}, **HX)

    assert response.status_code == 200 and "Alice is back to their role" in text(response)
    assert refund_line(org.alice, org).limits.source == "role"


# History: role defaults and moments ahead --------------------------------------------------------------


def test_the_timeline_shows_changes_of_the_role_default(org, login):
    from delegation.services import role_limit_set

    role_limit_set(
        granter=org.carol,
        role=Role.objects.get(code="agent"),
        decision_type=org.refund,
        values=RAISED | {"per_decision": "120.00"},
        reason="Policy review",
    )

    page = text(login(org.bob).get("/employees/alice/authority/"))

    assert "Role default changed" in page and "by Carol" in page
    assert re.search(r"per decision €100.00 → €120.00", page) and "Why: Policy review" in page


def test_a_moment_ahead_says_it_is_what_is_scheduled(org, login):
    ahead = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    response = login(org.alice).get("/employees/alice/authority/", {"at": ahead})

    assert response.status_code == 200 and 'id="as-scheduled"' in response.content.decode()


def test_a_moment_that_exists_in_no_calendar_is_400(org, login, settings):
    settings.TIME_ZONE = "Asia/Karachi"  # year 1 here is before year 1 in UTC

    response = login(org.alice).get("/employees/alice/authority/", {"at": "0001-01-01T00:00"})

    assert response.status_code == 400 and "between the years 1 and 9999" in text(response)
