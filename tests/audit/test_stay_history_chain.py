"""The stay history is hash-chained per stay (issue 11.5): both writers of the filing core seal every line, a
stay's lines link in order, and `flask audit verify` finds a line edited or removed behind the app's back (as the
database superuser, past the append-only triggers). On PostgreSQL the API's one-statement writer seals too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from asm.audit.chains import CHAINS, verify
from asm.clock import utcnow
from asm.common import Actor
from asm.extensions import db
from asm.filing import sql as sql_writer
from asm.stays import services
from asm.stays.models import STAY_EVENTS_CHAIN, StayEvent
from tests.conftest import BYPASS_APPEND_ONLY, CARD, PG_URL, Factory
from tests.support.police import guest


def file_and_change(factory: Factory, client: FlaskClient) -> list[int]:
    """A group at the desk's service, a check-out and an extension; a guest through the API (SQL on PostgreSQL)."""
    est = factory.establishment()
    now = utcnow()
    data = services.CheckInInput(
        guests=[guest("Lê Văn An"), guest("Lê Thị Bình", sex="F")],
        arrived_at=now - timedelta(hours=2),
        reason="Du lịch",
    )
    first, second = services.check_in(est, data, actor=Actor.system("test"), now=now).stays
    services.extend(first, until=(now + timedelta(days=3)).date(), actor=Actor.system("test"), now=now)
    services.check_out(second, at=now, actor=Actor.system("test"), now=now)
    db.session.commit()
    secret = factory.token(est)
    answer = client.post(
        "/api/v1/stays",
        json={"guests": [{"qr": CARD}], "reason": "Công tác"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.status_code == 201, answer.get_json()
    return [first.id, second.id, answer.get_json()["stays"][0]["id"]]


def result() -> Any:
    db.session.remove()
    with db.engine.connect() as connection:
        return verify(connection, STAY_EVENTS_CHAIN)


def test_every_line_is_sealed_and_linked(
    app: Flask, client: FlaskClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[bool] = []
    real = sql_writer.write_one

    def spy(*args: Any, **kwargs: Any) -> Any:
        answer = real(*args, **kwargs)
        taken.append(answer is not None)
        return answer

    monkeypatch.setattr(sql_writer, "write_one", spy)
    ids = file_and_change(factory, client)
    assert taken == ([True] if PG_URL else [])
    assert "stay_events" in CHAINS
    outcome = result()
    assert outcome.broken is None and outcome.rows == 5  # 2 check-ins, an extension, a check-out, the API's check-in
    lines = db.session.scalars(select(StayEvent).where(StayEvent.stay_id == ids[0]).order_by(StayEvent.id)).all()
    assert lines[0].prev_hash == "0" * 64 and lines[1].prev_hash == lines[0].row_hash


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE stay_events SET actor = 'someone else' WHERE id = 3",
        "DELETE FROM stay_events WHERE id = 1",
        "UPDATE stay_events SET stay_id = (SELECT max(stay_id) FROM stay_events) WHERE id = 3",
    ],
    ids=["edited", "removed", "moved to another stay"],
)
def test_audit_verify_finds_a_line_changed_behind_the_apps_back(
    app: Flask, client: FlaskClient, factory: Factory, tamper: str
) -> None:
    file_and_change(factory, client)
    assert result().broken is None
    db.session.remove()
    with db.engine.begin() as connection:  # as the superuser, past the append-only triggers
        if PG_URL:
            connection.execute(text(BYPASS_APPEND_ONLY))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS stay_events_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS stay_events_no_delete"))
        connection.execute(text(tamper))
    runner = app.test_cli_runner()
    out = runner.invoke(args=["audit", "verify", "--chain", "stay_events"])
    assert out.exit_code == 1
    assert "BROKEN stay_events" in out.output
