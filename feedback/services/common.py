"""What the sub-domains share: text from the outside world, and who receives work (the first active
person, or their stand-in while they are away). Imports nothing else of `feedback.services`.
"""

import re
from collections import Counter
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from delegation.selectors import active_stand_ins
from empower.errors import InvalidInput
from empower.models import Employee
from empower.moments import LocalMoment
from empower.selectors import chain_above
from empower.services import audit

# --- text from the outside world ---------------------------------------------------------------

# Control characters (NUL breaks PostgreSQL) and bidirectional overrides (which disguise text) go;
# line breaks and tabs stay. HTML is kept as typed and escaped wherever it is shown.
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(value) -> str:
    return _UNWANTED.sub("", str(value or "")).replace("\r\n", "\n").replace("\r", "\n").strip()


def _text(value, *, field: str, max_length: int, required: bool = False, required_message=None) -> str:
    text = clean_text(value)
    if required and not text:
        message = required_message or _("This field is required.")
        raise InvalidInput(message, field_errors={field: [message]})
    if len(text) > max_length:
        message = _("Please keep it to %(max)d characters (this has %(length)d).") % {
            "max": max_length,
            "length": len(text),
        }
        raise InvalidInput(message, field_errors={field: [message]})
    return text


def _first_active(people: list[Employee]) -> Employee | None:
    return next((p for p in people if p.is_active), None)


def _stand_in_for(person: Employee, *, never: set[int], now: datetime) -> Employee | None:
    """The stand-in of `person` while they are away, as escalations go to the approver's stand-in.

    A follow-up or a friction report has no decision type, so any active delegation counts: the
    person delegated because they are away. With several, the stand-in holding most of their decision
    types takes it (on a tie, the first delegated). Never someone in `never` (the reporter, the
    resolver, the one it moves up from) and never an inactive account.
    """
    stand_ins = Counter(active_stand_ins(employee_ids=[person.pk], at=now).values())
    return next(
        (e for e, _types in stand_ins.most_common() if e.pk not in never and e.is_active),
        None,
    )


def _assignee(person: Employee, *, never: set[int], now: datetime) -> tuple[Employee, Employee | None]:
    """(who receives it, on whose behalf): `person`, or their stand-in on their behalf."""
    stand_in = _stand_in_for(person, never=never, now=now)
    return (stand_in, person) if stand_in else (person, None)


def hand_up(
    row,
    *,
    never: set[int],
    due_at: datetime,
    now: datetime,
    action: str,
    actor: Employee | None,
    reason: str,
    subject: Employee,
) -> tuple[Employee, Employee] | None:
    """Hand a locked, open follow-up or report to the next active manager above the one whose turn it
    was (the assignee, or whom they stood in for), or to that manager's stand-in, one level up and due
    at `due_at`; saved and audited. (previous assignee, new assignee), or None with nobody above."""
    previous = row.assigned_to
    manager = _first_active(chain_above(employee=row.on_behalf_of or previous))
    if manager is None:
        return None
    assignee, on_behalf_of = _assignee(manager, never=never | {previous.pk}, now=now)
    before = {"assigned_to": previous.username, "level": row.level, "due_at": row.due_at}
    row.assigned_to, row.on_behalf_of = assignee, on_behalf_of
    row.level += 1
    row.due_at = due_at
    row.save(update_fields=["assigned_to", "on_behalf_of", "level", "due_at"])
    after = {
        "assigned_to": assignee.username,
        "on_behalf_of": on_behalf_of and on_behalf_of.username,
        "level": row.level,
        "due_at": row.due_at,
    }
    audit(actor=actor, action=action, target=row, before=before, after=after, reason=reason, subject=subject)
    return previous, assignee


def _when(moment: datetime) -> LocalMoment:
    """A deadline in a notification: the recipient's date style, rendered in their language."""
    return LocalMoment(moment)
