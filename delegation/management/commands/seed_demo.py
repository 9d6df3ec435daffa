from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation
from modeltranslation.utils import build_localized_fieldname

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
# The seeded names in the other four languages (English is the name itself, and the fallback).
# Filled where still empty, so a translation edited in the admin is never overwritten.
NAMES = {
    # roles
    "agent": {"is": "Þjónustufulltrúi", "zh-hans": "客服专员", "ru": "Агент", "pl": "Agent"},
    "team_lead": {"is": "Teymisstjóri", "zh-hans": "组长", "ru": "Руководитель группы", "pl": "Lider zespołu"},
    "manager": {"is": "Deildarstjóri", "zh-hans": "经理", "ru": "Менеджер", "pl": "Kierownik"},
    "director": {"is": "Framkvæmdastjóri", "zh-hans": "总监", "ru": "Директор", "pl": "Dyrektor"},
    # teams
    "Customer Care": {"is": "Þjónustuver", "zh-hans": "客户服务", "ru": "Служба поддержки", "pl": "Obsługa klienta"},
    "Returns": {"is": "Vöruskil", "zh-hans": "退货", "ru": "Возвраты", "pl": "Zwroty"},
    "Operations": {"is": "Rekstur", "zh-hans": "运营", "ru": "Операции", "pl": "Operacje"},
    # decision types
    "refund": {"is": "Endurgreiðsla", "zh-hans": "退款", "ru": "Возврат денег", "pl": "Zwrot pieniędzy"},
    "goodwill_credit": {"is": "Velvildarinneign", "zh-hans": "善意补偿", "ru": "Компенсация", "pl": "Rekompensata"},
    "replacement": {"is": "Ný vara í staðinn", "zh-hans": "换货", "ru": "Замена товара", "pl": "Wymiana"},
    "fee_waiver": {
        "is": "Niðurfelling gjalds",
        "zh-hans": "免除费用",
        "ru": "Отмена сбора",
        "pl": "Zwolnienie z opłaty",
    },
    "expedited_shipping": {
        "is": "Hraðsending",
        "zh-hans": "加急配送",
        "ru": "Ускоренная доставка",
        "pl": "Ekspresowa wysyłka",
    },
    "wow": {"is": "Vá-glaðningur", "zh-hans": "惊喜举动", "ru": "Вау-жест", "pl": "Gest wow"},
}
# What each type is for, in every language; and the guidance beside the decision form (English).
DESCRIPTIONS = {
    "refund": {
        "en": "Money back to the customer for a faulty or missing product.",
        "is": "Endurgreiðsla til viðskiptavinar vegna gallaðrar eða týndrar vöru.",
        "zh-hans": "因产品有缺陷或丢失而退还给客户的款项。",
        "ru": "Возврат денег клиенту за неисправный или утерянный товар.",
        "pl": "Zwrot pieniędzy klientowi za wadliwy lub zagubiony produkt.",
    },
    "goodwill_credit": {
        "en": "A credit on the customer's account to make up for a poor experience.",
        "is": "Inneign á reikningi viðskiptavinar til að bæta fyrir slæma upplifun.",
        "zh-hans": "为弥补不佳体验而给客户账户的补偿额度。",
        "ru": "Кредит на счёт клиента в качестве компенсации за плохой опыт.",
        "pl": "Środki na koncie klienta jako rekompensata za złe doświadczenie.",
    },
    "replacement": {
        "en": "A new product sent in place of a faulty one.",
        "is": "Ný vara send í stað gallaðrar.",
        "zh-hans": "寄出新产品以替换有缺陷的产品。",
        "ru": "Новый товар взамен неисправного.",
        "pl": "Nowy produkt wysłany w miejsce wadliwego.",
    },
    "fee_waiver": {
        "en": "A fee the customer would owe, waived.",
        "is": "Gjald sem viðskiptavinur skuldar, fellt niður.",
        "zh-hans": "免除客户应付的费用。",
        "ru": "Отмена сбора, который клиент должен был бы оплатить.",
        "pl": "Umorzenie opłaty, którą klient byłby winien.",
    },
    "expedited_shipping": {
        "en": "Faster delivery at our cost.",
        "is": "Hraðari afhending á okkar kostnað.",
        "zh-hans": "由我们承担费用的加急配送。",
        "ru": "Более быстрая доставка за наш счёт.",
        "pl": "Szybsza dostawa na nasz koszt.",
    },
    "wow": {
        "en": "A gesture beyond what is owed, from your own discretionary budget, to put things right.",
        "is": "Glaðningur umfram það sem ber, af þínu eigin svigrúmi, til að bæta úr.",
        "zh-hans": "超出应尽义务的心意之举，使用你自己的自主预算来弥补。",
        "ru": "Жест сверх положенного, из вашего собственного бюджета, чтобы всё исправить.",
        "pl": "Gest ponad to, co się należy, z Twojego własnego budżetu, by naprawić sytuację.",
    },
}
GUIDANCE = {
    "refund": {
        "purpose": "Give the money back when the product failed us, not the customer.",
        "good_examples": "A kettle that stopped working in its second week.\nA parcel the carrier confirms was lost.",
        "rationale_hint": "What was wrong, how you checked it, and why a refund rather than a replacement.",
    },
    "goodwill_credit": {
        "purpose": "Say sorry in a way the customer feels, when we let them down.",
        "good_examples": "A delivery three days late for a birthday present.",
        "rationale_hint": "What went wrong for the customer, and why this amount fits it.",
    },
    "wow": {
        "purpose": "Surprise a customer for the better, without asking anyone: it is your budget.",
        "good_examples": "Flowers for a customer whose wedding order went wrong.\nA free upgrade for a loyal customer.",
        "rationale_hint": "Tell the story: what the customer needed and what you did.",
    },
}
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
        parser.add_argument(
            "--with-examples",
            action="store_true",
            help="Also add a day's work (open cases, an escalation for bob, an answered survey): `make run` does.",
        )

    # Creates only what is missing: limits and people edited since (audited, through the app) stay as
    # they are, so `make run` never silently undoes a manager's change.
    def handle(self, *args, **options):
        # The names above are English: look them up and store them as English, whatever language the
        # caller had active (a test's last request may have left one; names are translated data).
        with translation.override(settings.MODELTRANSLATION_DEFAULT_LANGUAGE):
            self._seed(**options)

    @transaction.atomic
    def _seed(self, *, password: str | None = None, with_examples: bool = False, **options):
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
        for key, row in [*roles.items(), *teams.items(), *types.items()]:
            self._translate(row, "name", NAMES.get(key, {}))
        for code, row in types.items():
            self._translate(row, "description", DESCRIPTIONS.get(code, {}))
            for field, text in GUIDANCE.get(code, {}).items():
                if not getattr(row, field):
                    DecisionType.objects.filter(pk=row.pk).update(**{field: text})
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
        if with_examples:
            # By name: the examples answer a survey, and `delegation` never imports `feedback`.
            call_command("seed_demo_examples", stdout=self.stdout)

    def _translate(self, row, field: str, texts: dict[str, str]) -> None:
        """Fill `field` in each language of `texts` where it is still empty (never overwrite an edit)."""
        empty = {
            build_localized_fieldname(field, language): text
            for language, text in texts.items()
            if not getattr(row, build_localized_fieldname(field, language))
        }
        if empty:
            type(row).objects.filter(pk=row.pk).update(**empty)

    def _user(self, User, username: str, password: str, *, is_superuser: bool):
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        user.first_name = user.first_name or username.capitalize()
        user.is_staff = user.is_superuser = is_superuser
        user.is_active = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        return user
