"""The delegation app's pages and htmx partials, by sub-domain (URLs: `delegation.urls`).

- `cases` — the queue with today's authority, the case page and its decision form, the polled outcome.
- `escalations` — the approver's inbox, one escalation and its path, approve, reject, withdraw.
- `limits` — the authority matrix, one person's cell and its edit form, ending a temporary limit, my authority.
- `roles` — role defaults: the table, one cell, its edit form.
- `stand_ins` — stand-ins given, held and below me; set one up; end one.
- `history` — an employee's authority over time and "what could they decide at…".
- `header` — the header's live counts, polled by htmx.
- `common` — what the authority pages share (the stand-in banner, a refusal page).

Each view parses input with a form (`delegation.forms`), calls one service or selector and renders;
no rule is checked here. With htmx the answer is a partial swapped in place; without JavaScript the
same forms post normally and redirect.
"""
