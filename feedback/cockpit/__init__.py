"""The evidence cockpit: where decisions are made, what escalations cost, and the inverted pyramid.

- `models`: the summaries the cockpit reads (per team, decision type and day; who settled what;
  the time each answered escalation took), kept current by `summaries`.
- `summaries`: rebuilding and refreshing them from the raw decisions (a beat task, on demand).
- `selectors`: the figures, read from the summaries in a constant number of queries.
- `charts`: server-rendered SVG bar and line charts (no script, nothing from another host).
- `csv`: every table as CSV, safe against spreadsheet formula injection.
- `views`, `api`: the pages and `/api/v1/insights/decisions/`.
"""
