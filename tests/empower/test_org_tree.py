"""The chain of command as a materialized path: no request walks the whole organization.

Every hot path answers in the same number of queries for the demo (about ten people) as for a
company of 5,000, for a deep agent and for the director at the top, and none of them runs a
recursive query; moving someone moves their whole subtree; bulk loaders get paths too.
"""

import time
from collections.abc import Callable
from statistics import median

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from delegation.models import Escalation
from delegation.selectors import authority_matrix, matrix_teams
from delegation.services.routing import escalation_route
from empower.models import AuditRecord, Employee, Role, Team
from empower.selectors import chain_above, is_above, subtree_ids, visible_team_ids
from empower.services import case_open, employee_paths_rebuild
from empower.tokens import api_token_issue

HX = {"HTTP_HX_REQUEST": "true"}
BIG = 5000


class SqlLog:
    """Every statement sent to the database while it is installed (`connection.execute_wrapper`)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append(sql)
        return execute(sql, params, many, context)

    def recursive(self) -> list[str]:
        return [sql for sql in self.statements if "RECURSIVE" in sql.upper()]


@pytest.fixture
def no_recursive_sql():
    """Fails the test if anything it does runs a recursive query (a walk over the employee table)."""
    log = SqlLog()
    with connection.execute_wrapper(log):
        yield log
    assert log.recursive() == [], "a request walked the whole organization"


def _person(username: str, *, role: str, team: Team, manager: Employee) -> Employee:
    user = get_user_model().objects.create(username=username, first_name=username.capitalize())
    return Employee.objects.create(user=user, role=Role.objects.get(code=role), team=team, parent=manager)


@pytest.fixture
def ivy(org):
    """A deep agent: dan → carol → mona (manager) → lena (team lead) → ivy. With her the demo
    organization has eleven people."""
    care = org.alice.team
    mona = _person("mona", role="manager", team=org.carol.team, manager=org.carol)
    lena = _person("lena", role="team_lead", team=care, manager=mona)
    return _person("ivy", role="agent", team=care, manager=lena)


def grow(org, lena: Employee, *, people: int = BIG) -> None:
    """`people` more below dan, shaped like a company: 5 managers, 10 team leads under each (each
    with a team of their own), the agents under the leads and a half of them one level deeper,
    under a senior agent; some join lena's team around ivy. Bulk inserts: a second or two."""
    User = get_user_model()
    roles = {r.code: r for r in Role.objects.all()}
    users = iter(User.objects.bulk_create([User(username=f"s{n:05d}") for n in range(people)]))
    managers = Employee.objects.bulk_create(
        [Employee(user=next(users), role=roles["manager"], team=org.dan.team, parent=org.dan) for _ in range(5)]
    )
    teams = Team.objects.bulk_create([Team(name=f"Scale team {n:02d}") for n in range(50)])
    leads = Employee.objects.bulk_create(
        [
            Employee(user=next(users), role=roles["team_lead"], team=team, parent=managers[n // 10])
            for n, team in enumerate(teams)
        ]
    )
    rest = list(users)
    at_lena = len(rest) // 50
    direct = [
        Employee(user=u, role=roles["agent"], team=leads[n % 50].team, parent=leads[n % 50])
        for n, u in enumerate(rest[at_lena : (len(rest) + at_lena) // 2])
    ]
    direct += [Employee(user=u, role=roles["agent"], team=lena.team, parent=lena) for u in rest[:at_lena]]
    direct = Employee.objects.bulk_create(direct)
    seniors = direct[:50]
    Employee.objects.bulk_create(
        [
            Employee(user=u, role=roles["agent"], team=seniors[n % 50].team, parent=seniors[n % 50])
            for n, u in enumerate(rest[(len(rest) + at_lena) // 2 :])
        ]
    )
    assert Employee.objects.count() >= people


class Counted(int):
    """What a hot path returns when it counted its own part (the routing task, not the request before it)."""


def measure(paths: dict[str, Callable], log: SqlLog) -> dict[str, int]:
    counts = {}
    for name, fn in paths.items():
        with CaptureQueriesContext(connection) as queries:
            result = fn()
        counts[name] = result if isinstance(result, Counted) else len(queries)
    assert not log.recursive(), log.recursive()
    return counts


def hot_paths(org, actor: Employee, *, route: bool) -> dict[str, Callable]:
    """The requests and selectors to count, as `actor` (logged in to the pages and with a token)."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=actor.user)[1]}")
    web = Client()
    web.force_login(actor.user)
    # Opened beforehand: a case is opened once per request that needs a fresh one, uncounted.
    cases = [
        case_open(
            employee=org.alice, customer_name="Jo", customer_email=f"jo{n}.{actor.pk}@example.com", subject="Kettle"
        )
        for n in range(12)
    ]
    case = cases.pop

    def ok(response, status=200):
        assert response.status_code == status, response.content[:500]
        return response

    def decide():
        body = {"case": case().pk, "decision_type": "refund", "amount": "50.00", "rationale": "Kettle broke"}
        assert ok(api.post("/api/v1/decisions/", body, format="json"), 201).json()["status"] == "approved"

    def fresh() -> Employee:  # what a request or a task loads: nothing remembered yet
        return Employee.objects.select_related("user", "role", "team").get(pk=actor.pk)

    paths = {
        "queue page": lambda: ok(web.get(reverse("home"))),
        "cases API": lambda: ok(api.get("/api/v1/cases/")),
        "case page": lambda: ok(web.get(reverse("case-detail", args=[case().pk]))),
        "decision API": decide,
        "inbox API": lambda: ok(api.get("/api/v1/escalations/")),
        "inbox page": lambda: ok(web.get(reverse("escalation-inbox"))),
        "chain_above": lambda: chain_above(employee=fresh()),
        "is_above": lambda: is_above(manager=org.dan, employee=actor),
        "subtree_ids": lambda: subtree_ids(employee=fresh(), include_self=True),
        "visible_team_ids": lambda: visible_team_ids(employee=fresh()),
    }
    if actor.pk == org.dan.pk:
        paths["matrix of one team"] = lambda: ok(
            web.get(f"{reverse('authority-matrix')}?team={org.alice.team_id}", **HX)
        )
    else:  # nobody reports to a deep agent: the page says so
        paths["matrix of one team"] = lambda: ok(web.get(reverse("authority-matrix")))
    if route:

        def escalate_and_route() -> Counted:
            body = {"case": case().pk, "decision_type": "refund", "amount": "150.00", "rationale": "Kettle broke"}
            escalation_id = ok(api.post("/api/v1/decisions/", body, format="json"), 201).json()["escalation"]["id"]
            # The routing task, counted alone (in a test the commit hook that enqueues it never fires).
            with CaptureQueriesContext(connection) as queries:
                escalation = escalation_route(escalation_id=escalation_id)
            assert escalation is not None and escalation.status == Escalation.Status.ASSIGNED
            assert escalation.assigned_to.username == "lena"
            return Counted(len(queries))

        paths["escalation_route"] = escalate_and_route
    return paths


def test_every_hot_path_costs_the_same_queries_for_10_people_as_for_5000(org, ivy, no_recursive_sql):
    lena = ivy.parent
    as_ivy = hot_paths(org, ivy, route=True)
    as_dan = hot_paths(org, org.dan, route=False)
    measure(as_ivy, no_recursive_sql), measure(as_dan, no_recursive_sql)  # warm whatever is cached per process
    small = {"ivy": measure(as_ivy, no_recursive_sql), "dan": measure(as_dan, no_recursive_sql)}
    assert Employee.objects.count() == 11

    grow(org, lena)
    assert len(subtree_ids(employee=Employee.objects.get(pk=org.dan.pk))) > BIG
    big = {"ivy": measure(as_ivy, no_recursive_sql), "dan": measure(as_dan, no_recursive_sql)}

    print({who: [f"{name}: {small[who][name]}" for name in small[who]] for who in small})  # for the record
    assert big == small
    # Read off the row: nobody is asked who is above whom; past loading the person (one query), one
    # query brings the chain (none at the top), one the subtree, one the teams.
    for who in ("ivy", "dan"):
        assert small[who]["is_above"] == 0
        assert small[who]["subtree_ids"] == small[who]["visible_team_ids"] == 1 + 1
    assert small["ivy"]["chain_above"] == 1 + 1 and small["dan"]["chain_above"] == 1 + 0


def test_a_decision_asks_who_the_caller_may_see_once(org, ivy, no_recursive_sql):
    """A manager deciding on a case of a team below them (their own team's needs no question)."""
    manager = ivy.parent.parent
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=manager.user)[1]}")
    case = case_open(employee=ivy, customer_name="Jo", customer_email="jo@example.com", subject="Kettle")
    assert case.team_id != manager.team_id
    before = len(no_recursive_sql.statements)
    body = {"case": case.pk, "decision_type": "refund", "amount": "50.00", "rationale": "Kettle broke"}
    assert api.post("/api/v1/decisions/", body, format="json").status_code == 201
    subtree = [sql for sql in no_recursive_sql.statements[before:] if '"path"' in sql and "LIKE" in sql.upper()]
    assert len(subtree) == 1, subtree  # the case lookup and the service's check share one answer


def test_the_tree_costs_the_deep_agent_the_same_time_in_a_company_of_5000(org, ivy):
    """Loose on purpose (shared, noisy machines): a walk over the whole company would be many times
    slower at 5,000; an answer from the deep agent's own part of the tree is not."""

    def timing() -> float:
        runs = []
        for _ in range(15):
            me = Employee.objects.get(pk=ivy.pk)
            start = time.perf_counter()
            chain_above(employee=me), subtree_ids(employee=me), visible_team_ids(employee=me)
            runs.append(time.perf_counter() - start)
        return median(runs)

    timing()
    small = timing()
    grow(org, ivy.parent)
    big = timing()
    assert big < 3 * small + 0.005, (small, big)


def test_paths_are_the_chain_of_command(org, ivy):
    mona, lena = ivy.parent.parent, ivy.parent
    assert org.dan.path == "/"
    assert ivy.path == f"/{org.dan.pk}/{org.carol.pk}/{mona.pk}/{lena.pk}/"
    assert ivy.path_ids == [org.dan.pk, org.carol.pk, mona.pk, lena.pk]
    assert [e.username for e in chain_above(employee=ivy)] == ["lena", "mona", "carol", "dan"]
    assert chain_above(employee=org.dan) == []
    assert is_above(manager=org.carol, employee=ivy) and not is_above(manager=org.bob, employee=ivy)
    assert not is_above(manager=ivy, employee=ivy) and not is_above(manager=ivy, employee=org.dan)
    assert set(subtree_ids(employee=org.carol)) == {
        e.pk for e in (org.bob, org.alice, org.erin, org.frank, org.hank, org.gina, mona, lena, ivy)
    }
    assert subtree_ids(employee=ivy) == [] and subtree_ids(employee=ivy, include_self=True) == [ivy.pk]
    assert visible_team_ids(employee=org.hank) == {org.hank.team_id}
    assert visible_team_ids(employee=org.carol) == {org.carol.team_id, org.bob.team_id, org.hank.team_id}


def test_bulk_inserts_get_their_paths_from_their_managers(org):
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"bulk{n}") for n in range(3)])
    first, second = Employee.objects.bulk_create(
        Employee(user=u, role=org.alice.role, team=org.alice.team, parent=org.bob) for u in users[:2]
    )
    (third,) = Employee.objects.bulk_create(
        [Employee(user=users[2], role=org.alice.role, team=org.alice.team, parent=first)]
    )
    assert first.path == second.path == f"{org.bob.path}{org.bob.pk}/"
    assert Employee.objects.get(pk=third.pk).path == f"{first.path}{first.pk}/"
    assert [e.pk for e in chain_above(employee=third)] == [first.pk, org.bob.pk, org.carol.pk, org.dan.pk]


def test_moving_someone_moves_their_whole_subtree(org, ivy, no_recursive_sql):
    """bob (with alice, erin and frank) goes under hank: one save, one UPDATE for the subtree."""
    org.bob.parent = org.hank
    with CaptureQueriesContext(connection) as queries:
        org.bob.save()
    assert len(queries) <= 5  # lock and read two paths, the row, the subtree (+ savepoint on PostgreSQL)
    alice = Employee.objects.get(pk=org.alice.pk)
    assert alice.path == f"/{org.dan.pk}/{org.carol.pk}/{org.hank.pk}/{org.bob.pk}/"
    assert [e.username for e in chain_above(employee=alice)] == ["bob", "hank", "carol", "dan"]
    assert is_above(manager=org.hank, employee=alice)
    assert set(subtree_ids(employee=org.hank)) == {org.gina.pk, org.bob.pk, org.alice.pk, org.erin.pk, org.frank.pk}
    assert visible_team_ids(employee=org.hank) == {org.hank.team_id, org.alice.team_id}
    assert Employee.objects.get(pk=ivy.pk).path == ivy.path  # another branch: untouched


def test_nobody_is_placed_below_themselves(org):
    org.carol.parent = org.alice
    with pytest.raises(ValidationError):
        org.carol.full_clean()
    with pytest.raises(ValidationError):
        org.carol.save()
    assert Employee.objects.get(pk=org.carol.pk).parent_id == org.dan.pk
    assert Employee.objects.get(pk=org.alice.pk).path == f"/{org.dan.pk}/{org.carol.pk}/{org.bob.pk}/"


def test_moving_someone_in_the_admin_moves_their_subtree(org, client):
    client.force_login(get_user_model().objects.get(username="admin"))
    dora = _person("dora", role="director", team=org.dan.team, manager=None)
    response = client.post(
        reverse("admin:empower_employee_change", args=[org.carol.pk]),
        {"role": org.carol.role_id, "team": org.carol.team_id, "parent": dora.pk, "language": "en"},
    )
    assert response.status_code == 302
    gina = Employee.objects.get(pk=org.gina.pk)
    assert [e.username for e in chain_above(employee=gina)] == ["hank", "carol", "dora"]
    assert not is_above(manager=org.dan, employee=gina)
    assert set(subtree_ids(employee=org.dan)) == set()
    record = AuditRecord.objects.get(action="employee.changed", target_id=str(org.carol.pk))
    assert record.before["manager"] == "dan" and record.after["manager"] == "dora"


def test_changing_managers_in_bulk_recomputes_the_paths(org):
    Employee.objects.filter(pk=org.alice.pk).update(parent=org.hank)
    assert Employee.objects.get(pk=org.alice.pk).path == f"{org.hank.path}{org.hank.pk}/"
    org.erin.parent = org.hank
    Employee.objects.bulk_update([org.erin], ["parent"])
    assert is_above(manager=org.hank, employee=Employee.objects.get(pk=org.erin.pk))


def test_rebuilding_the_paths_repairs_them_and_is_the_one_recursive_query(org, ivy):
    right = dict(Employee.objects.values_list("pk", "path"))
    Employee._base_manager.update(path="/")  # e.g. rows loaded around save()
    log = SqlLog()
    with connection.execute_wrapper(log):
        changed = employee_paths_rebuild()
    assert changed == len(right) - 1  # everyone but dan, at the top
    assert dict(Employee.objects.values_list("pk", "path")) == right
    assert log.recursive()  # the guard above sees a recursive query when one runs
    assert employee_paths_rebuild() == 0


def test_who_may_i_see_is_remembered_on_the_instance_until_the_organization_changes(org, django_assert_num_queries):
    carol = Employee.objects.get(pk=org.carol.pk)
    with django_assert_num_queries(1):
        assert visible_team_ids(employee=carol) == visible_team_ids(employee=carol)
    with django_assert_num_queries(1):
        subtree_ids(employee=carol), subtree_ids(employee=carol, include_self=True)
    visible_team_ids(employee=carol).add(12345)  # a copy: the remembered answer stays as it was
    assert 12345 not in visible_team_ids(employee=carol)
    org.hank.team = Team.objects.create(name="Claims")
    org.hank.save()
    with django_assert_num_queries(1):
        assert org.hank.team_id in visible_team_ids(employee=carol)


def test_the_matrix_index_counts_each_team_in_the_database(org, ivy):
    index = matrix_teams(manager=org.carol)
    assert [(name, count) for _, name, count in index] == [("Customer Care", 6), ("Operations", 1), ("Returns", 2)]
    teams = authority_matrix(manager=org.carol, team_id=org.alice.team_id)
    assert [row.employee.username for row in teams["Customer Care"]] == ["alice", "bob", "erin", "frank", "ivy", "lena"]


ORG_BEFORE = ("empower", "0005_remove_notification_email_fields")


def test_the_migration_fills_every_path(org, transactional_db):
    right = dict(Employee.objects.values_list("pk", "path"))
    executor = MigrationExecutor(connection)
    executor.migrate([ORG_BEFORE])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert dict(Employee.objects.values_list("pk", "path")) == right
    assert right[org.alice.pk] == f"/{org.dan.pk}/{org.carol.pk}/{org.bob.pk}/"
