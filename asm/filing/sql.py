"""The one-statement writer: a plan of one guest filed now, written on PostgreSQL in one round trip.

This is the filing core's second writer (asm/filing/writer.py is the first), for the API's most common call
(hotel software filing one guest now), written for speed (docs/PERFORMANCE.md): the set-based writer costs
several round trips and about 5 ms of Python per filing, this one a fifth of that. The plan comes from the same
rules (`Filing.arrive` with `optimistic=True`: validation, deadline, receipt, history data); what the rules would
have read of the database is checked by the statement itself:

- the API token the request came with (still live, its establishment active, approved and in the same commune:
  the request may have been let in on an identity the worker remembered, asm/api/auth.py);
- the room (when one is named: an active room of this establishment) and the guest's open stays at other
  establishments, for the warnings (when there are some, the statement is sent again with the text of the warning
  in the request's language: looking up the language and its catalogue is 7 % of a filing); the open stays are
  read by the person's id, found first, so that no planner's statistics can make it walk every open stay
  (migration 0018; a test plans it with stale statistics);
- it inserts the idempotency record with its answer, first: a concurrent retry waits on its unique index and
  then fails without writing anything;
- it inserts or brings up to date the person (the columns `Filing.person` would change), inserts the stay and its
  check-in event with the receipt, and the police alerts of the watch list (the rule of asm/police/watch.py,
  `SCOPE`, the same text both writers use).

Only the plain success of a citizen is written here. Anything else (a foreign national, whose stay also plans
the foreigners' declaration: `applies` and `write_one` both decline it; a bad field, an unknown or closed room,
a guest already in house here, a known key, a lost race, a plan with warnings of its own) returns None with
nothing stored, and the caller writes the plan through the set-based writer, which gives the answer it always
gave.
`tests/filing/test_parity.py` files the same requests through both and compares the answers and the rows.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import psycopg

from asm.api.idempotency import Claim
from asm.api.serialize import person_payload, stay_payload
from asm.audit.chain import GENESIS, canonical
from asm.common import Actor, ValidationError
from asm.establishments.models import Status
from asm.filing.core import CheckInInput, Filing, Place, elsewhere_warning
from asm.filing.plan import PERSON_OPTIONAL, PersonRow, Plan
from asm.police.watch import SCOPE
from asm.rawdb import RawConnection
from asm.stays.models import STAY_EVENTS_CHAIN, Source
from asm.stays.rules import notice_state
from asm.text import search_key

STAY_ID = "@stay_id@"  # hold the places of the stay's id and of the warnings in the answer until the database
WARNINGS = "@warnings@"  # has them; json.dumps writes each as one quoted string

_CLAIM = """
claim AS (
    INSERT INTO idempotency_records (scope, key, request_hash, status_code, response, created_at)
    SELECT %(scope)s, %(key)s, %(request_hash)s, 201,
           %(answer_head)s::text || ids.stay_id || %(answer_middle)s::text || elsewhere.warnings::text
           || %(answer_tail)s::text,
           %(now)s
    FROM ids, room, elsewhere
    RETURNING id
),"""

_WRITE = """
WITH ids AS (SELECT nextval('stays_id_seq') AS stay_id),
elsewhere AS (
    SELECT count(*) AS n,
           COALESCE(json_agg(format(%(warning)s::text, e.name) ORDER BY s.id), '[]'::json) AS warnings
    FROM stays s JOIN establishments e ON e.id = s.establishment_id
    WHERE s.person_id = (SELECT id FROM people WHERE doc_type = %(doc_type)s::varchar
                         AND doc_number = %(doc_number)s::varchar AND nationality = %(nationality)s::varchar)
      AND s.status IN ('draft', 'in_house') AND s.establishment_id <> %(establishment_id)s::integer
),
room AS (
    SELECT found.id FROM (
        SELECT (SELECT id FROM rooms
                WHERE establishment_id = %(establishment_id)s::integer AND name = %(room)s::varchar AND active) AS id
    ) AS found, elsewhere
    WHERE (%(room)s::varchar IS NULL OR found.id IS NOT NULL) AND (elsewhere.n = 0 OR %(warning)s::text IS NOT NULL)
      AND (%(token_id)s::int IS NULL OR EXISTS (
           SELECT FROM api_tokens t JOIN establishments e ON e.id = t.establishment_id
           WHERE t.id = %(token_id)s::int AND t.revoked_at IS NULL AND e.id = %(establishment_id)s::int AND e.active
             AND e.status = %(approved)s AND e.commune_code = %(commune_code)s))
),{claim}
person AS (
    INSERT INTO people AS p (doc_type, doc_number, nationality, full_name, search_key, birth_date, sex, address,
                             old_id_number, id_issue_date, card_extra, created_at, updated_at)
    SELECT %(doc_type)s::varchar, %(doc_number)s::varchar, %(nationality)s::varchar, %(full_name)s, %(search_key)s,
           %(birth_date)s, %(sex)s, %(address)s, %(old_id_number)s, %(id_issue_date)s, %(card_extra)s::json,
           %(now)s, %(now)s
    FROM ids, room{after_claim}
    ON CONFLICT (doc_type, doc_number, nationality) DO UPDATE SET
        full_name = EXCLUDED.full_name,
        search_key = EXCLUDED.search_key,
        birth_date = EXCLUDED.birth_date,
        sex = EXCLUDED.sex,
        address = COALESCE(EXCLUDED.address, p.address),
        old_id_number = COALESCE(EXCLUDED.old_id_number, p.old_id_number),
        id_issue_date = COALESCE(EXCLUDED.id_issue_date, p.id_issue_date),
        card_extra = COALESCE(EXCLUDED.card_extra, p.card_extra),
        updated_at = CASE WHEN (EXCLUDED.full_name, EXCLUDED.birth_date, EXCLUDED.sex,
                                COALESCE(EXCLUDED.address, p.address),
                                COALESCE(EXCLUDED.old_id_number, p.old_id_number),
                                COALESCE(EXCLUDED.id_issue_date, p.id_issue_date),
                                COALESCE(EXCLUDED.card_extra, p.card_extra)::jsonb)
                               IS DISTINCT FROM (p.full_name, p.birth_date, p.sex, p.address, p.old_id_number,
                                                 p.id_issue_date, p.card_extra::jsonb)
                          THEN EXCLUDED.updated_at ELSE p.updated_at END
    RETURNING id, doc_number, old_id_number
),
stay AS (
    INSERT INTO stays (id, establishment_id, person_id, room_id, head_id, status, source, reason, arrived_at,
                       expected_departure, deadline_at, filed_at, receipt_no, created_at, role)
    SELECT ids.stay_id, %(establishment_id)s::integer, person.id, room.id, NULL, %(status)s, %(source)s,
           %(reason)s, %(arrived_at)s, %(expected_departure)s, %(deadline_at)s, %(now)s,
           %(receipt_no)s::varchar, %(now)s, %(role)s
    FROM ids, room, person
    RETURNING id
),
event AS (
    INSERT INTO stay_events (stay_id, kind, at, actor, user_id, token_id, receipt_no, data, prev_hash, row_hash)
    SELECT stay.id, %(kind)s, %(now)s, %(actor)s, %(user_id)s, %(token_id)s, %(receipt_no)s::varchar,
           %(event_data)s::json, %(genesis)s::varchar,
           encode(sha256(convert_to(%(chain_head)s::text || stay.id::text || %(chain_tail)s::text, 'UTF8')), 'hex')
    FROM stay
    RETURNING id
),
alert AS (
    INSERT INTO police_alerts (watch_entry_id, stay_id, commune_code, state, created_at)
    SELECT w.id, stay.id, %(commune_code)s::varchar, 'new', %(now)s
    FROM stay, person, watch_entries w
    WHERE w.doc_number IN (upper(person.doc_number), upper(person.old_id_number)) AND {scope}
    RETURNING id
)
SELECT stay.id, elsewhere.warnings::text
FROM stay, elsewhere
"""

# As the ORM, a person's updated_at changes only when a value really does (the CASE above: the values the SET
# gives, compared with the row's). The statements are sent on one line: psycopg caches its parse of statements up
# to 4,096 characters (`MAX_CACHED_STATEMENT_LENGTH`, tested), and parsing this one again for every filing cost a
# fifth of the filing's Python time.
_SCOPE = SCOPE.format(commune="%(commune_code)s::varchar")


def one_line(sql: str) -> str:
    """`sql` on one line, without the spaces around brackets, commas and equal signs (its literals hold none)."""
    return re.sub(r" ?([(),=]) ?", r"\1", " ".join(sql.split()))


WRITE_SQL = one_line(_WRITE.format(claim=_CLAIM, after_claim=" LEFT JOIN claim ON true", scope=_SCOPE))
WRITE_SQL_NO_KEY = one_line(_WRITE.format(claim="", after_claim="", scope=_SCOPE))


def applies(dialect: str, data: CheckInInput) -> bool:
    """PostgreSQL, one guest, a citizen, filed now: every other plan goes to the set-based writer (a foreign
    national's stay plans a row of `foreign_stays` too, which this statement does not write)."""
    return (
        dialect == "postgresql"
        and len(data.guests) == 1
        and data.file_now
        and (data.guests[0].nationality or "VNM").strip().upper() == "VNM"
    )


def file_one(
    conn: RawConnection,
    data: CheckInInput,
    *,
    place: Place,
    claim: Claim | None,
    actor: Actor,
    now: datetime,
) -> str | None:
    """Plan `data` (one guest) with the core's rules and write it; the JSON answer, or None: nothing was stored,
    write it with the set-based writer instead."""
    try:
        filing = Filing(place, actor=actor, now=now, source=Source.API, optimistic=True)
        filing.arrive(data)
    except ValidationError:
        return None
    return write_one(conn, filing.plan, claim=claim)


def write_one(conn: RawConnection, plan: Plan, *, claim: Claim | None) -> str | None:
    if len(plan.stays) != 1 or plan.warnings or len(plan.events) != 1 or not plan.filed or plan.linked:
        return None  # linked rows (a foreign national's declaration): the set-based writer's
    [person] = plan.people
    [stay] = plan.stays
    [event] = plan.events
    payload = {
        "stays": [
            stay_payload(
                id=STAY_ID,
                status=stay.status,
                notice_state=notice_state(stay.deadline_at, stay.filed_at, plan.now),
                receipt_no=stay.receipt_no,
                head_id=None,
                room=stay.room_name,
                reason=stay.reason,
                arrived_at=stay.arrived_at,
                expected_departure=stay.expected_departure,
                departed_at=None,
                deadline_at=stay.deadline_at,
                filed_at=stay.filed_at,
                person=person_payload(person.full_name, *person.key, person.values["birth_date"]),
            )
        ],
        "warnings": WARNINGS,
    }
    answer_head, _, rest = json.dumps(payload, ensure_ascii=False).partition(json.dumps(STAY_ID))
    answer_middle, _, answer_tail = rest.partition(json.dumps(WARNINGS))
    params = (
        person_params(person)
        | {
            "now": plan.now,
            "establishment_id": plan.establishment_id,
            "commune_code": plan.commune_code,
            "room": stay.room_name,
            "warning": None,  # translated only when needed, below
            "status": stay.status,
            "source": stay.source,
            "role": stay.role,
            "reason": stay.reason,
            "arrived_at": stay.arrived_at,
            "expected_departure": stay.expected_departure,
            "deadline_at": stay.deadline_at,
            "receipt_no": stay.receipt_no,
            "kind": event.kind,
            "actor": event.actor,
            "user_id": event.user_id,
            "token_id": event.token_id,
            "approved": Status.APPROVED.value,
            "event_data": json.dumps(event.data),
        }
        | chain_params(event.columns() | {"stay_id": CHAIN_STAY_ID})
    )
    if claim is not None:
        params |= {"scope": claim.scope, "key": claim.key, "request_hash": claim.request_hash}
        params |= {"answer_head": answer_head, "answer_middle": answer_middle, "answer_tail": answer_tail}
    sql = WRITE_SQL if claim else WRITE_SQL_NO_KEY
    try:
        row = conn.fetch_one(sql, params)
        if row is None:
            # Nothing written: the guest is in house elsewhere (the warning needs its text), or the room is wrong.
            row = conn.fetch_one(sql, params | {"warning": warning_format(person.full_name)})
    except psycopg.errors.UniqueViolation:
        return None  # the key is known, the guest is in house here, or a race: the set-based writer answers
    if row is None:
        return None  # no such room here: nothing was written
    stay_id, warnings = row[0], row[1]
    return f"{answer_head}{stay_id}{answer_middle}{warnings}{answer_tail}"


CHAIN_STAY_ID = 1_234_567_890_123  # a stand-in for the stay's id in the canonical form: digits found once


def chain_params(fields: dict[str, Any]) -> dict[str, str]:
    """The new stay's first history line sealed in SQL: the hashed text (GENESIS, a newline, the canonical form
    of asm/audit/chain.py) cut where the stay's id goes, which only the statement knows."""
    body = canonical(STAY_EVENTS_CHAIN.fields_of(fields)).decode()
    head, found, tail = body.partition(f'"stay_id":{CHAIN_STAY_ID}')
    assert found, "the stay's id is a key of the chained fields"
    return {"genesis": GENESIS, "chain_head": f'{GENESIS}\n{head}"stay_id":', "chain_tail": tail}


def warning_format(name: str) -> str:
    """`elsewhere_warning` for this guest as a format() string of PostgreSQL, the establishment left as %s."""
    message = elsewhere_warning("\x01", "\x02").replace("%", "%%")
    return message.replace("\x01", name.replace("%", "%%")).replace("\x02", "%s")


def person_params(person: PersonRow) -> dict[str, Any]:
    """What `Filing.person` sets of a person: the optional fields only when given."""
    values = person.values
    params = {
        "doc_type": person.key[0],
        "doc_number": person.key[1],
        "nationality": person.key[2],
        "full_name": values["full_name"],
        "search_key": search_key(values["full_name"]),
        "birth_date": values["birth_date"],
        "sex": values["sex"],
    }
    for name in PERSON_OPTIONAL:
        params[name] = values.get(name) or None
    params["card_extra"] = json.dumps(params["card_extra"]) if params["card_extra"] else None
    return params
