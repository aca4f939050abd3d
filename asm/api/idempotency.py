"""Idempotency-Key: the first answer is stored in the same transaction as the write, and replayed to retries.

Concurrent requests with one key race on a unique index: the first inserts its record and files; the others wait
on the index until it commits, then fail to insert, read the stored answer and return it. Nothing is filed twice.
Failed requests (4xx) store nothing: their transaction is rolled back, so the client may fix and retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
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


def request_fingerprint() -> str:
    body = request.get_data(cache=True)
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()


def error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(error={"code": code, "message": message}), status


def idempotent(scope: Callable[[], str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a JSON POST view returning (payload, status). `scope` names whose keys these are."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(HEADER)
            if key is None:
                return finish(*view(*args, **kwargs))
            key = key.strip()
            if not key or len(key) > MAX_KEY:
                return error(400, "idempotency_key_invalid", f"{HEADER} must be 1-{MAX_KEY} characters")
            fingerprint = request_fingerprint()
            # Plain INSERT and UPDATE statements, not ORM objects: two fewer unit-of-work flushes per request.
            try:
                record_id = db.session.scalar(
                    insert(IdempotencyRecord)
                    .values(scope=scope(), key=key, request_hash=fingerprint)
                    .returning(IdempotencyRecord.id)
                )
            except IntegrityError:
                db.session.rollback()
                return replay(scope(), key, fingerprint)
            payload, status = view(*args, **kwargs)
            if 200 <= status < 300:
                db.session.execute(
                    update(IdempotencyRecord)
                    .where(IdempotencyRecord.id == record_id)
                    .values(status_code=status, response=json.dumps(payload, ensure_ascii=False))
                    .execution_options(synchronize_session=False)
                )
            return finish(payload, status)

        return wrapper

    return decorate


def replay(scope: str, key: str, fingerprint: str) -> Any:
    record = db.session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )
    if record is None or record.status_code is None:  # the first request failed and rolled back meanwhile
        return error(409, "idempotency_in_progress", "A request with this key is still in progress; retry")
    if record.request_hash != fingerprint:
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
