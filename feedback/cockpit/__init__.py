"""The evidence cockpit: where decisions are made, what escalations cost, and the inverted pyramid.

- `models`: the summaries the cockpit reads (per team, decision type and day; who settled what;
  the time each answered escalation took; surveys per day; the periods' totals and histograms;
  the weeks), written only by `summaries`.
- `summaries`: rebuilding them from the raw rows; `tasks.refresh_cockpit_summaries` (beat, every
  minute) and `manage.py cockpit_summaries` refresh what changed.
- `selectors`: the figures and who may see them, in a constant number of queries.
- `charts`: server-rendered SVG bar, line and pyramid charts (no script, nothing from another host).
- `tables`, `csv`: every table as rows, and as CSV safe against spreadsheet formula injection.
- `views`, `urls`: the pages under /insights/ (and the login that lands a director on the pyramid);
  `api`, `serializers`: `/api/v1/insights/decisions/`.

Other cockpit pages (recommendations, track records, what-if) live beside these in their own
modules; their tabs appear in `feedback/templatetags/cockpit.py` once their URL names exist.
"""
