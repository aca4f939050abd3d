"""The history by month (issue 14.3): on PostgreSQL `stay_events` and `access_log` become partitioned tables, one
partition per month, so that the retention purge removes a month by dropping its partition.

- `stay_events` is partitioned by RANGE (stay_id), `access_log` by RANGE (id): every month is a block of ids of
  the stays (the access log), so a stay's whole hash chain lives in one partition and the access log's chain
  loses only whole prefixes. The job `history_partitions` (asm/jobs/partitions.py) creates the next months'
  blocks ahead of time and, when a month begins, moves the id sequence to the start of that month's block.
- The partitions live in the schema `history` (the app role has no privilege there: everything goes through
  the parent tables, whose privileges and append-only triggers are unchanged; the row triggers are cloned to
  every partition).
- A primary key or unique constraint of a partitioned table holds its partition key: `stay_events`' primary key
  becomes (id, stay_id) and its receipt number is unique per stay, `(receipt_no, stay_id)` (the stay's own
  receipt stays unique in `stays`). The same change is made on SQLite, which is not partitioned.
- Two functions run with the owner's rights (SECURITY DEFINER), executable by nobody until `flask db-roles setup`
  grants them to the purge role: `history_partitions_ensure(month, ahead, block)` and
  `history_partition_drop(name)` (only a block no new row can reach, only inside the purge's transaction).
- `users.police_digest`: a police user's choice of the ward's morning digest (asm/police/digest.py).
- Rows already stored are split by month (of the stays' `created_at`, of the access log's `at`) and copied into
  the partitioned tables (on a big database this copy is the long part of the upgrade: docs/PERFORMANCE.md).

Revision ID: 0017
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None

SCHEMA = "history"
FIRST_BLOCK = 1_000_000  # ids per month until the job runs with HISTORY_PARTITION_BLOCK
STAY_EVENTS_COLUMNS = "id, stay_id, kind, at, actor, user_id, token_id, receipt_no, data, prev_hash, row_hash"
ACCESS_LOG_COLUMNS = "id, at, user_id, action, target, reason, ip, prev_hash, row_hash"

FUNCTIONS = r"""
CREATE FUNCTION history_partitions(p_table text) RETURNS TABLE (name text, lo bigint, hi bigint)
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
    SELECT c.relname::text,
           nullif(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \(([^)]+)\)'), 'MINVALUE')::bigint,
           substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(([^)]+)\)')::bigint
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = ('public.' || quote_ident(p_table))::regclass
    ORDER BY 3
$$;

CREATE FUNCTION history_next_id(p_table text) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    seq text := CASE p_table WHEN 'stay_events' THEN 'public.stays_id_seq' ELSE 'public.access_log_id_seq' END;
    nxt bigint;
BEGIN
    EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %s', seq) INTO nxt;
    RETURN nxt;
END $$;

CREATE FUNCTION history_partitions_ensure(p_month date, p_ahead int, p_block bigint) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    t text;
    seq text;
    m date;
    newest date;
    part text;
    hi bigint;
    nxt bigint;
    cur_lo bigint;
BEGIN
    IF p_ahead NOT BETWEEN 0 AND 12 OR p_block NOT BETWEEN 1000 AND 100000000 THEN
        RAISE EXCEPTION 'history partitions: 0 to 12 months ahead, blocks of 1,000 to 100,000,000 ids';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('asm.history_partitions'));
    FOREACH t IN ARRAY ARRAY['stay_events', 'access_log'] LOOP
        seq := CASE t WHEN 'stay_events' THEN 'public.stays_id_seq' ELSE 'public.access_log_id_seq' END;
        nxt := history_next_id(t);
        SELECT max(p.hi) INTO hi FROM history_partitions(t) p;
        IF hi IS NULL THEN  -- everything before the first month
            part := t || '_p000000';
            EXECUTE format('CREATE TABLE history.%I PARTITION OF public.%I FOR VALUES FROM (MINVALUE) TO (%s)',
                           part, t, nxt);
            hi := nxt;
            RETURN NEXT part;
        END IF;
        SELECT max(to_date(substring(p.name FROM '_p(\d{6})$'), 'YYYYMM')) INTO newest
        FROM history_partitions(t) p WHERE p.name ~ '_p\d{6}$' AND p.name !~ '_p000000$';
        FOR i IN 0..p_ahead LOOP
            m := (date_trunc('month', p_month) + make_interval(months => i))::date;
            IF newest IS NULL OR m > newest THEN
                part := t || '_p' || to_char(m, 'YYYYMM');
                EXECUTE format('CREATE TABLE history.%I PARTITION OF public.%I FOR VALUES FROM (%s) TO (%s)',
                               part, t, hi, greatest(hi, nxt) + p_block);
                hi := greatest(hi, nxt) + p_block;
                newest := m;
                RETURN NEXT part;
            END IF;
        END LOOP;
        -- A month begins: its stays (its access-log lines) start its block. The sequence never goes back.
        SELECT p.lo INTO cur_lo FROM history_partitions(t) p WHERE p.name = t || '_p' || to_char(p_month, 'YYYYMM');
        IF cur_lo IS NOT NULL AND nxt < cur_lo THEN
            PERFORM setval(seq, cur_lo, false);
            nxt := cur_lo;
        END IF;
        -- Never run out: at least half a block above the next id, else the next month's block now.
        WHILE nxt + p_block / 2 >= hi LOOP
            newest := (coalesce(newest, date_trunc('month', p_month)::date) + interval '1 month')::date;
            part := t || '_p' || to_char(newest, 'YYYYMM');
            EXECUTE format('CREATE TABLE history.%I PARTITION OF public.%I FOR VALUES FROM (%s) TO (%s)',
                           part, t, hi, hi + p_block);
            hi := hi + p_block;
            RETURN NEXT part;
        END LOOP;
    END LOOP;
