from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from delegation.models import AuthorityLimit, DecisionType
from empower.models import Employee, Role, Team

# A fixed default keeps the command idempotent: running it twice changes nothing.
DEFAULT_PASSWORD = "empower-demo"
ROLES = [
    ("agent", "Agent", 10),
    ("team_lead", "Team lead", 20),
    ("manager", "Manager", 30),
    ("director", "Director", 40),
]
TEAMS = ["Customer Care", "Returns", "Operations"]
# username, role, team, manager — in an order where each manager comes first.
PEOPLE = [
    ("dan", "director", "Operations", None),
    ("carol", "manager", "Operations", "dan"),
    ("bob", "team_lead", "Customer Care", "carol"),
    ("hank", "team_lead", "Returns", "carol"),
    ("alice", "agent", "Customer Care", "bob"),
    ("erin", "agent", "Customer Care", "bob"),
    ("frank", "agent", "Customer Care", "bob"),
    ("gina", "agent", "Returns", "hank"),
]
DECISION_TYPES = [
    ("refund", "Refund", 4),
    ("goodwill_credit", "Goodwill credit", 4),
    ("replacement", "Replacement", 8),
    ("fee_waiver", "Fee waiver", 8),
    ("expedited_shipping", "Expedited shipping", 8),
    ("wow", "Wow gesture", 4),  # the discretionary budget; each decision tells its story
]
D = Decimal
# role → type → (per decision, per day, per month, per customer per month); None is "no limit".
LIMITS = {
    "agent": {
        "refund": (D("100.00"), D("300.00"), D("2000.00"), D("200.00")),
        "goodwill_credit": (D("25.00"), D("100.00"), D("500.00"), D("50.00")),
        "replacement": (D("150.00"), D("450.00"), D("3000.00"), D("300.00")),
        "fee_waiver": (D("30.00"), D("150.00"), D("1000.00"), D("60.00")),
        "expedited_shipping": (D("20.00"), D("100.00"), D("800.00"), D("40.00")),
        "wow": (D("50.00"), None, D("300.00"), D("100.00")),
    },
    "team_lead": {
        "refund": (D("500.00"), D("1500.00"), D("10000.00"), D("1000.00")),
        "goodwill_credit": (D("100.00"), D("400.00"), D("2500.00"), D("200.00")),
        "replacement": (D("600.00"), D("2000.00"), D("12000.00"), D("1200.00")),
        "fee_waiver": (D("150.00"), D("600.00"), D("4000.00"), D("300.00")),
        "expedited_shipping": (D("80.00"), D("400.00"), D("3000.00"), D("160.00")),
        "wow": (D("200.00"), None, D("1500.00"), D("400.00")),
    },
    "manager": {
        "refund": (D("2000.00"), D("10000.00"), D("50000.00"), D("5000.00")),
        "goodwill_credit": (D("500.00"), D("2000.00"), D("12000.00"), D("1000.00")),
        "replacement": (D("2500.00"), D("12000.00"), D("60000.00"), D("6000.00")),
        "fee_waiver": (D("800.00"), D("3000.00"), D("20000.00"), D("1500.00")),
        "expedited_shipping": (D("300.00"), D("1500.00"), D("10000.00"), D("600.00")),
        "wow": (D("1000.00"), None, D("10000.00"), D("2000.00")),
    },
    "director": {code: (None, None, None, None) for code, _, _ in DECISION_TYPES},
}


class Command(BaseCommand):
    help = "Build the demo organization of the contract (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--password", help=f"Password for every demo login (default {DEFAULT_PASSWORD!r}).")

    # Creates only what is missing: limits and people edited since (audited, through the app) stay as
    # they are, so `make run` never silently undoes a manager's change.
    @transaction.atomic
    def handle(self, *args, password: str | None = None, **options):
        password = password or DEFAULT_PASSWORD
        roles = {
            code: Role.objects.get_or_create(code=code, defaults={"name": name, "rank": rank})[0]
            for code, name, rank in ROLES
        }
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
        types = {
            code: DecisionType.objects.get_or_create(code=code, defaults={"name": name, "response_hours": hours})[0]
            for code, name, hours in DECISION_TYPES
        }
        for role_code, per_type in LIMITS.items():
            for type_code, (per_decision, per_day, per_month, per_customer_month) in per_type.items():
                AuthorityLimit.objects.get_or_create(
                    role=roles[role_code],
                    decision_type=types[type_code],
                    defaults={
                        "per_decision": per_decision,
                        "per_day": per_day,
                        "per_month": per_month,
                        "per_customer_month": per_customer_month,
                        "reason": "Demo organization",
                    },
                )
        User = get_user_model()
        employees: dict[str, Employee] = {}
        for username, role_code, team_name, manager in PEOPLE:
            user = self._user(User, username, password, is_superuser=False)
            employees[username], _ = Employee.objects.get_or_create(
                user=user,
                defaults={
                    "role": roles[role_code],
                    "team": teams[team_name],
                    "parent": employees[manager] if manager else None,
                },
            )
        self._user(User, "admin", password, is_superuser=True)
        self.stdout.write("Demo organization ready. Logins (all share one password):")
        for username, role_code, team_name, _ in PEOPLE:
            self.stdout.write(f"  {username:<6} {role_code:<10} {team_name}")
        self.stdout.write("  admin  superuser  (Django admin)")
        self.stdout.write(f"Password: {password}")

    def _user(self, User, username: str, password: str, *, is_superuser: bool):
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        user.first_name = user.first_name or username.capitalize()
        user.is_staff = user.is_superuser = is_superuser
        user.is_active = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        return user
