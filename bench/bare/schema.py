"""The bare endpoint's tables, created by the bench (no migrations: the app's migrate never sees them)."""

TABLES = [
    """CREATE TABLE IF NOT EXISTS bench_counter (
        id bigserial PRIMARY KEY,
        user_id integer NOT NULL UNIQUE,
        amount numeric(14, 2) NOT NULL DEFAULT 0,
        cap numeric(14, 2) NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS bench_decision (
        id bigserial PRIMARY KEY,
        user_id integer NOT NULL,
        amount numeric(12, 2) NOT NULL,
        rationale text NOT NULL,
        created_at timestamptz NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS bench_decision_user_time ON bench_decision (user_id, created_at)",
    # The bare counterpart of an escalation: a row the request writes, a task claims and assigns.
    """CREATE TABLE IF NOT EXISTS bench_job (
        id bigserial PRIMARY KEY,
        user_id integer NOT NULL,
        status varchar(16) NOT NULL,
        created_at timestamptz NOT NULL,
        assigned_at timestamptz
    )""",
]
