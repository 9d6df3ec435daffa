import json
from collections.abc import Callable, Iterable
from datetime import UTC
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from empower.errors import Conflict

# The longest free text people may write, on every path (pages, the API, the admin): a case's
# description, and a note, reason or rationale. The page forms and the API serializers say the same.
DESCRIPTION_MAX = 10_000
NOTE_MAX = 5000


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A job role. A higher rank sits higher in the organization."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    rank = models.PositiveSmallIntegerField(_("rank"), default=0)

    class Meta:
        ordering = ["rank", "code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


# Bumped whenever the organization changes in this process (someone placed, moved, or their team
# changed): answers remembered on an Employee instance (`Employee.remembered`) from before are stale.
_ORG_VERSION = [0]


def org_changed() -> None:
    _ORG_VERSION[0] += 1


# Every path below the person with this prefix; `path` is "/" for someone nobody manages.
def _prefix(path: str, pk: int) -> str:
    return f"{path}{pk}/"


class EmployeeQuerySet(models.QuerySet):
    """Employees, with the chain of command answered from the materialized `path` (see Employee)."""

    def below(self, employee: "Employee", *, include_self: bool = False) -> "EmployeeQuerySet":
        """Everyone below `employee` (and them, with `include_self`): one prefix search on the
        indexed `path`, costing the size of their part of the tree, not of the company."""
        below = Q(path__startswith=employee.subtree_prefix)
        return self.filter(below | Q(pk=employee.pk) if include_self else below)

    def bulk_create(self, objs: Iterable["Employee"], *args, **kwargs) -> list["Employee"]:
        """Bulk inserts get their paths too, from their managers' paths read in one query (a
        manager is inserted before their reports: in an earlier batch, or saved)."""
        objs = list(objs)
        managers = {o.parent_id for o in objs if o.parent_id is not None}
        known = self.model._base_manager.using(self.db).filter(pk__in=managers).order_by()
        paths = dict(known.values_list("pk", "path")) if managers else {}
        for obj in objs:
            if obj.parent_id is None:
                obj.path = "/"
            elif obj.parent_id in paths:
                obj.path = _prefix(paths[obj.parent_id], obj.parent_id)
            else:
                raise ValueError(f"The manager (id {obj.parent_id}) of a new employee is not saved yet.")
        org_changed()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable["Employee"], fields: Iterable[str], *args, **kwargs) -> int:
        fields = list(fields)
        changed = super().bulk_update(objs, fields, *args, **kwargs)
        if "parent" in fields or "parent_id" in fields:
            self.rebuild_paths()
        org_changed()
        return changed

    def update(self, **kwargs) -> int:
        changed = super().update(**kwargs)
        if "parent" in kwargs or "parent_id" in kwargs:
            self.rebuild_paths()
        org_changed()
        return changed

    update.alters_data = True  # type: ignore[attr-defined]

    def rebuild_paths(self) -> int:
        """Recompute every employee's path from the managers (`parent`) in one statement: a
        recursive query seeded at the people nobody manages. A maintenance step after rows were
        written around `save()` (raw or bulk inserts, a restore), never part of a request. People
        in a loop of managers are unreachable from the top and keep their path. Returns the number
        of rows whose path changed."""
        connection = connections[self.db]
        table = connection.ops.quote_name(self.model._meta.db_table)
        # The only name put into the SQL is the model's own table, quoted.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} SET path = chain.path
                FROM (
                    WITH RECURSIVE chain (id, path) AS (
                        SELECT id, CAST('/' AS TEXT) FROM {table} WHERE parent_id IS NULL
                        UNION ALL
                        SELECT e.id, chain.path || CAST(e.parent_id AS TEXT) || '/'
                        FROM {table} e JOIN chain ON e.parent_id = chain.id
                    )
                    SELECT id, path FROM chain
                ) AS chain
                WHERE chain.id = {table}.id AND {table}.path <> chain.path
                """  # noqa: S608
            )
            changed = cursor.rowcount
        org_changed()
        return changed


class Employee(models.Model):
    """One per Django user. `parent` is the manager: the chain of command is a tree.

    `path` materializes the chain above a person: the ids of their managers from the top down,
    e.g. "/1/7/" for someone whose manager is 7 who reports to 1 ("/" at the top). Why a path and
    not a recursive query: "who is above me" is then read off the row already loaded (zero queries
    for `is_above`, one `pk__in` for `chain_above`), and "who is below me" is one prefix search on
    an index (`path LIKE '/1/7/42/%'`) that touches only that person's part of the tree, whereas a
    recursive CTE (django-tree-queries) walks the whole company from its roots on every request.
    The person's own id is left out of their path so it is known before the row is inserted: a
    bulk insert computes it from the managers, no second write.

    Kept in one place, here: `save()` places a new or moved person (and moves their whole subtree
    in one UPDATE); `EmployeeQuerySet.bulk_create` fills it from the managers; `bulk_update`,
    `update` of the manager, and `empower.services.employee_paths_rebuild()` recompute it.
    """

    parent = models.ForeignKey(
        "self",
        verbose_name=_("manager"),
        related_name="reports",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="employee"
    )
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="employees")
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="employees")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    path = models.CharField(
        _("chain of command"),
        max_length=1000,
        editable=False,
        default="/",
    )

    objects = EmployeeQuerySet.as_manager()

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        indexes = [
            # `varchar_pattern_ops` lets PostgreSQL answer `path LIKE '/1/7/%'` from the index whatever
            # the database's collation (ignored elsewhere: a plain index on SQLite).
            models.Index(fields=["path"], name="employee_path", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

    def __getstate__(self) -> dict:
        # A pickled or copied employee (a cache, another process) remembers nothing.
        state = super().__getstate__()
        state.pop("_memo", None)
        return state

    def save(self, *args, **kwargs) -> None:
        """Save, placing the person under their manager: their path is the manager's path and the
        manager; a move rewrites the paths of everyone below them in the same transaction."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not {"parent", "parent_id"} & set(update_fields):
            super().save(*args, **kwargs)
            org_changed()
            return
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "path"}
        using = kwargs.get("using") or "default"
        rows = Employee._base_manager.using(using)
        with transaction.atomic(using=using):
            # Fresh from the database, locked: an instance loaded earlier may carry a stale path.
            wanted = [pk for pk in (self.pk, self.parent_id) if pk is not None]
            paths = dict(rows.select_for_update().filter(pk__in=wanted).order_by().values_list("pk", "path"))
            old_path = paths.get(self.pk) if self.pk is not None and not self._state.adding else None
            if self.parent_id is None:
                self.path = "/"
            else:
                parent_path = paths[self.parent_id]
                if self.pk is not None and (self.parent_id == self.pk or self.pk in _ids(parent_path)):
                    raise ValidationError(_("Nobody can report to themselves or to someone below them."))
                self.path = _prefix(parent_path, self.parent_id)
            super().save(*args, **kwargs)
            if old_path is not None and old_path != self.path:
                old, new = _prefix(old_path, self.pk), _prefix(self.path, self.pk)
                rows.filter(path__startswith=old).update(path=Concat(Value(new), Substr("path", len(old) + 1)))
        org_changed()

    save.alters_data = True  # type: ignore[attr-defined]

    @property
    def manager(self) -> "Employee | None":
        return self.parent

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def is_active(self) -> bool:
        return self.user.is_active

    @property
    def path_ids(self) -> list[int]:
        """The ids of everyone above, from the top down (the manager last)."""
        return _ids(self.path)

    @property
    def subtree_prefix(self) -> str:
        """What the path of everyone below this person starts with."""
        return _prefix(self.path, self.pk)

    def remembered(self, key: str, compute: Callable[[], Any]) -> Any:
        """`compute()` once for this instance, e.g. the teams this person may see: the instance the
        middleware or the API loads lives for one request, so the answer is computed at most once
        per request. Forgotten when the organization changes in this process (`org_changed`) and
        on `refresh_from_db`."""
        version, memo = self.__dict__.get("_memo", (None, None))
        if version != _ORG_VERSION[0] or memo is None:
            memo = {}
            self.__dict__["_memo"] = (_ORG_VERSION[0], memo)
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def refresh_from_db(self, *args, **kwargs) -> None:
        self.__dict__.pop("_memo", None)
        super().refresh_from_db(*args, **kwargs)

    def clean(self) -> None:
        """Nobody is placed below themselves (read off the new manager's path: no query)."""
        super().clean()
        if self.pk and self.parent_id and self._would_loop(self.parent):
            raise ValidationError(_("Nobody can report to themselves or to someone below them."))

    def _would_loop(self, parent: "Employee") -> bool:
        return parent.pk == self.pk or self.pk in parent.path_ids


