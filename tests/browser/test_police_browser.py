"""A police supervisor's dashboard in a real headless Chromium, under the site's Content-Security-Policy: choosing a
ward in the select applies it at once (app.js, no inline handler), and the figures follow the ward."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.browser.test_checkin_browser import log_in
from tests.conftest import Factory
from tests.support.police import WARD_O, PoliceWorld

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect
Page = sync_api.Page

pytestmark = pytest.mark.browser


def test_a_supervisor_narrows_the_dashboard_to_one_ward(app: Flask, factory: Factory, page: Page) -> None:
    world = PoliceWorld(app, factory)
    supervisor = world.user("supervisor_a")

    log_in(page, supervisor.username)
    response = page.goto("/cong-an/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    in_house = page.locator(".figure.big .n")
    # The province: ward A's three filed guests in house (Hoa, Kim Min Jun, the one past departure) and ward O's one.
    expect(in_house).to_have_text("4")

    page.get_by_label("Xã/phường").select_option(WARD_O)

    page.wait_for_url(f"**/cong-an/?xa={WARD_O}")
    expect(page.get_by_label("Xã/phường")).to_have_value(WARD_O)
    expect(in_house).to_have_text("1")
