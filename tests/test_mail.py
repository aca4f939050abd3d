"""asm.mail against a real local SMTP server."""

from __future__ import annotations

import pytest
from flask import Flask

from asm import mail
from tests.support.mail import Sink


def test_a_message_reaches_the_server_in_utf8(app: Flask, smtp_sink: Sink) -> None:
    with app.app_context():
        mail.send("chu.nha@example.vn", "Nhắc: 2 khách chưa thông báo", "Hạn 23:00 hôm nay: Nguyễn Thị Hoa")
    [msg] = smtp_sink.to("chu.nha@example.vn")
    assert msg["Subject"] == "Nhắc: 2 khách chưa thông báo"
    assert "Nguyễn Thị Hoa" in Sink.text(msg)
    assert msg["Message-ID"]


def test_an_unreachable_server_is_a_mail_error_to_retry(app: Flask) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT_S=2)
    with app.app_context(), pytest.raises(mail.MailError):
        mail.send("a@example.vn", "x", "y")


@pytest.mark.parametrize(
    "address",
    ["", "a", "a@b", "a@example.vn\r\nBcc: x@evil.test", "A <a@example.vn>", "a@example.vn, b@example.vn", " a@b.vn"],
)
def test_only_one_plain_address_is_accepted(app: Flask, address: str) -> None:
    assert not mail.valid_address(address)
    with app.app_context(), pytest.raises(ValueError):
        mail.send(address, "x", "y")


def test_without_a_server_nothing_is_sent_and_the_body_is_not_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["MAIL_SERVER"] = ""
    with app.app_context(), caplog.at_level("INFO", logger="asm.mail"):
        mail.send("a@example.vn", "Đặt lại mật khẩu", "https://asm.example/reset/SECRET-TOKEN")
    assert "a@example.vn" in caplog.text
    assert "SECRET-TOKEN" not in caplog.text