def _ids(path: str) -> list[int]:
    return [int(part) for part in path.split("/") if part]


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # One mailbox, one customer: `email` holds the canonical form (empower.emails.canonical_email,
        # lower case among the rest), so a plain unique constraint covers every spelling.
        constraints = [models.UniqueConstraint(fields=["email"], name="customer_email_canonical_unique")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    # The legal moves: an open case is resolved; a resolved one may be reopened.
    TRANSITIONS = {Status.OPEN: {Status.RESOLVED}, Status.RESOLVED: {Status.OPEN}}

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="cases")
    assigned_to = models.ForeignKey(
        Employee, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="assigned_cases"
    )
    created_by = models.ForeignKey(
        Employee, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="created_cases"
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=DESCRIPTION_MAX)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    resolution_note = models.TextField(_("resolution note"), blank=True, max_length=NOTE_MAX)
    resolved_by = models.ForeignKey(
        Employee,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        related_name="resolved_cases",
        null=True,
        blank=True,
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["team", "status", "-created_at"], name="case_team_status"),
            models.Index(fields=["assigned_to", "status"], name="case_assignee_status"),
            models.Index(fields=["team", "-created_at", "-id"], name="case_team_recent"),
            models.Index(fields=["-created_at", "-id"], name="case_recent"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def move_to(self, status: str, **changes) -> None:
        """Move the case (resolve it, reopen it) with the fields that change with it; an illegal move (a
        resolved case resolved again, an open one reopened) is refused with `Conflict` and changes nothing."""
        if status not in self.TRANSITIONS.get(self.status, ()):
            if self.status == self.Status.OPEN:
                raise Conflict(_("This case is open already."), code="case_open")
            raise Conflict(_("This case is already resolved."), code="case_resolved")
        for name, value in changes.items():
            setattr(self, name, value)
        self.status = status
        self.save(update_fields=["status", "updated_at", *changes])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class AuditRecord(models.Model):
    """An append-only record of a change: who, what, before, after, when and why."""

    actor = models.ForeignKey(
        Employee, verbose_name=_("actor"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        Employee,
        verbose_name=_("on behalf of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("target type"), max_length=60)
    target_id = models.CharField(_("target id"), max_length=60)
    subject = models.ForeignKey(
        Employee,
        verbose_name=_("employee concerned"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_records",
        help_text=_("The employee whose authority or work the change concerns."),
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    # Set only on records of events that happen once (see `services.audit_once`): the unique index
    # lets exactly one of two concurrent writers record the event.
    once_key = models.CharField(_("once-only key"), max_length=255, null=True, blank=True, editable=False)
    # The hash chain (see `empower.audit_chain`): the record's place in the chain and the SHA-256 of
    # the previous record's hash followed by this record's content, set in the INSERT itself.
    chain_seq = models.BigIntegerField(_("place in the chain"), null=True, blank=True, unique=True, editable=False)
    hash = models.CharField(_("chain hash"), max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["subject", "created_at"], name="audit_subject_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["once_key"], condition=models.Q(once_key__isnull=False), name="audit_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit records are append-only.")
        super().save(*args, **kwargs)

    def chain_payload(self) -> str:
        return audit_payload(self)


def audit_payload(record) -> str:
    """An audit record's content as the hash chain hashes it: canonical JSON, the same before the
    INSERT and when read back (JSON values as stored, the moment in UTC to the microsecond). A plain
    function, so the migration that chains the existing records uses exactly this."""
    content = {
        "action": record.action,
        "actor": record.actor_id,
        "on_behalf_of": record.on_behalf_of_id,
        "target_type": record.target_type,
        "target_id": record.target_id,
        "subject": record.subject_id,
        "before": record.before,
        "after": record.after,
        "reason": record.reason,
        "created_at": record.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "once_key": record.once_key,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class AuditChainHead(models.Model):
    """The one row holding the end of the audit chain: the last record's place and hash. Writing an
    audit record updates it in the same statement, so concurrent writers queue on this row and the
    chain never forks."""

    seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.seq} {self.last_hash[:12]}"


class OutboxKeyed:
    """A row whose event queues one outbox e-mail (`OutgoingEmail`), keyed `<EMAIL_KEY_PREFIX><pk>`."""

    EMAIL_KEY_PREFIX: str

    @property
    def email_key(self) -> str:
        return self.email_key_of(self.pk)

    @classmethod
    def email_key_of(cls, pk: int) -> str:
        """The outbox key of row `pk`'s e-mail."""
        return f"{cls.EMAIL_KEY_PREFIX}{pk}"


class Notification(OutboxKeyed, models.Model):
    """An in-app message; `key` makes one event notify each person once. Its e-mail, if the
    recipient has an address, is the outbox row keyed `email_key`."""

    EMAIL_KEY_PREFIX = "notification:"

    recipient = models.ForeignKey(
        Employee, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    key = models.CharField(_("event key"), max_length=200)
    message = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_event")]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient_recent"),
        ]

    def __str__(self) -> str:
        return self.message[:60]


class OutgoingEmailQuerySet(models.QuerySet):
    """The states operators filter by; the admin of the outbox and of each sender use these."""

    def unsent(self) -> "OutgoingEmailQuerySet":
        return self.filter(sent_at__isnull=True)

    def failed(self) -> "OutgoingEmailQuerySet":
        """Unsent, and the last attempt failed (still being retried, or given up on)."""
        return self.unsent().exclude(last_error="")

    def sent(self) -> "OutgoingEmailQuerySet":
        return self.filter(sent_at__isnull=False)


class OutgoingEmail(models.Model):
    """One e-mail to one address, queued by a service and sent by a worker, exactly once.

    `key` names the event ("notification:12", "survey:7"): the same event never queues two mails.
    Subject and body are rendered by the caller, in the recipient's language. A worker claims the
    row (`claimed_at`) before sending and marks it sent only afterwards; a claim left by a worker
    that died mid-send expires, and the periodic re-send tries again until `send_until`.
    """

    key = models.CharField(_("event key"), max_length=200, unique=True)
    to = models.EmailField(_("recipient address"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    send_until = models.DateTimeField(_("retry until"), help_text=_("The periodic re-send gives up after this."))
    claimed_at = models.DateTimeField(_("being sent since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        constraints = [models.CheckConstraint(condition=~models.Q(key=""), name="outgoing_email_has_key")]
        indexes = [
            # The periodic re-send looks only at e-mails not sent yet, oldest first.
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outgoing_email_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None


class ApiToken(models.Model):
    """A key for the API (`Authorization: Token <key>`), one of any number per person, each revocable.

    Only a digest of the key is stored, so a copy of the database lets nobody in. A token stops
    working when it expires (`API_TOKEN_DAYS`), when it is revoked (the row is deleted), when its
    user is deactivated, and at once when their password changes: `password_stamp` is the user's
    session hash when it was issued, compared on every use, as Django does for browser sessions.
    A token issued on the web page may be tied to that browser's login (`session_key`): logging
    out there revokes it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(_("key digest"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key begins"), max_length=8, editable=False)
    name = models.CharField(_("name"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    password_stamp = models.CharField(max_length=128, editable=False)
    session_key = models.CharField(_("ends with the login"), max_length=40, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "session_key"], name="api_token_user_session")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user})"
