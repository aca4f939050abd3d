"""`flask police assign`: the same rule as the admin page."""

from __future__ import annotations

from flask import Flask

from asm.accounts.models import Role, User
from asm.extensions import db
from tests.conftest import Factory


def test_assign_moves_an_officer_and_refuses_nonsense(app: Flask, factory: Factory) -> None:
    officer = factory.user(Role.OFFICER, commune="00004", username="canbo.a")
    clerk = factory.user(Role.CLERK, establishment=factory.establishment(), username="letan.a")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["police", "assign", "canbo.a", "--commune", "00070"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, officer.id).commune_code == "00070"
    for args in (
        ["canbo.a", "--commune", "99999"],
        ["letan.a", "--commune", "00070"],
        ["nobody", "--commune", "00070"],
    ):
        result = runner.invoke(args=["police", "assign", *args])
        assert result.exit_code != 0
    db.session.expire_all()
    assert db.session.get(User, officer.id).commune_code == "00070"
    assert db.session.get(User, clerk.id).commune_code is None
