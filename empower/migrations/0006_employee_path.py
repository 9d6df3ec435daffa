from django.db import migrations, models


def fill_paths(apps, schema_editor):
    """Each employee's path from the managers, top down, in Python: the same on SQLite and
    PostgreSQL, and a one-off (a few thousand rows)."""
    Employee = apps.get_model("empower", "Employee")
    rows = Employee.objects.using(schema_editor.connection.alias)
    parent_of = dict(rows.values_list("pk", "parent_id"))
    reports: dict[int | None, list[int]] = {}
    for pk, parent_id in parent_of.items():
        reports.setdefault(parent_id, []).append(pk)
    paths: dict[int, str] = {}
    level = [(pk, "/") for pk in reports.get(None, [])]
    while level:
        paths.update(level)
        level = [(child, f"{path}{pk}/") for pk, path in level for child in reports.get(pk, [])]
    people = list(rows.filter(pk__in=list(paths)).only("pk"))
    for person in people:
        person.path = paths[person.pk]
    rows.bulk_update(people, ["path"], batch_size=1000)


class Migration(migrations.Migration):
    """The chain of command, materialized: `path` holds the ids of everyone above an employee, so
    "who is above / below me" never walks the whole organization (see `Employee`)."""

    dependencies = [
        ("empower", "0005_remove_notification_email_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="employee",
            name="path",
            field=models.CharField(
                default="/",
                editable=False,
                max_length=1000,
                verbose_name="chain of command",
            ),
        ),
        migrations.RunPython(fill_paths, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="employee",
            index=models.Index(fields=["path"], name="employee_path", opclasses=["varchar_pattern_ops"]),
        ),
    ]
