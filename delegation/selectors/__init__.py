"""Reads for authority, decisions and escalations: each shaped for a page or an endpoint.

One module per sub-domain; each public name is re-exported here, so callers keep importing
`from delegation.selectors import …`. Dependencies point down this list, never up:

- `usage` — counter keys, usage, each person's own limits, and the one loader of "limits and usage
  of these people" (`authority_snapshots`, optionally locking the counters in key order).
- `stand_ins` — delegations running, given, held, visible.
- `authority` — one person's authority now, the matrix, windows, standing limits, role defaults.
- `history` — the authority timeline and what someone could decide at a past moment.
- `escalations` — decisions and escalations: visibility, who may answer, the inbox, routing's and
  the review's work lists.
- `granting` — who may change whose limits: the refusals the limits service raises and the
  authority pages show their buttons from.
- `people` — who is visible to whom on the authority pages; colleagues to choose from.
"""

from delegation.selectors.authority import (
    Authority,
    AuthorityLine,
    MatrixRow,
    RoleDefaults,
    authority_matrix,
    authority_of,
    matrix_people,
    matrix_teams,
    personal_limits_of,
    role_defaults,
    standing_limits,
    windows_of,
)
from delegation.selectors.escalations import (
    answer_refusal,
    decisions_for_case,
    decisions_visible_to,
    escalation_inbox,
    escalations_beyond_capacity,
    escalations_to_answer,
    escalations_to_remind,
    escalations_to_review,
    escalations_visible_to,
    escalations_waiting_for_routing,
    may_answer,
    may_withdraw,
    pending_escalations_of_case,
    response_hours,
    routing_backlog,
    with_answer_rights,
    with_people,
    withdraw_refusal,
)
from delegation.selectors.granting import (
    limit_clear_refusal,
    limits_refusal,
    may_change_limits_of,
    may_change_role_limits,
    may_clear_limits,
    may_end_window,
    personal_limits_to_clear,
    role_limits_refusal,
    window_end_refusal,
)
from delegation.selectors.guidance import (
    Guidance,
    SharedNote,
    guidance_edit_refusal,
    guidance_for,
    may_edit_guidance,
)
from delegation.selectors.history import (
    LIMIT_ROW_ACTIONS,
    HistoricLine,
    authority_at,
    authority_timeline,
    timeline_with_stand_ins,
)
from delegation.selectors.navigation import Menu, menu_for
from delegation.selectors.people import (
    USERNAME_PATTERN,
    employee_named,
    employee_visible_to,
    people_below,
    stand_in_candidates,
)
from delegation.selectors.stand_ins import (
    active_stand_ins,
    authority_held_for,
    delegation_end_refusal,
    delegations_given,
    delegations_held,
    delegations_visible_to,
    may_end_delegation,
    stand_in_duties,
)
from delegation.selectors.usage import (
    AuthoritySnapshot,
    CounterKeys,
    active_decision_types,
    authority_snapshot,
    authority_snapshots,
    counter_amounts,
    counter_keys,
    own_limits,
    running_windows,
    usage_from,
)

__all__ = [
    "LIMIT_ROW_ACTIONS",
    "USERNAME_PATTERN",
    "Authority",
    "AuthorityLine",
    "AuthoritySnapshot",
    "CounterKeys",
    "Guidance",
    "HistoricLine",
    "MatrixRow",
    "Menu",
    "RoleDefaults",
    "SharedNote",
    "active_decision_types",
    "active_stand_ins",
    "answer_refusal",
    "authority_at",
    "authority_held_for",
    "authority_matrix",
    "authority_of",
    "authority_snapshot",
    "authority_snapshots",
    "authority_timeline",
    "counter_amounts",
    "counter_keys",
    "decisions_for_case",
    "decisions_visible_to",
    "delegation_end_refusal",
    "delegations_given",
    "delegations_held",
    "delegations_visible_to",
    "employee_named",
    "employee_visible_to",
    "escalation_inbox",
    "escalations_beyond_capacity",
    "escalations_to_answer",
    "escalations_to_remind",
    "escalations_to_review",
    "escalations_visible_to",
    "escalations_waiting_for_routing",
    "guidance_edit_refusal",
    "guidance_for",
    "limit_clear_refusal",
    "limits_refusal",
    "matrix_people",
    "matrix_teams",
    "may_answer",
    "may_change_limits_of",
    "may_change_role_limits",
    "may_clear_limits",
    "may_edit_guidance",
    "may_end_delegation",
    "may_end_window",
    "may_withdraw",
    "menu_for",
    "own_limits",
    "pending_escalations_of_case",
    "people_below",
    "personal_limits_of",
    "personal_limits_to_clear",
    "response_hours",
    "role_defaults",
    "role_limits_refusal",
    "routing_backlog",
    "running_windows",
    "stand_in_candidates",
    "stand_in_duties",
    "standing_limits",
    "timeline_with_stand_ins",
    "usage_from",
    "window_end_refusal",
    "windows_of",
    "with_answer_rights",
    "with_people",
    "withdraw_refusal",
]
