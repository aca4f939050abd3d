"""Idempotency-Key: the first answer is stored in the same transaction as the write, and replayed to retries.

Concurrent requests with one key race on a unique index: the first inserts its record and files; the others wait
on the index until it commits, then fail to insert, read the stored answer and return it. Nothing is filed twice.
Failed requests (4xx) store nothing: their transaction is rolled back, so the client may fix and retry.

`run` does this through the ORM session for any view. The API's one-statement filing on PostgreSQL
(`asm.filing.sql`) inserts the record, with its answer, inside its own statement, on the same unique index.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import jsonify, request
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from asm.extensions import db
from asm.stays.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY = 100
KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY}}}")  # visible ASCII, as the OpenAPI document says


def request_fingerprint() -> str:
    body = request.get_data(cache=True)
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()


def error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), status


@dataclass(frozen=True, slots=True)
class Claim:
    """A request's Idempotency-Key, with whose keys these are and what the request said."""

    scope: str
    key: str
    request_hash: str


def claim_of_request(scope: str) -> Claim | None:
    """The request's claim, or None without the header. Raises `BadKey` for an empty or too long one."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not KEY.fullmatch(key):
        raise BadKey
    return Claim(scope, key, request_fingerprint())


class BadKey(Exception):
    def answer(self) -> tuple[Response, int]:
        return error(400, "idempotency_key_invalid", f"{HEADER} must be 1-{MAX_KEY} visible ASCII characters")


def run(claim: Claim | None, view: Callable[[], tuple[Any, int]]) -> Any:
    """Run a view returning (payload, status) once per claim, through the ORM session, and commit."""
    if claim is None:
        return finish(*view())
    # Plain INSERT and UPDATE statements, not ORM objects: two fewer unit-of-work flushes per request.
    try:
        record_id = db.session.scalar(
            insert(IdempotencyRecord)
            .values(scope=claim.scope, key=claim.key, request_hash=claim.request_hash)
            .returning(IdempotencyRecord.id)
        )
    except IntegrityError:
        db.session.rollback()
        return replay(claim)
    payload, status = view()
    if 200 <= status < 300:
        db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == record_id)
            .values(status_code=status, response=json.dumps(payload, ensure_ascii=False))
            .execution_options(synchronize_session=False)
        )
    return finish(payload, status)


def idempotent(scope: Callable[[], str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a JSON POST view returning (payload, status). `scope` names whose keys these are."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                claim = claim_of_request(scope())
            except BadKey as exc:
                return exc.answer()
            return run(claim, lambda: view(*args, **kwargs))

        return wrapper

    return decorate


def replay(claim: Claim) -> Any:
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == claim.scope, IdempotencyRecord.key == claim.key)
    )
    if record is None or record.status_code is None:  # the first request failed and rolled back meanwhile
        return error(409, "idempotency_in_progress", "A request with this key is still in progress; retry")
    if record.request_hash != claim.request_hash:
        return error(422, "idempotency_key_reused", f"This {HEADER} was used for a different request")
    response = Response(record.response, status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def finish(payload: Any, status: int) -> tuple[Response, int]:
    """One commit per request: the write and its stored answer together, or nothing."""
    if 200 <= status < 300:
        db.session.commit()
    else:
        db.session.rollback()
    return jsonify(payload), status
