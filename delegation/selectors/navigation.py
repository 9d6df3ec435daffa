"""The menus that fit the person: decided here, from the same rules the pages enforce, so templates
only receive booleans (an agent never sees a manager's menu; a stand-in sees what they stand in for)."""

from dataclasses import dataclass, field

from delegation.models import Delegation
from delegation.selectors.guidance import may_edit_guidance
from delegation.selectors.stand_ins import delegations_held
from empower.models import Employee
from empower.selectors import has_reports


@dataclass(frozen=True)
class Menu:
    approvals: bool  # the escalation inbox: approvers, stand-ins, anyone with an answer waiting
    people: bool  # "My people's authority" and role defaults: those with people below them
    guidance: bool  # editing decision-type guidance: managers and administrators
    stand_in_for: list[Delegation] = field(default_factory=list)

    @property
    def is_manager(self) -> bool:
        return self.people


def menu_for(*, employee: Employee, stand_in_for: list[Delegation] | None = None, waiting: int = 0, user=None) -> Menu:
    """Which menus `employee` sees. `stand_in_for` (the duties held now) and `waiting` (escalations
    waiting for their answer) come from the header's counts when the page has them already."""
    if stand_in_for is None:
        stand_in_for = delegations_held(employee=employee)
    manages = has_reports(employee=employee)
    return Menu(
        # A stand-in answers the escalations of whoever they stand in for: they get the inbox too.
        approvals=manages or bool(stand_in_for) or waiting > 0,
        people=manages,
        guidance=may_edit_guidance(employee=employee, user=user or employee.user),
        stand_in_for=list(stand_in_for),
    )
