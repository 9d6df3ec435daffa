"""CSV for the recommendations, track records and what-if tables: the same rows as the page and the API.

A cell that starts with =, +, - or @ is prefixed with a quote, so a spreadsheet shows it as text and
never runs it as a formula (spreadsheet formula injection); a tab or carriage return at the start is
treated the same way.
"""

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse
from rest_framework.renderers import BaseRenderer

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """One cell as text, defused: "=1+2" becomes "'=1+2"; None is empty."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def csv_response(header: Sequence[str], rows: Iterable[Sequence], *, filename: str) -> HttpResponse:
    response = HttpResponse(csv_text(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def flat_rows(records: list[dict]) -> tuple[list[str], list[list]]:
    """A header and rows from a list of dicts, nested dicts flattened as `outer_inner`."""

    def flatten(record: dict, prefix: str = "") -> dict:
        flat = {}
        for key, value in record.items():
            if isinstance(value, dict):
                flat |= flatten(value, f"{prefix}{key}_")
            elif not isinstance(value, list):
                flat[f"{prefix}{key}"] = value
        return flat

    flattened = [flatten(record) for record in records]
    header: list[str] = []
    for record in flattened:
        header += [key for key in record if key not in header]
    return header, [[record.get(key) for key in header] for record in flattened]


class CSVRenderer(BaseRenderer):
    """`?format=csv` on the cockpit's API answers the same rows as `text/csv`. The view hands it a list of
    dicts (or a dict with `rows`); an error (a dict with `detail`) is rendered as one row."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, dict):
            data = data.get("rows", [data])
        header, rows = flat_rows(list(data or []))
        return csv_text(header, rows).encode("utf-8")
