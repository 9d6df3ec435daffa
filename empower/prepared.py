"""`PreparedRead`: a hot read of whole model rows, its SQL composed once per process.

The ORM composes a query's SQL anew on every call. For the three-table read that authenticates
every API call that was about a sixth of an in-authority decision's CPU, five times what the
database spent running it. A `PreparedRead` composes the statement once, from the models' own
columns, and builds the instances as Django's raw querysets do: the backend's converters, then
`Model.from_db`. Only for reads on the decision path; everything else stays on the ORM.
"""

from functools import cached_property

from django.db import connection
from django.db.models import Model
from django.db.models.sql import Query


class PreparedRead:
    """`PreparedRead([(Model, "alias"), …], "{alias} JOIN {other} ON … WHERE … = %s")`: `one(*params)`
    answers a tuple of instances, one per model (None for a LEFT JOIN that found no row), or None.

    In the text, `{alias}` stands for the model's quoted table with that alias; columns are written
    `alias.column`. Parameters go as the database takes them (a field's `get_db_prep_value`).
    """

    def __init__(self, models: list[tuple[type[Model], str]], text: str):
        self.models = models
        self.text = text

    @cached_property
    def sql(self) -> str:
        quote = connection.ops.quote_name
        select = ", ".join(
            f"{alias}.{quote(f.column)}" for model, alias in self.models for f in model._meta.concrete_fields
        )
        tables = {alias: f"{quote(model._meta.db_table)} {alias}" for model, alias in self.models}
        # Names from the models and our own text; values are parameters.
        return f"SELECT {select} FROM {self.text.format(**tables)}"  # noqa: S608

    @cached_property
    def columns(self) -> list:
        return [f.get_col(alias) for model, alias in self.models for f in model._meta.concrete_fields]

    def one(self, *params) -> tuple | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        compiler = connection.ops.compiler("SQLCompiler")(Query(self.models[0][0]), connection, connection.alias)
        converters = compiler.get_converters(self.columns)
        if converters:
            row = next(iter(compiler.apply_converters([row], converters)))
        instances, start = [], 0
        for model, _alias in self.models:
            fields = model._meta.concrete_fields
            values = row[start : start + len(fields)]
            start += len(fields)
            found = values[fields.index(model._meta.pk)] is not None
            instances.append(model.from_db(connection.alias, None, values) if found else None)
        return tuple(instances)
