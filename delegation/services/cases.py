"""What authority has to say about a case's life: it is not resolved while an escalation on it waits
(the customer would be surveyed before the answer, and the answer could still come after)."""

from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from delegation.selectors import pending_escalations_of_case
from empower.errors import Conflict
from empower.models import Case
from empower.services import case_resolving


class PendingEscalations(Conflict):
    code = "pending_escalations"


def resolve_refusal(*, case: Case) -> PendingEscalations | None:
    """Why the case may not be resolved now (an escalation on it still waits), or None. The one home
    of the rule: `case_resolve` raises it (through `case_resolving`), the case page shows it."""
    if pending_escalations_of_case(case_id=case.pk).exists():
        return PendingEscalations(
            _(
                "An escalation on this case is still waiting for an answer. Wait for it, or withdraw it, "
                "before you resolve the case."
            )
        )
    return None


@receiver(case_resolving)
def _refuse_resolving_with_pending_escalations(sender, case: Case, **kwargs) -> None:
    refusal = resolve_refusal(case=case)
    if refusal is not None:
        raise refusal
