"""Operators' back office for authority, one module per sub-domain (each registers its admins):

- `common` — money with its currency, the operator behind a request, links, read-only pages.
- `catalogue` — decision types and response times (changes audited through the services).
- `limits` — role defaults, personal and temporary limits, under the services' granting and window rules.
- `stand_ins` — delegations, read-only, ended early through the service.
- `usage` — usage counters and worker heartbeats, read-only.
- `decisions` — decisions and escalations, read-only; routing actions through the services.

Decisions and escalations change only through the services, so their pages are read-only; limit
changes, decision types, response times and ending a delegation go through audited services too.
"""

from delegation.admin import catalogue, decisions, limits, stand_ins, usage

__all__ = ["catalogue", "decisions", "limits", "stand_ins", "usage"]
