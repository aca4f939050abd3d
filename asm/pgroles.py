"""Least privilege on PostgreSQL: an owner role for migrations and an app role for the running app.

`flask --app wsgi db-roles setup --owner asm_owner --app asm_app` (as a superuser, once; again after each
`flask db upgrade`, as the superuser or the owner; it is idempotent):

- creates both roles if missing (LOGIN, no superuser, no CREATEDB/CREATEROLE/REPLICATION/BYPASSRLS; the app role
  does not inherit and is no member of the owner), and sets their passwords when given;
- makes the owner own every table, sequence and function of the schema (migrations alter them, the triggers of
  the append-only tables included) and lets it create in the schema; the app role may not create anything;
- grants the app role exactly what the app does: SELECT, INSERT, UPDATE on its tables; DELETE only where the
  app deletes (`MAY_DELETE`); SELECT, INSERT only on the append-only `stay_events` and `access_log`; SELECT on
  `alembic_version`; USAGE on the sequences. Tables a later migration adds get SELECT, INSERT, UPDATE at once
  (default privileges) until the command runs again.

So the app's own connection cannot DELETE or TRUNCATE the history, cannot ALTER TABLE ... DISABLE TRIGGER or
drop a trigger (owner only), and cannot SET session_replication_role (superuser only).

With `--purge asm_purge`, a third role for the retention purge (PURGE_DATABASE_URL, asm/jobs/purge.py): SELECT on
every table, DELETE on the tables the purge empties (`asm.jobs.purge.PURGED`, the append-only history included:
their triggers still let a DELETE through only inside the purge's transaction), UPDATE on `stays` (a group's
members let go of their head), INSERT on the purge ledger, and EXECUTE on the functions that make and drop the
history's monthly partitions (migration 0017). No TRUNCATE, no ownership: it cannot disable a trigger either.
The app role may execute neither function.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from asm.config import normalize_database_url

APPEND_ONLY = ("stay_events", "access_log", "establishment_decisions", "purge_ledger")
READ_ONLY = ("alembic_version", "purge_mode")  # purge_mode: SQLite only (asm/jobs/purge.py)
# The jobs' own rows, report files and idempotency records are deleted by the jobs and the retention purge (asm/jobs).
MAY_DELETE = (
    "memberships",
    "user_sessions",
    "recovery_codes",
    "jobs",
    "police_report_chunks",
    "reminders",
    "reminder_deliveries",
    "push_subscriptions",
    "idempotency_records",
)
PARTITION_FUNCTIONS = (
    "history_next_id(text)",
    "history_partitions_ensure(date, integer, bigint)",
    "history_partition_drop(text)",
)
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"

db_roles_cli = AppGroup("db-roles", help="Vai trò PostgreSQL tối thiểu / least-privilege PostgreSQL roles.")


def privileges_for(table: str) -> str:
    if table in READ_ONLY:
        return "SELECT"
    if table in APPEND_ONLY:
        return "SELECT, INSERT"
    if table in MAY_DELETE:
        return "SELECT, INSERT, UPDATE, DELETE"
    return "SELECT, INSERT, UPDATE"


def _literal(connection: Connection, value: str) -> str:
    from psycopg import sql

    raw = connection.connection.driver_connection
    return sql.Literal(value).as_string(raw)


def setup_roles(
    connection: Connection,
    *,
    owner: str,
    app: str,
    owner_password: str | None = None,
    app_password: str | None = None,
    purge: str | None = None,
    purge_password: str | None = None,
) -> list[str]:
    """Create or tighten the roles and their grants; what was done, as SQL. Runs in the caller's transaction."""
    names = (owner, app) + ((purge,) if purge else ())
    for name in names:
        if not ROLE_NAME.match(name):
            raise ValueError(f"role names are lower-case letters, digits and _: {name!r}")
    if len(set(names)) != len(names):
        raise ValueError("the owner, the app role and the purge role must differ")
    done: list[str] = []

    def run(statement: str) -> None:
        connection.execute(text(statement))
        done.append(statement)

    superuser = connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    exists = set(
        connection.execute(
            text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"), {"names": list(names)}
        ).scalars()
    )
    limited = (app,) + ((purge,) if purge else ())
    for name, extra in [(owner, "")] + [(n, " NOINHERIT") for n in limited]:
        if name not in exists:
            run(f"CREATE ROLE {name} {ATTRIBUTES}{extra}")
        elif superuser:
            run(f"ALTER ROLE {name} {ATTRIBUTES}{extra}")
    for role, password in ((owner, owner_password), (app, app_password), (purge, purge_password)):
        if role and password:
            connection.execute(text(f"ALTER ROLE {role} PASSWORD {_literal(connection, password)}"))
            done.append(f"ALTER ROLE {role} PASSWORD '…'")
    for name in limited:
        member = connection.execute(
            text(
                "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = :o AND u.rolname = :a"
            ),
            {"o": owner, "a": name},
        ).first()
        if member:
            run(f"REVOKE {owner} FROM {name}")

    if superuser:
        database = connection.execute(text("SELECT current_database()")).scalar()
        run(f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {owner}')
        for name in limited:
            run(f'GRANT CONNECT ON DATABASE "{database}" TO {name}')
        run(f"GRANT USAGE, CREATE ON SCHEMA public TO {owner}")
        run("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for name in limited:
            run(f"REVOKE CREATE ON SCHEMA public FROM {name}")
            run(f"GRANT USAGE ON SCHEMA public TO {name}")
        # The history's partitions (migration 0017) are the owner's too; nobody else needs their schema.
        if connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = 'history'")).first():
            run(f"ALTER SCHEMA history OWNER TO {owner}")
            run("REVOKE ALL ON SCHEMA history FROM PUBLIC")
        # Everything in the schema belongs to the owner (a table's sequences follow it).
        objects = connection.execute(
            text(
                "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'history') AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
                "AND pg_get_userbyid(c.relowner) <> :o "
                "AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
                "AND d.deptype IN ('a', 'i') AND d.classid = 'pg_class'::regclass))"
            ),
            {"o": owner},
        ).all()
        for schema, relname, kind in objects:
            noun = {"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW"}.get(kind, "TABLE")
            run(f'ALTER {noun} "{schema}"."{relname}" OWNER TO {owner}')
        functions = connection.execute(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> :o"
            ),
            {"o": owner},
        ).scalars()
        for signature in list(functions):
            run(f"ALTER FUNCTION {signature} OWNER TO {owner}")

    tables = list(
        connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        ).scalars()
    )
    run(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {app}")
    run(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {app}")
    for table in tables:
        run(f'GRANT {privileges_for(table)} ON TABLE "{table}" TO {app}')
    run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}")
    run(f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE ON TABLES TO {app}")
    run(f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {app}")
    partition_functions = [f for f in PARTITION_FUNCTIONS if _function_exists(connection, f)]
    for function in partition_functions:
        run(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC, {app}")
    if purge:
        _purge_grants(run, tables, purge, partition_functions)
    return done


def _function_exists(connection: Connection, signature: str) -> bool:
    return connection.execute(text("SELECT to_regprocedure(:f) IS NOT NULL"), {"f": signature}).scalar() is True


def _purge_grants(run: Callable[[str], None], tables: list[str], purge: str, functions: list[str]) -> None:
    from asm.jobs.purge import PURGED

    run(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {purge}")
    run(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {purge}")
    for table in tables:
        verbs = ["SELECT"]
        if table in PURGED:
            verbs.append("DELETE")
        if table == "stays":
            verbs.append("UPDATE")
        if table == "purge_ledger":
            verbs.append("INSERT")
        run(f'GRANT {", ".join(verbs)} ON TABLE "{table}" TO {purge}')
    run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {purge}")
    for function in functions:
        run(f"GRANT EXECUTE ON FUNCTION {function} TO {purge}")


@db_roles_cli.command("setup")
@click.option("--owner", required=True, help="The role that owns the schema and runs migrations, e.g. asm_owner.")
@click.option("--app", "app_role", required=True, help="The role the app connects as, e.g. asm_app.")
@click.option(
    "--url",
    envvar="ASM_ADMIN_DATABASE_URL",
    help="Connect as this (a superuser the first time). Default: MIGRATION_DATABASE_URL, else DATABASE_URL.",
)
@click.option("--owner-password", envvar="ASM_OWNER_DB_PASSWORD", default=None, help="Or ASM_OWNER_DB_PASSWORD.")
@click.option("--app-password", envvar="ASM_APP_DB_PASSWORD", default=None, help="Or ASM_APP_DB_PASSWORD.")
@click.option("--purge", "purge_role", default=None, help="The retention purge's role, e.g. asm_purge (optional).")
@click.option("--purge-password", envvar="ASM_PURGE_DB_PASSWORD", default=None, help="Or ASM_PURGE_DB_PASSWORD.")
@click.option("--verbose", is_flag=True, help="Print every statement.")
def setup_command(
    owner: str,
    app_role: str,
    url: str | None,
    owner_password: str | None,
    app_password: str | None,
    purge_role: str | None,
    purge_password: str | None,
    verbose: bool,
) -> None:
    """Create the owner, app (and purge) roles and grant each only what it needs (idempotent)."""
    target = normalize_database_url(
        url or current_app.config.get("MIGRATION_DATABASE_URI") or current_app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not target.startswith("postgresql"):
        raise click.ClickException("database roles are a PostgreSQL matter; this database is not PostgreSQL")
    engine = create_engine(target, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            done = setup_roles(
                connection,
                owner=owner,
                app=app_role,
                owner_password=owner_password,
                app_password=app_password,
                purge=purge_role,
                purge_password=purge_password,
            )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        engine.dispose()
    if verbose:
        for statement in done:
            click.echo(statement)
    purge_note = f", purge {purge_role} (PURGE_DATABASE_URL)" if purge_role else ""
    click.echo(
        f"roles ready: owner {owner} (migrations: MIGRATION_DATABASE_URL), app {app_role} (DATABASE_URL){purge_note}"
    )
