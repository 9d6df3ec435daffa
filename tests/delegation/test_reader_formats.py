"""Money and moments as the reader writes them, the same on a page, in a notification and in its
e-mail: one escalation of 1,234.50 EUR, due at 14:00, seen by an approver in each language."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation
from django.utils.formats import date_format

from delegation.models import Escalation
from delegation.services import decision_submit, escalation_remind
from empower.models import Notification, OutgoingEmail

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("UTC"))
NBSP = "\u00a0"

# (language, the amount, the deadline): Babel's CLDR money, config/formats' one date style.
READERS = [
    ("en", "€1,234.50", "23 Nov 2026, 14:00"),
    ("pl", f"1{NBSP}234,50{NBSP}€", "23.11.2026, 14:00"),
    ("ru", f"1{NBSP}234,50{NBSP}€", "23.11.2026, 14:00"),
    ("is", f"1.234,50{NBSP}EUR", "23.11.2026, 14:00"),
    ("zh-hans", "€1,234.50", "2026年11月23日 14:00"),
]


@pytest.fixture
def escalated(org, make_case, django_capture_on_commit_callbacks):
    """alice asks 1,234.50 for a refund; bob may grant 500 at most, so carol (manager) must answer, by 14:00."""
    with time_machine.travel(MONDAY_10, tick=False), django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice,
            case=make_case(org.alice),
            decision_type=org.refund,
            amount="1234.50",
            rationale="The sofa arrived broken",
        )
    return Escalation.objects.select_related("assigned_to__user").get(decision=decision)


def visible(html: str) -> str:
    """The page's text, its no-break spaces kept (money needs them)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(("language", "amount", "due"), READERS, ids=[r[0] for r in READERS])
def test_the_approver_reads_the_amount_and_the_deadline_in_one_style_everywhere(
    escalated, client, language, amount, due, django_capture_on_commit_callbacks
):
    approver = escalated.assigned_to
    assert approver is not None and escalated.due_at == MONDAY_10 + timedelta(hours=4)
    approver.language = language
    approver.save(update_fields=["language"])

    # On a page: the inbox card's amount and its deadline.
    client.force_login(approver.user)
    page = visible(client.get("/escalations/").content.decode())
    assert amount in page and due in page

    # In a notification and its e-mail, written when the reminder is sent, in the approver's language.
    later = MONDAY_10 + timedelta(hours=3, minutes=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert escalation_remind(escalation_id=escalated.pk)
    told = Notification.objects.get(recipient=approver, key__contains=":reminder:")
    assert amount in told.message and due in told.message
    email = OutgoingEmail.objects.get(key=told.email_key)
    assert amount in email.body and due in email.body and email.language == language

    # Never a US or ISO date, never doubled punctuation, never the old "1234.50 EUR".
    for text in (page, told.message, email.body):
        assert not re.search(r"\b11/23/2026\b|2026-11-23|\.\.|1234\.50", text), text


@pytest.mark.parametrize(("language", "amount", "due"), READERS, ids=[r[0] for r in READERS])
def test_the_requester_hears_the_granted_amount_in_their_own_language(
    escalated, language, amount, due, django_capture_on_commit_callbacks
):
    from delegation.services import escalation_approve

    requester = escalated.decision.made_by
    requester.language = language
    requester.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        escalation_approve(escalation_id=escalated.pk, approver=escalated.assigned_to)
    told = Notification.objects.get(recipient=requester, key=f"escalation:{escalated.pk}:approved")
    email = OutgoingEmail.objects.get(key=told.email_key)
    assert amount in told.message and amount in email.body and "EUR EUR" not in told.message


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "23 Nov"), ("is", "23.11."), ("pl", "23.11"), ("ru", "23.11"), ("zh-hans", "11月23日")],
)
def test_a_charts_week_is_in_the_languages_style_too(language, expected):
    with translation.override(language):
        assert date_format(date(2026, 11, 23), "MONTH_DAY_FORMAT") == expected


@pytest.mark.parametrize(("language", "amount", "due"), READERS, ids=[r[0] for r in READERS])
def test_a_stand_ins_end_and_an_overlap_are_dated_in_the_readers_style(org, language, amount, due):
    from delegation.services import delegation_create
    from empower.errors import Conflict

    org.bob.language = language
    org.bob.save(update_fields=["language"])
    until = datetime(2026, 11, 23, 14, 0, tzinfo=ZoneInfo("UTC"))  # `due` is this moment in each style

    def set_up(delegate):
        return delegation_create(
            delegator=org.carol,
            delegate=delegate,
            decision_types=[org.refund],
            starts_at=MONDAY_10,
            ends_at=until,
            reason="Holiday",
        )

    with time_machine.travel(MONDAY_10, tick=False):
        delegation = set_up(org.bob)
        told = Notification.objects.get(recipient=org.bob, key=f"delegation:{delegation.pk}:started")
        assert re.search(rf"{re.escape(due)}[.。]$", told.message), told.message  # never "2026-11-23 14:00", nor ".."
        with translation.override(language), pytest.raises(Conflict) as refused:
            set_up(org.hank)
    assert due in refused.value.message and "2026-11-23" not in refused.value.message
