"""Hot SQL composed once per process and, on PostgreSQL, planned once per session: `Prepared`
statements, `PreparedRead`s of whole model rows, and `insert` / `insert_once`.

Every API call reads the caller's token (with user and employee), and every decision its case and
writes the decision and its audit record. On the ORM, composing that SQL cost more CPU than
running it (about a sixth of an in-authority decision for the token's join alone), and PostgreSQL
planned the three-table join anew each time, four fifths of what it spent on the read (measured
on the `seed_scale` data). Here each statement is composed once, from the models' own columns; on
PostgreSQL it is a server-side prepared statement (`PREPARE` on a session's first use, then
`EXECUTE`). Instances are built as Django's raw querysets build them: the backend's converters,
then `Model.from_db`. Only the decision path and the notifications its escalations send use it;
everything else stays on the ORM.

Prepared statements live in the database session: behind a pooler that does not keep a client on
one server connection (PgBouncer's transaction mode) set `DB_PREPARED_STATEMENTS=0`, and each
statement is sent as text again (still composed once). A migration that changes the type of a
column these statements return makes PostgreSQL refuse them in sessions that prepared them
before: restart the web and worker processes after migrating, as after any deploy.
"""

from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import count

from django.conf import settings
from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models import Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import Query

_names = count(1)


class Prepared:
    """A statement composed by `compose()` at its first use in this process; on PostgreSQL, prepared
    on a session's first use and then executed by name. Parameters are `%s`, in order."""

    def __init__(self, compose: Callable[[], str]):
        self.compose = compose
        self.name = f"empower_statement_{next(_names)}"

    @cached_property
    def sql(self) -> str:
        return self.compose()

    def execute(self, cursor, params: Sequence) -> None:
        if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
            cursor.execute(self.sql, params)
            return
        prepared = getattr(connection, "empower_prepared", None)
        if prepared is None:  # a session opened before the app was ready
            prepared = connection.empower_prepared = set()
        if self.name not in prepared:
            numbered = self.sql
            for n in range(1, len(params) + 1):
                numbered = numbered.replace("%s", f"${n}", 1)
            cursor.execute(f"PREPARE {self.name} AS {numbered}")
            prepared.add(self.name)  # a session's, whatever becomes of the transaction
        marks = ", ".join(["%s"] * len(params))
        cursor.execute(f"EXECUTE {self.name}({marks})", params)


class PreparedRead:
    """`PreparedRead([(Model, "alias"), …], "{alias} JOIN {other} ON … WHERE … = %s")`: `one(*params)`
    answers a tuple of instances, one per model (None for a LEFT JOIN that found no row), or None.

    In the text, `{alias}` stands for the model's quoted table with that alias; columns are written
    `alias.column`. Parameters go as the database takes them (a field's `get_db_prep_value`).
    """

    def __init__(self, models: list[tuple[type[Model], str]], text: str):
        self.models = models
        self.text = text
        self.statement = Prepared(self._compose)

    def _compose(self) -> str:
        quote = connection.ops.quote_name
        select = ", ".join(
            f"{alias}.{quote(f.column)}" for model, alias in self.models for f in model._meta.concrete_fields
        )
        tables = {alias: f"{quote(model._meta.db_table)} {alias}" for model, alias in self.models}
        # Names from the models and our own text; values are parameters.
        return f"SELECT {select} FROM {self.text.format(**tables)}"  # noqa: S608

    @cached_property
    def converters(self) -> list[tuple[int, list, object]]:
        """(position, converters, column) where the backend or the field converts what the database
        returns (e.g. SQLite's text to datetimes); they read no per-connection state."""
        columns = [f.get_col(alias) for model, alias in self.models for f in model._meta.concrete_fields]
        compiler = connection.ops.compiler("SQLCompiler")(Query(self.models[0][0]), connection, connection.alias)
        return [(at, found, column) for at, (found, column) in compiler.get_converters(columns).items()]

    def one(self, *params) -> tuple | None:
        with connection.cursor() as cursor:
            self.statement.execute(cursor, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if self.converters:
            row = list(row)
            for at, converters, column in self.converters:
                for convert in converters:
                    row[at] = convert(row[at], column, connection)
        instances, start = [], 0
        for model, _alias in self.models:
            fields = model._meta.concrete_fields
            values = row[start : start + len(fields)]
            start += len(fields)
            found = values[fields.index(model._meta.pk)] is not None
            instances.append(model.from_db(connection.alias, None, values) if found else None)
        return tuple(instances)


_INSERTS: dict[tuple, Prepared] = {}


def _inserted_fields(model: type[Model]) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _compose_insert(model: type[Model], unique: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _inserted_fields(model))
    marks = ", ".join(["%s"] * len(_inserted_fields(model)))
    conflict = ", ".join(quote(model._meta.get_field(name).column) for name in unique)
    # Names from the model; values are parameters.
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks}) "  # noqa: S608
        + (f"ON CONFLICT ({conflict}) DO NOTHING " if unique else "")
        + f"RETURNING {quote(model._meta.pk.column)}"
    )


def _insert(instance: Model, unique: tuple[str, ...]) -> bool:
    model = type(instance)
    statement = _INSERTS.get((model, unique))
    if statement is None:
        statement = _INSERTS[(model, unique)] = Prepared(lambda: _compose_insert(model, unique))
    values = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in _inserted_fields(model)]
    with connection.cursor() as cursor:
        statement.execute(cursor, values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return True


def insert(instance: Model) -> Model:
    """Insert `instance` (unsaved) in one prepared statement and set its pk: `Model.save` composes the
    INSERT anew every time, and the decision path writes a decision per call. A constraint it breaks
    raises `IntegrityError`. Where something listens for the model's saves, it is saved the ORM's way,
    signals and all."""
    model = type(instance)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        instance.save(force_insert=True)
    else:
        _insert(instance, ())
    return instance


def insert_once(instance: Model, *, unique: tuple[str, ...]) -> bool:
    """Insert `instance` (unsaved) unless a row with the same `unique` fields exists, in one statement
    (`INSERT … ON CONFLICT DO NOTHING`; a concurrent insert of the same is waited for, then skipped):
    True, with its pk set, when it was inserted. `get_or_create` takes three statements and two
    savepoints for the same, and a routing task tells two people. Sends no signal: for models whose
    saves nothing listens to (notifications, outbox e-mails)."""
    return _insert(instance, unique)


def _new_session(sender, connection, **kwargs) -> None:
    connection.empower_prepared = set()  # a new database session has prepared nothing


def connect_signals() -> None:
    connection_created.connect(_new_session, dispatch_uid="empower-prepared-reads")
