"""A manager's list of track records, fast for a director of thousands: read from snapshots.

Why snapshots. A record is four aggregates over the decisions, surveys and follow-ups of the
period (`track_record.track_records`); for one person or a team that is milliseconds, but a
director's list aggregates every decision of the company in the period (a million for "all") on
each request, about 2.3 s at 5,000 people. Summing the cockpit's per-team day summaries cannot give
per-person figures, and per-person day summaries would be as many rows as there are person-days (a
year of 5,000 people: nearly two million) and still leave "corrected later", which looks forward
in time, to count live. So each employee's record of each period ("30", "90", "365", "all") is
computed whole, for everyone at once, and stored with its sort keys (`support`, `as_asked_share`):
`TrackRecordSnapshot`, four rows a person (20,000 for a company of 5,000).

How it stays current. `track_records_refresh()` recomputes a period with the very same
`track_records` the detail page runs live (its four aggregate queries, over everyone at once), then
replaces that period's rows in one transaction (a delete and a few bulk inserts): readers see the
old snapshot or the new one, never half. Beat runs it every `COCKPIT_TRACK_RECORD_MINUTES` (10)
(`feedback.cockpit.tasks.refresh_track_records`), and `manage.py cockpit_summaries` runs it too.
Runs of a period are serialized on its `TrackRecordState` row, which also says when the period was
computed: the list shows "as of" that time. One person's record (the detail page and the API)
stays live: it is cheap.

How the list reads it. The viewer's people are `Employee.objects.below(manager)` (the indexed path
prefix, as everywhere), left-joined to their row of the period through the unique (employee,
period) index, and sorted and paged by the database on the stored keys, with the same tie-breaks
as the live sort (then most decisions, then username in code-point order); someone hired since the
refresh is listed with an empty record, as they had then. Three queries for any number of people:
the state, the count and the page. A (period, support, …) index would not help: the sort follows
the filter to the viewer's people, and sorting a few thousand joined rows takes milliseconds.
Before a period's first refresh the list is computed live, as before (never an empty list).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, FilteredRelation, FloatField, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Collate
from django.utils import timezone

from empower.models import Employee
from feedback.cockpit.models import TrackRecordSnapshot, TrackRecordState
from feedback.cockpit.track_record import TrackRecord, period_start, records_of_people_below, track_records
from feedback.selectors import INSIGHT_PERIODS

BATCH = 2000

# Usernames in code-point order, as the live list sorts them in Python: PostgreSQL's "C" collation,
# SQLite's own BINARY.
_CODE_POINTS = "C" if connection.vendor == "postgresql" else "BINARY"


def _snapshot_row(record: TrackRecord, period: str) -> TrackRecordSnapshot:
    return TrackRecordSnapshot(
        period=period,
        employee_id=record.employee_id,
        **{name: getattr(record, name) for name in TrackRecordSnapshot.FIGURES},
        support=record.support,
        as_asked_share=record.as_asked_share,
    )


def track_records_refresh(*, periods: Sequence[str] | None = None, now: datetime | None = None) -> int:
    """Recompute every employee's record of each of `periods` (all four for None) as of `now`, and
    replace that period's snapshot; returns how many rows were written. Idempotent; a second run of
    a period waits for the first, on the period's state row."""
    now = now or timezone.now()
    people = list(Employee.objects.select_related("user").order_by("pk"))
    written = 0
    for period in periods or list(INSIGHT_PERIODS):
        with transaction.atomic():
            TrackRecordState.objects.get_or_create(period=period)
            state = TrackRecordState.objects.select_for_update().get(period=period)
            records = track_records(
                employees=people, since=period_start(period, now=now), ids_query=Employee.objects.values("pk")
            )
            TrackRecordSnapshot.objects.filter(period=period).delete()
            TrackRecordSnapshot.objects.bulk_create([_snapshot_row(r, period) for r in records], batch_size=BATCH)
            state.refreshed_at = now
            state.save(update_fields=["refreshed_at"])
        written += len(records)
    return written


NAME = ("user__username", "user__first_name", "user__last_name")


def _record_of(row: dict) -> TrackRecord:
    """A listed employee's row (from `_listed`) as the `TrackRecord` the pages and CSV show. Rows,
    not model instances: a director's CSV of 5,000 people builds twice as fast."""
    username, first, last = (row[n] for n in NAME)
    name = f"{first} {last}".strip() or username  # as `Employee.__str__`
    record = TrackRecord(employee_id=row["pk"], username=username, name=name)
    for figure in TrackRecordSnapshot.FIGURES:
        setattr(record, figure, row[f"record_{figure}"])
    return record


class _SnapshotRecords:
    """The listed people as a sequence of records: counted and sliced by the database (a `Paginator`
    asks for the count and one page)."""

    def __init__(self, people: QuerySet):
        self.people = people
        self.rows = people.values("pk", *NAME, *(f"record_{n}" for n in TrackRecordSnapshot.FIGURES))

    def count(self) -> int:
        return self.people.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [_record_of(row) for row in self.rows[index]]
        return _record_of(self.rows[index])

    def __iter__(self):
        return (_record_of(row) for row in self.rows)


def _listed(*, manager: Employee, period: str) -> QuerySet:
    """Everyone below `manager` with their snapshot of `period` (an empty record without one), where
    the record most supports more authority first."""
    of_period = FilteredRelation("track_record_snapshots", condition=Q(track_record_snapshots__period=period))
    figures = {
        f"record_{name}": F(f"snapshot__{name}") if name == "csat_average" else Coalesce(f"snapshot__{name}", 0)
        for name in TrackRecordSnapshot.FIGURES
    }
    return (
        Employee.objects.below(manager)
        .annotate(snapshot=of_period)
        .annotate(
            **figures,
            record_support=Coalesce("snapshot__support", 0, output_field=IntegerField()),
            record_share=Coalesce("snapshot__as_asked_share", Value(0.0), output_field=FloatField()),
        )
        .order_by("-record_support", "-record_share", "-record_decisions", Collate("user__username", _CODE_POINTS))
    )


@dataclass
class RecordList:
    """A manager's list: `records` (countable and sliceable) and when they were computed (`as_of`;
    None: just now, live)."""

    records: Sequence[TrackRecord]
    as_of: datetime | None


def records_below(*, manager: Employee, period: str) -> RecordList:
    """The records of everyone below `manager` over `period`, where the record most supports more
    authority first: from the period's snapshot, or live before its first refresh."""
    state = TrackRecordState.objects.filter(period=period, refreshed_at__isnull=False).first()
    if state is None:
        return RecordList(records=records_of_people_below(manager=manager, since=period_start(period)), as_of=None)
    return RecordList(records=_SnapshotRecords(_listed(manager=manager, period=period)), as_of=state.refreshed_at)
