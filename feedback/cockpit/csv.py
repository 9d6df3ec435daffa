"""Tables as CSV, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheets
skip before one) would be read as a formula: such a cell is prefixed with a single quote, so a team
called `=HYPERLINK(…)` arrives as text.
"""

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse
from rest_framework.renderers import BaseRenderer

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: list[str], rows: Iterable[Iterable]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def csv_response(header: list[str], rows: Iterable[Iterable], *, filename: str) -> HttpResponse:
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
    """`?format=csv` on the cockpit's API: the view hands it `(header, rows)`, or a list of dicts (a
    dict with `rows`, or any other dict, e.g. an OPTIONS answer, as one row); cells made safe."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, tuple):
            header, rows = data
        else:
            if isinstance(data, dict):
                data = data.get("rows", [data])
            header, rows = flat_rows(list(data or []))
        return csv_text(header, rows).encode(self.charset)
