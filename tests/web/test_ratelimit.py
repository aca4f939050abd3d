"""Rate limits (asm/ratelimit.py): the fixed-window counting on its own, counts shared through Redis between two
workers, and the kiosk's limits as a kiosk meets them (pairing guesses per address, reads per device)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time

from asm import create_app
from asm.clock import utcnow
from asm.config import Test
from asm.ratelimit import LocalWindows, SharedWindows, parse_limit
from tests.conftest import CARD, Factory, post_form, second_app
from tests.support.desk import new_client
from tests.support.kiosk import make_kiosk
from tests.support.live import closed_port

REDIS = "redis://127.0.0.1:6379/0"


def test_a_window_allows_its_amount_then_refuses_until_it_ends() -> None:
    windows, three = LocalWindows(), parse_limit("3 per minute")
    with freeze_time("2026-11-24 08:00:10") as clock:
        counts = [windows.hit(three, "login", "10.0.0.1") for _ in range(4)]
        assert [c.allowed for c in counts] == [True, True, True, False]
        assert [c.remaining for c in counts] == [2, 1, 0, 0]
        assert counts[-1].retry_after() == 60
        assert windows.hit(three, "login", "10.0.0.2").allowed  # another key
        assert windows.hit(three, "scan", "10.0.0.1").allowed  # another view
        clock.tick(timedelta(seconds=59))
        assert not windows.hit(three, "login", "10.0.0.1").allowed
        clock.tick(timedelta(seconds=1))
        assert windows.hit(three, "login", "10.0.0.1").remaining == 2


def test_ended_windows_are_swept_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalWindows, "SWEEP_EVERY", 10)
    windows, one = LocalWindows(), parse_limit("1 per second")
    with freeze_time("2026-11-24 08:00:00") as clock:
        for i in range(9):
            windows.hit(one, "scan", f"k{i}")
        clock.tick(timedelta(seconds=2))
        windows.hit(one, "scan", "k9")  # the tenth window: the nine ended ones go
    assert list(windows.windows) == [("1 per 1 second", "scan", "k9")]


def test_redis_windows_count_like_the_local_ones() -> None:
    windows, three = SharedWindows(REDIS), parse_limit("3 per minute")
    key = uuid.uuid4().hex  # the counts outlive the test in Redis for a minute
    before = int(time.time())
    counts = [windows.hit(three, "login", key) for _ in range(4)]
    assert [c.allowed for c in counts] == [True, True, True, False]
    assert [c.remaining for c in counts] == [2, 1, 0, 0]
    assert before + 58 <= counts[-1].reset_at <= before + 61
    assert windows.hit(three, "login", key + "-other").allowed
    assert windows.hit(three, "scan", key).allowed


def test_large_limits_are_leased_from_redis_and_never_exceeded() -> None:
    workers, limit = [SharedWindows(REDIS), SharedWindows(REDIS)], parse_limit("300 per minute")  # leases of 3
    key = uuid.uuid4().hex
    asks = []
    for worker in workers:
        real = worker.take
        worker.take = lambda *a, real=real, **kw: asks.append(1) or real(*a, **kw)
    allowed = [workers[i % 2].hit(limit, "api", key).allowed for i in range(400)]
    assert 300 - 2 * 3 <= sum(allowed) <= 300  # at most one unspent lease per worker
    assert allowed[-50:] == [False] * 50
    assert len(asks) <= 300 // 3 + 2 + 100  # one ask per lease, plus one per refused hit


def test_without_redis_the_limits_hold_in_each_process(caplog: pytest.LogCaptureFixture) -> None:
    windows = SharedWindows(f"redis://127.0.0.1:{closed_port()}/0")
    allowed = [windows.hit(parse_limit("3 per minute"), "login", "10.0.0.1").allowed for _ in range(4)]
    assert allowed == [True, True, True, False]
    assert "Redis unreachable" in caplog.text


def test_an_unknown_storage_is_refused_at_start(database_url: str) -> None:
    with pytest.raises(ValueError, match="memory:// or a redis:// address"):
        create_app(Test, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI="memcached://127.0.0.1:11211")


@pytest.fixture
def two_workers(app: Flask, database_url: str) -> Iterator[tuple[Flask, Flask]]:
    """Two app instances on one Redis, as two gunicorn workers with REDIS_URL."""
    with (
        second_app(database_url, RATELIMIT_STORAGE_URI=REDIS) as one,
        second_app(database_url, RATELIMIT_STORAGE_URI=REDIS) as other,
    ):
        yield one, other


def from_address(client: FlaskClient, address: str) -> FlaskClient:
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_login_guesses_are_counted_across_workers_through_redis(two_workers: tuple[Flask, Flask]) -> None:
    # A fresh address each run: the counts outlive the test in Redis for a minute.
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    clients = [from_address(each.test_client(), address) for each in two_workers]
    # A name per guess: what is counted here is the address (one account's own back-off: test_login_defence.py).
    guesses = [
        post_form(clients[i % 2], "/dang-nhap", {"username": f"khong.ai.{address}.{i}", "password": "sai"}).status_code
        for i in range(11)
    ]
    assert guesses == [401] * 10 + [429]
    refused = post_form(clients[1], "/dang-nhap", {"username": f"khong.ai.{address}", "password": "sai"})
    assert refused.status_code == 429
    assert "Quá nhiều yêu cầu" in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_pairing_codes_are_guessed_at_most_ten_times_a_minute(app: Flask) -> None:
    with freeze_time(utcnow()) as clock:
        guesser = new_client(app)
        answers = [post_form(guesser, "/kiosk/ghep-noi", {"code": "AAAA-BBBB"}).status_code for _ in range(11)]
        assert answers == [422] * 10 + [429]
        refused = post_form(guesser, "/kiosk/ghep-noi", {"code": "AAAA-BBBB"})
        assert refused.status_code == 429 and "Quá nhiều yêu cầu" in refused.get_data(as_text=True)
        assert post_form(new_client(app), "/kiosk/ghep-noi", {"code": "AAAA-BBBB"}).status_code == 422  # elsewhere
        clock.tick(timedelta(seconds=61))
        assert post_form(guesser, "/kiosk/ghep-noi", {"code": "AAAA-BBBB"}).status_code == 422


def test_each_kiosk_has_its_own_read_limit(app: Flask, factory: Factory) -> None:
    busy, calm = make_kiosk(app, factory), make_kiosk(app, factory, est=factory.establishment(code="CALM"))
    with freeze_time(utcnow()):
        answers = [busy.read(CARD, "serial").status_code for _ in range(121)]
        assert answers == [200] * 120 + [429]
        limited = busy.read(CARD, "serial")
        assert limited.get_json()["error"]["code"] == "too_many_requests"
        assert calm.read(CARD, "serial").status_code == 200


def test_behind_a_trusted_proxy_each_client_is_counted_on_its_own(database_url: str) -> None:
    with second_app(database_url, TRUSTED_PROXIES=1, SERVER_NAME="asm.test") as app:
        proxy = "10.9.8.7"
        guesser, bystander = (from_address(app.test_client(), proxy) for _ in range(2))
        for client, address in ((guesser, "203.0.113.5"), (bystander, "198.51.100.7")):
            client.environ_base["HTTP_X_FORWARDED_FOR"] = address
        guesses = [post_form(guesser, "/dang-nhap", {"username": f"khong.ai{i}", "password": "sai"}) for i in range(11)]
        assert [g.status_code for g in guesses] == [401] * 10 + [429]
        # Another client behind the same proxy is not held back by the guesser.
        assert post_form(bystander, "/dang-nhap", {"username": "khong.ai.khac", "password": "sai"}).status_code == 401


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(app: Flask) -> None:
    """A client sending X-Forwarded-For itself cannot pass for someone new with each guess."""
    client = from_address(app.test_client(), "10.1.2.3")
    answers = []
    for n in range(11):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n + 1}"
        answers.append(post_form(client, "/dang-nhap", {"username": f"khong.ai{n}", "password": "sai"}).status_code)
    assert answers == [401] * 10 + [429]
