"""A data-subject request: `flask people export --doc N` gives the person's stays, their history and who looked
at them (JSON on standard output, or JSON and PDF in a folder), and the request is itself logged."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from asm.accounts.models import AccessLog, Role
from asm.clock import utcnow
from asm.extensions import db
from tests.conftest import Factory
from tests.support.desk import client_as
from tests.support.police import file_stay, guest


def test_export_names_stays_history_and_who_looked_and_is_logged(app: Flask, factory: Factory, tmp_path: Path) -> None:
    est = factory.establishment(code="EST-S")
    person = guest("Phạm Thị Thu Hường", sex="F")
    (stay,) = file_stay(est, [person], arrived=utcnow() - timedelta(hours=1), filed=utcnow() - timedelta(hours=1))
    officer = factory.user(Role.OFFICER, commune="00004")
    assert client_as(app, officer).get(f"/co-so/EST-S/luu-tru/{stay.id}").status_code == 200

    runner = app.test_cli_runner()
    result = runner.invoke(args=["people", "export", "--doc", person.doc_number])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (who,) = data["people"]
    assert who["identity"]["full_name"] == "Phạm Thị Thu Hường"
    assert [s["id"] for s in who["stays"]] == [stay.id] and who["stays"][0]["history"]
    assert [(look["who"], look["action"]) for look in who["looked_at_by"]] == [(officer.username, "stay")]

    result = runner.invoke(args=["people", "export", "--doc", person.doc_number, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = subprocess.run(
        ["pdftotext", str(tmp_path / f"{person.doc_number}.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Phạm Thị Thu Hường" in text and officer.username in text
    logged = db.session.scalars(select(AccessLog).where(AccessLog.action == "subject_export")).all()
    assert [line.target for line in logged] == [person.doc_number] * 2
    assert runner.invoke(args=["people", "export", "--doc", "000000000000"]).exit_code == 1