END $$;

CREATE FUNCTION history_partition_drop(p_name text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    t text;
    part_hi bigint;
    n bigint;
BEGIN
    IF current_setting('asm.purge', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'history partitions are dropped by the retention purge only';
    END IF;
    SELECT v.t, p.hi INTO t, part_hi
    FROM unnest(ARRAY['stay_events', 'access_log']) AS v(t), history_partitions(v.t) p WHERE p.name = p_name;
    IF t IS NULL THEN
        RAISE EXCEPTION 'not a partition of the history: %', p_name;
    END IF;
    IF part_hi > history_next_id(t) THEN
        RAISE EXCEPTION 'partition % is still written to', p_name;
    END IF;
    EXECUTE format('SELECT count(*) FROM history.%I', p_name) INTO n;
    EXECUTE format('DROP TABLE history.%I', p_name);
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION history_next_id(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION history_partitions_ensure(date, int, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION history_partition_drop(text) FROM PUBLIC;
"""

DROP_FUNCTIONS = (
    "DROP FUNCTION IF EXISTS history_partition_drop(text)",
    "DROP FUNCTION IF EXISTS history_partitions_ensure(date, int, bigint)",
    "DROP FUNCTION IF EXISTS history_next_id(text)",
    "DROP FUNCTION IF EXISTS history_partitions(text)",
)


def _create_stay_events(partitioned):
    tail = " PARTITION BY RANGE (stay_id)" if partitioned else ""
    key = "id, stay_id" if partitioned else "id"
    unique = "receipt_no, stay_id"
    op.execute(
        "CREATE TABLE stay_events ("
        " id integer NOT NULL DEFAULT nextval('stay_events_id_seq'::regclass),"
        " stay_id integer NOT NULL, kind varchar(20) NOT NULL, at timestamptz NOT NULL,"
        " actor varchar(120) NOT NULL, user_id integer, token_id integer, receipt_no varchar(40),"
        " data json NOT NULL, prev_hash varchar(64) NOT NULL, row_hash varchar(64) NOT NULL,"
        f" CONSTRAINT pk_stay_events PRIMARY KEY ({key}),"
        f" CONSTRAINT uq_stay_events_receipt_no_stay_id UNIQUE ({unique}),"
        " CONSTRAINT fk_stay_events_stay_id_stays FOREIGN KEY (stay_id) REFERENCES stays (id),"
        " CONSTRAINT fk_stay_events_token_id_api_tokens FOREIGN KEY (token_id) REFERENCES api_tokens (id),"
        " CONSTRAINT fk_stay_events_user_id_users FOREIGN KEY (user_id) REFERENCES users (id)"
        f"){tail}"
    )
    op.execute("CREATE INDEX ix_stay_events_stay_id ON stay_events (stay_id)")


def _create_access_log(partitioned):
    tail = " PARTITION BY RANGE (id)" if partitioned else ""
    op.execute(
        "CREATE TABLE access_log ("
        " id integer NOT NULL DEFAULT nextval('access_log_id_seq'::regclass),"
        " at timestamptz NOT NULL, user_id integer, action varchar(40) NOT NULL, target varchar(120) NOT NULL,"
        " reason varchar(255), ip varchar(45), prev_hash varchar(64) NOT NULL, row_hash varchar(64) NOT NULL,"
        " CONSTRAINT pk_access_log PRIMARY KEY (id),"
        " CONSTRAINT fk_access_log_user_id_users FOREIGN KEY (user_id) REFERENCES users (id)"
        f"){tail}"
    )
    op.execute("CREATE INDEX ix_access_log_at ON access_log (at)")
    op.execute("CREATE INDEX ix_access_log_user_id ON access_log (user_id)")


CREATE = {"stay_events": _create_stay_events, "access_log": _create_access_log}
COLUMNS = {"stay_events": STAY_EVENTS_COLUMNS, "access_log": ACCESS_LOG_COLUMNS}
# The month of each stored row's id: the stays' creation for the history, the line's time for the access log.
MONTHS = {
    "stay_events": "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYYMM') AS m, min(id) FROM stays GROUP BY 1 ORDER BY 1",
    "access_log": "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYYMM') AS m, min(id) FROM access_log GROUP BY 1 ORDER BY 1",
}


def _move_aside(table):
    """The table as it was, renamed, without the names the new one takes (constraints, indexes, triggers)."""
    bind = op.get_bind()
    for (trigger,) in bind.execute(
        sa.text("SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"),
        {"t": table},
    ):
        op.execute(f'DROP TRIGGER "{trigger}" ON {table}')
    for (constraint,) in bind.execute(
        sa.text("SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) AND conparentid = 0"),
        {"t": table},
    ):
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
    for (index,) in bind.execute(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": table}):
        op.execute(f'DROP INDEX "{index}"')
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_old")


def _triggers(table):
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    )


def _month_partitions(table, current):
    """One partition per month of the rows already stored (from the first id of that month to the next's)."""
    bind = op.get_bind()
    next_id = bind.execute(sa.text("SELECT history_next_id(:t)"), {"t": table}).scalar()
    starts = []
    for month, low in bind.execute(sa.text(MONTHS[table])):
        month = min(month, current)
        if starts and (month == starts[-1][0] or low <= starts[-1][1]):
            continue
        starts.append((month, low))
    for i, (month, low) in enumerate(starts):
        lower = "MINVALUE" if i == 0 else low
        upper = starts[i + 1][1] if i + 1 < len(starts) else next_id + (FIRST_BLOCK if month == current else 0)
        op.execute(
            f"CREATE TABLE {SCHEMA}.{table}_p{month} PARTITION OF {table} FOR VALUES FROM ({lower}) TO ({upper})"
        )


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:  # the police morning digest, opted in
        batch_op.add_column(sa.Column("police_digest", sa.Boolean(), server_default=sa.false(), nullable=False))
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        _sqlite_receipt_per_stay(upgrade=True)
        return
    if not bind.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": SCHEMA}).first():
        op.execute(f"CREATE SCHEMA {SCHEMA}")  # left by a downgrade: the owner may not create schemas
    bind.connection.driver_connection.execute(FUNCTIONS)  # plpgsql: sent as is, no placeholders
    current = bind.execute(sa.text("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')")).scalar()
    for table in ("stay_events", "access_log"):
        _move_aside(table)
        CREATE[table](partitioned=True)
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
        _month_partitions(table, current)
    bind.execute(sa.text("SELECT history_partitions_ensure(CAST(now() AS date), 2, :b)"), {"b": FIRST_BLOCK}).all()
    for table in ("stay_events", "access_log"):
        op.execute(f"INSERT INTO {table} ({COLUMNS[table]}) SELECT {COLUMNS[table]} FROM {table}_old")
        op.execute(f"DROP TABLE {table}_old")
        _triggers(table)


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("police_digest")
    if op.get_bind().dialect.name != "postgresql":
        _sqlite_receipt_per_stay(upgrade=False)
        return
    for table in ("stay_events", "access_log"):
        _move_aside(table)
        CREATE[table](partitioned=False)
        op.execute(f"INSERT INTO {table} ({COLUMNS[table]}) SELECT {COLUMNS[table]} FROM {table}_old")
        op.execute(f"DROP TABLE {table}_old")  # its partitions go with it
        op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
        _triggers(table)
    op.execute("ALTER TABLE stay_events DROP CONSTRAINT uq_stay_events_receipt_no_stay_id")
    op.execute("ALTER TABLE stay_events ADD CONSTRAINT uq_stay_events_receipt_no UNIQUE (receipt_no)")
    for statement in DROP_FUNCTIONS:
        op.execute(statement)
    # The schema `history` stays, empty: the owner role could not make it again (no CREATE on the database).


def _sqlite_receipt_per_stay(upgrade):
    """SQLite rebuilds the table for a constraint change: its append-only triggers go and are made again."""
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS stay_events_no_{verb}")
    with op.batch_alter_table("stay_events", schema=None) as batch_op:
        if upgrade:
            batch_op.drop_constraint("uq_stay_events_receipt_no", type_="unique")
            batch_op.create_unique_constraint("uq_stay_events_receipt_no_stay_id", ["receipt_no", "stay_id"])
        else:
            batch_op.drop_constraint("uq_stay_events_receipt_no_stay_id", type_="unique")
            batch_op.create_unique_constraint("uq_stay_events_receipt_no", ["receipt_no"])
    op.execute(
        "CREATE TRIGGER stay_events_no_update BEFORE UPDATE ON stay_events "
        "BEGIN SELECT RAISE(ABORT, 'stay_events is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER stay_events_no_delete BEFORE DELETE ON stay_events "
        "WHEN NOT EXISTS (SELECT 1 FROM purge_mode) "
        "BEGIN SELECT RAISE(ABORT, 'stay_events is append-only'); END"
    )
