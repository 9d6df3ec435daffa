"""A day's work already in the demo, so `make run`'s first screen is not empty (`seed_demo --with-examples`).

Open cases for Customer Care and Returns, an escalation waiting for bob, and a resolved case whose
customer answered the survey unhappily, so a follow-up waits for frank. Idempotent: each example is
made once, found again by its customer's e-mail. It lives in `feedback` because it answers a survey
(imports point feedback → delegation → empower); `seed_demo` calls it by name.
"""

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from delegation.models import DecisionType
from delegation.services import decision_submit, escalation_route
from empower.models import Case, Customer, Employee
from empower.services import case_open, case_resolve
from feedback.models import Survey
from feedback.services import survey_answer
from feedback.services.links import survey_url

# who, customer name, e-mail, language, subject, description, (decision type, amount, rationale) or None
OPEN_CASES = [
    (
        "alice",
        "Jo Lindqvist",
        "jo.lindqvist@example.com",
        "en",
        "Kettle stopped working after two weeks",
        "The kettle no longer heats. Bought on our web shop three weeks ago.",
        ("refund", "40.00", "Faulty within the first month: refund of the price difference agreed on the phone."),
    ),
    (
        "alice",
        "Maria Kowalska",
        "maria.kowalska@example.com",
        "pl",
        "Coffee machine leaking",
        "Water under the machine after every use; she sent photos.",
        ("refund", "150.00", "Leaks from the boiler seal (photos attached); refund of the full price."),
    ),
    (
        "erin",
        "Sam Okafor",
        "sam.okafor@example.com",
        "en",
        "Parcel arrived damaged",
        "Box crushed, lamp shade bent.",
        None,
    ),
    ("gina", "Li Wei", "li.wei@example.com", "zh-hans", "Wrong size delivered", "Ordered M, received XL.", None),
]
RESOLVED = {
    "who": "frank",
    "customer": ("Anna Jónsdóttir", "anna.jonsdottir@example.com", "is"),
    "subject": "Birthday present arrived late",
    "description": "Promised for Friday, arrived on Monday after the birthday.",
    "decision": ("goodwill_credit", "20.00", "Three days late for a birthday: a credit to say sorry."),
    "resolution": "Apologised and added a 20.00 EUR credit to her account.",
    "survey": {"csat": 2, "comment": "The credit is kind, but the present was still late."},
}


class Command(BaseCommand):
    help = "Add example cases, an escalation waiting for bob and an answered survey to the demo (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        people = {e.username: e for e in Employee.objects.select_related("user", "role", "team")}
        for who, name, email, language, subject, description, decision in OPEN_CASES:
            if Customer.objects.filter(email__iexact=email).exists():
                continue
            case = case_open(
                employee=people[who],
                customer_name=name,
                customer_email=email,
                customer_language=language,
                subject=subject,
                description=description,
            )
            if decision:
                self._decide(people[who], case, *decision)
        self._resolved(people)
        self.stdout.write("Example cases ready: open cases, an escalation waiting for bob, a follow-up for frank.")
        survey = Survey.objects.filter(case__customer__email__iexact=RESOLVED["customer"][1]).first()
        if survey is not None:
            self.stdout.write(f"The example customer's survey page: {survey_url(survey=survey)}")

    def _decide(self, employee: Employee, case: Case, type_code: str, amount: str, rationale: str) -> None:
        decision = decision_submit(
            employee=employee,
            case=case,
            decision_type=DecisionType.objects.get(code=type_code),
            amount=Decimal(amount),
            rationale=rationale,
        )
        escalation = getattr(decision, "escalation", None)
        if escalation is not None:
            # Routed now, so bob finds it in his inbox at once (the worker's later try does nothing).
            escalation_route(escalation_id=escalation.pk)

    def _resolved(self, people: dict[str, Employee]) -> None:
        name, email, language = RESOLVED["customer"]
        if Customer.objects.filter(email__iexact=email).exists():
            return
        who = people[RESOLVED["who"]]
        case = case_open(
            employee=who,
            customer_name=name,
            customer_email=email,
            customer_language=language,
            subject=RESOLVED["subject"],
            description=RESOLVED["description"],
        )
        self._decide(who, case, *RESOLVED["decision"])
        case = case_resolve(employee=who, case=case, resolution_note=RESOLVED["resolution"])
        survey = Survey.objects.get(case=case)
        survey_answer(survey_id=survey.pk, **RESOLVED["survey"])
