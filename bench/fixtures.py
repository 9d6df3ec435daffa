"""The bench's own rows in the app's database, and the people each page is viewed as.

The bench adds a team "Bench" under a manager of the seeded organization (so its people sit
where a real agent sits, and the chain above them is the seeded one): a team lead, 16 agents
with no refund limit (every throughput request stays within authority), one agent with the
role's limits (its refunds above 100 escalate to the bench lead), and one race agent per run
(a per-day cap of exactly 50 refunds). New cases per run; everything is keyed `bench-…`.
Needs Django set up (config.settings).
"""

from decimal import Decimal
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.db import connection, transaction
from django.db.models import Count
from rest_framework.authtoken.models import Token

from bench.bare.schema import TABLES
from delegation.models import AuthorityLimit, Decision, DecisionType, Escalation
from empower.models import Case, Customer, Employee, Notification, Role, Team
from empower.tokens import api_token_issue
from feedback.models import FollowUp, FrictionReport

AGENTS = 16
BARE_CAP = 10**11


def _employee(username: str, role: Role, team: Team, parent: Employee | None) -> Employee:
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@bench.invalid"})
    employee, _ = Employee.objects.get_or_create(user=user, defaults={"role": role, "team": team, "parent": parent})
    return employee


def _case(employee: Employee, run_id: str, n: int) -> Case:
    customer, _ = Customer.objects.get_or_create(
        email=f"customer-{n}@bench.invalid", defaults={"name": f"Bench customer {n}"}
    )
    return Case.objects.create(
        customer=customer,
        team=employee.team,
        assigned_to=employee,
        created_by=employee,
        subject=f"bench run {run_id}",
    )


def token_of(employee: Employee) -> str:
    return api_token_issue(user=employee.user)[1]


def bare_token_of(employee: Employee) -> str:
    """The bare endpoint's token: DRF's own (`TokenAuthentication`, one query), the stack at its best."""
    return Token.objects.get_or_create(user=employee.user)[0].key


@transaction.atomic
def bench_org(run_id: str, race_amount: str, race_allowed: int) -> dict:
    roles = {role.code: role for role in Role.objects.filter(code__in=["agent", "team_lead"])}
    refund = DecisionType.objects.filter(code="refund").first()
    if len(roles) < 2 or refund is None:
        raise SystemExit("The database has no roles `agent`/`team_lead` or no decision type `refund`: seed it first.")
    # Where a team lead sits in the seeded organization: under the manager of the busiest one.
    anchor = (
        Employee.objects.filter(parent__isnull=False, parent__parent__isnull=False)
        .exclude(user__username__startswith="bench-")
        .annotate(reports_n=Count("reports"))
        .order_by("-reports_n", "pk")
        .first()
    ) or Employee.objects.exclude(user__username__startswith="bench-").order_by("pk").first()
    team, _ = Team.objects.get_or_create(name="Bench")
    lead = _employee("bench-lead", roles["team_lead"], team, anchor.parent or anchor)
    agents = []
    for i in range(1, AGENTS + 1):
        agent = _employee(f"bench-agent-{i:02d}", roles["agent"], team, lead)
        AuthorityLimit.objects.get_or_create(employee=agent, decision_type=refund, starts_at=None, ends_at=None)
        agents.append(agent)
    escalating = _employee("bench-esc", roles["agent"], team, lead)  # the role's limits: 100 per refund
    race = _employee(f"bench-race-{run_id}", roles["agent"], team, lead)
    AuthorityLimit.objects.create(
        employee=race, decision_type=refund, per_day=race_allowed * Decimal(race_amount), reason="bench race"
    )
    cases = [_case(agent, run_id, i) for i, agent in enumerate(agents, 1)]
    with connection.cursor() as cursor:
        for sql in TABLES:
            cursor.execute(sql)
        for agent in agents:
            cursor.execute(
                "INSERT INTO bench_counter (user_id, amount, cap) VALUES (%s, 0, %s)"
                " ON CONFLICT (user_id) DO UPDATE SET amount = 0, cap = EXCLUDED.cap",
                [agent.user_id, BARE_CAP],
            )
    return {
        "anchor": str(anchor.parent or anchor),
        "lead": (lead, token_of(lead)),
        "agents": [(agent, token_of(agent), case) for agent, case in zip(agents, cases, strict=True)],
        "bare_tokens": [bare_token_of(agent) for agent in agents],
        "escalating": (escalating, token_of(escalating), _case(escalating, run_id, AGENTS + 1)),
        "race": (race, token_of(race), _case(race, run_id, AGENTS + 2)),
    }


def session_cookie(employee: Employee) -> str:
    """A logged-in session for `employee` (as the login page would make), without their password."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(employee.user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = employee.user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _busiest(queryset, field: str):
    row = queryset.values(field).annotate(n=Count("pk")).order_by("-n").first()
    return Employee.objects.filter(pk=row[field]).first() if row else None


def page_viewers(org: dict) -> list[tuple[str, str, Employee]]:
    """(name, path, viewer) for every page: each viewed by the seeded person with the most to see
    there; where the seeded data has nothing of the kind (the demo), by one of the bench's people."""
    seeded = Employee.objects.exclude(user__username__startswith="bench-").filter(user__is_active=True)
    director = seeded.filter(parent__isnull=True).order_by("-role__rank", "pk").first()
    lead, _token = org["lead"]
    agent, _token, bench_case = org["agents"][0]
    queue_viewer = _busiest(Case.objects.filter(status="open", assigned_to__in=seeded), "assigned_to") or agent
    row = (
        Decision.objects.exclude(made_by__user__username__startswith="bench-")
        .values("case")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    case = Case.objects.select_related("assigned_to").get(pk=row["case"]) if row else bench_case
    decisions = row["n"] if row else case.decisions.count()
    approver = _busiest(Escalation.objects.filter(status="assigned", assigned_to__in=seeded), "assigned_to") or lead
    team_row = seeded.values("team").annotate(n=Count("pk")).order_by("-n").first()
    team_lead = _busiest(seeded.filter(team=team_row["team"], parent__isnull=False), "parent")
    return [
        ("queue /", "/", queue_viewer),
        (f"case page ({decisions} decisions)", f"/cases/{case.pk}/", case.assigned_to),
        (
            f"case page, a bench case ({bench_case.decisions.count()} decisions)",
            f"/cases/{bench_case.pk}/",
            agent,
        ),
        ("/escalations/", "/escalations/", approver),
        (
            f"/authority/?team= ({team_row['n']} people)",
            f"/authority/?team={team_row['team']}",
            team_lead.parent if team_lead.parent_id else team_lead,
        ),
        (
            "/notifications/",
            "/notifications/",
            _busiest(Notification.objects.filter(recipient__in=seeded), "recipient") or lead,
        ),
        (
            "/feedback/follow-ups/",
            "/feedback/follow-ups/",
            _busiest(FollowUp.objects.filter(assigned_to__in=seeded), "assigned_to") or director,
        ),
        (
            "friction board /feedback/reports/",
            "/feedback/reports/",
            _busiest(FrictionReport.objects.filter(assigned_to__in=seeded), "assigned_to") or director,
        ),
        ("insights /feedback/insights/", "/feedback/insights/", director),
    ]
