"""Writes for authority and decisions. Every path (pages, API, admin, tasks) calls these.

One module per sub-domain; each public name is re-exported here, so callers keep importing
`from delegation.services import …`. Dependencies point down this list, never up (no circles):

- `common` — what the others share: money parsing (`validate_amount`), the decision's audit state,
  counting usage on locked counters, enqueueing routing, telling people of a change or a step.
- `limits` — personal limits (standing and temporary windows) and role defaults, from the pages,
  the API and the admin; the granting rules and the window rules every path shares.
- `stand_ins` — delegations: set up, ended early, escalations handed back when one ends.
- `deciding` — a decision within authority approved at once, beyond it escalated.
- `routing` — escalations routed up the chain, moved up (overdue, capacity), routed again.
- `reminders` — the approver reminded once, three quarters of the way to the deadline.
- `answering` — escalations approved, rejected, withdrawn; who may answer.
- `announcements` — scheduled starts and ends of delegations and temporary limits; heartbeat.
- `cases` — a case is not resolved while an escalation on it waits (`resolve_refusal`).
- `catalogue` — operators' changes to decision types and response times, audited.
- `splitting` — decisions that look split to stay under a per-decision limit, flagged to the manager.
"""

from delegation.services.announcements import authority_changes_announce, heartbeat_record
from delegation.services.answering import (
    escalation_answer_check,
    escalation_approve,
    escalation_reject,
    escalation_withdraw,
)
from delegation.services.cases import PendingEscalations, resolve_refusal
from delegation.services.catalogue import decision_type_guidance_save, decision_type_save, decision_type_state
from delegation.services.common import MAX_AMOUNT, authority_limit_state, decision_state, validate_amount
from delegation.services.deciding import decision_submit
from delegation.services.limits import (
    authority_limit_check,
    authority_limit_delete,
    authority_limit_delete_check,
    authority_limit_save,
    ensure_not_own_limit,
    limit_clear,
    limit_set,
    limit_window_end,
    role_limit_set,
)
from delegation.services.reminders import escalation_remind, escalation_reminders_send
from delegation.services.routing import (
    escalation_move_up,
    escalation_reroute,
    escalation_review,
    escalation_route,
    escalation_unroutable_announce,
)
from delegation.services.splitting import splitting_detect
from delegation.services.stand_ins import delegation_create, delegation_end

__all__ = [
    "MAX_AMOUNT",
    "PendingEscalations",
    "authority_changes_announce",
    "authority_limit_check",
    "authority_limit_delete",
    "authority_limit_delete_check",
    "authority_limit_save",
    "authority_limit_state",
    "decision_state",
    "decision_submit",
    "decision_type_guidance_save",
    "decision_type_save",
    "decision_type_state",
    "delegation_create",
    "delegation_end",
    "ensure_not_own_limit",
    "escalation_answer_check",
    "escalation_approve",
    "escalation_move_up",
    "escalation_reject",
    "escalation_remind",
    "escalation_reminders_send",
    "escalation_reroute",
    "escalation_review",
    "escalation_route",
    "escalation_unroutable_announce",
    "escalation_withdraw",
    "heartbeat_record",
    "limit_clear",
    "limit_set",
    "limit_window_end",
    "resolve_refusal",
    "role_limit_set",
    "splitting_detect",
    "validate_amount",
]
