"""The delegation app's REST API, by sub-domain (URLs: `delegation.api_urls`).

- `deciding` — `me/authority/`, a case with its decisions, submit a decision (idempotent), read one back.
- `escalations` — the approver's list, one escalation and its path, approve, reject, withdraw.
- `limits` — an employee's limits (read, set, clear, end a temporary window) and their authority at a moment.
- `stand_ins` — delegations: list, set up, end.

Every view is thin: validate the shape with a serializer (`delegation.serializers`), narrow to what the
caller may see, call one service or selector, render. Every rule lives in `delegation.services`.
"""
