"""The English catalogue: complete, in step with the code, compiled, and used by the pages.

Vietnamese is the source language (the msgids); English comes from asm/translations/en. The .mo is built by
`make setup` (it is git-ignored), so a missing or stale .mo fails here with the command to run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient
from freezegun import freeze_time

from asm.accounts.models import User
from asm.establishments.models import Establishment
from tests.conftest import post_form

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "asm" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"
PLACEHOLDER = re.compile(r"%\((\w+)\)")
HOW_TO_UPDATE = (
    "run `make translations`, translate the new entries of asm/translations/en/LC_MESSAGES/messages.po "
    "(no empty or fuzzy ones), then `make translations` again to compile"
)


def _read_po(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale="en" if path.suffix == ".po" else None)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def _strings(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _short(ids: set[str]) -> str:
    return "\n  ".join(sorted(ids))


# The catalogue files


def test_every_message_is_translated_and_none_is_fuzzy() -> None:
    catalog = _read_po(PO)
    assert len(catalog) > 0
    untranslated = [m.id for m in catalog if m.id and not all(_strings(m.string))]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated, f"untranslated in {PO.name}: {untranslated}; {HOW_TO_UPDATE}"
    assert not fuzzy, f"fuzzy in {PO.name} (check the English, then remove the fuzzy flag): {fuzzy}"


def test_translations_keep_the_named_placeholders() -> None:
    wrong = []
    for message in _read_po(PO):
        if not message.id:
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(_strings(message.id))))
        for string in _strings(message.string):
            if set(PLACEHOLDER.findall(string)) != wanted:
                wrong.append((message.id, string))
    assert not wrong, f"placeholders differ between msgid and English: {wrong}"


def test_babel_reports_no_format_errors() -> None:
    """Babel's own checks (the python-format flag: placeholder names and conversion types)."""
    problems = [(m.id, [str(e) for e in errors]) for m, errors in _read_po(PO).check()]
    assert not problems, problems


def test_the_template_is_up_to_date_with_the_code(tmp_path: Path) -> None:
    """Extract as `make translations` does, into a temporary file, and compare the message ids."""
    fresh = tmp_path / "messages.pot"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-o",
            str(fresh),
            "--no-location",
            "--sort-output",
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    in_code, in_pot = _ids(_read_po(fresh)), _ids(_read_po(POT))
    assert in_code, "the extraction found no message: is babel.cfg right?"
    added, removed = in_code - in_pot, in_pot - in_code
    assert not added and not removed, (
        f"asm/translations/messages.pot is out of date with the code; {HOW_TO_UPDATE}.\n"
        f"new in the code:\n  {_short(added)}\ngone from the code:\n  {_short(removed)}"
    )


def test_the_english_catalogue_holds_every_message_of_the_template() -> None:
    missing, stale = _ids(_read_po(POT)) - _ids(_read_po(PO)), _ids(_read_po(PO)) - _ids(_read_po(POT))
    assert not missing and not stale, (
        f"messages.po is not updated from messages.pot; {HOW_TO_UPDATE}.\n"
        f"missing:\n  {_short(missing)}\nno longer in the template:\n  {_short(stale)}"
    )


def _key(message: Any) -> tuple[str | None, tuple[str, ...]]:
    """A message by its context and id (a plural's ids as a tuple): one msgid may appear in several contexts."""
    return message.context, tuple(_strings(message.id))


def _value(string: Any) -> tuple[str, ...]:
    return tuple(_strings(string))


def test_the_compiled_catalogue_exists_and_matches_the_po() -> None:
    assert MO.exists(), f"{MO.relative_to(ROOT)} is missing: run `make setup` (it compiles the .po files)"
    with MO.open("rb") as f:
        compiled = {_key(m): _value(m.string) for m in read_mo(f) if m.id}
    source = {_key(m): _value(m.string) for m in _read_po(PO) if m.id}
    assert compiled == source, f"{MO.name} is older than {PO.name}: run `make setup` (or `make translations`)"


# The pages


def _switch(client: FlaskClient, lang: str, next_url: str | None = None) -> None:
    response = post_form(client, f"/ngon-ngu/{lang}", {"next": next_url} if next_url else None)
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]


def _page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_login_page_is_vietnamese_by_default_and_english_after_the_switch(client: FlaskClient) -> None:
    page = _page(client, "/dang-nhap")
    assert '<html lang="vi">' in page
    assert "Đăng nhập" in page and "Tên đăng nhập" in page and "Mật khẩu" in page
    assert "Log in" not in page

    _switch(client, "en")
    page = _page(client, "/dang-nhap")
    assert '<html lang="en">' in page
    assert "Log in" in page and "Username" in page and "Password" in page and "Stay notification" in page
    assert "Đăng nhập" not in page and "Mật khẩu" not in page

    _switch(client, "vi")
    assert "Đăng nhập" in _page(client, "/dang-nhap")


def test_a_lang_query_parameter_overrides_the_session(client: FlaskClient) -> None:
    assert "Log in" in _page(client, "/dang-nhap?lang=en")
    assert "Đăng nhập" in _page(client, "/dang-nhap"), "?lang= must not stick to the session"


def test_an_unknown_language_is_not_found(client: FlaskClient) -> None:
    assert post_form(client, "/ngon-ngu/fr").status_code == 404
    assert "Đăng nhập" in _page(client, "/dang-nhap")


def test_a_failed_login_says_so_in_english(client: FlaskClient, clerk_setup: tuple[Establishment, User]) -> None:
    _est, clerk = clerk_setup
    _switch(client, "en")
    response = post_form(client, "/dang-nhap", {"username": clerk.username, "password": "wrong-password"})
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_the_in_house_list_of_a_clerk_in_both_languages(
    client: FlaskClient, login_as, clerk_setup: tuple[Establishment, User]
) -> None:
    est, clerk = clerk_setup
    login_as(clerk)
    url = f"/co-so/{est.code}/"
    page = _page(client, url)
    for vietnamese in ("Đang lưu trú", "Đến hôm nay", "Đi hôm nay", "Dự kiến đi", "Trạng thái", "Nhận khách"):
        assert vietnamese in page
    assert "In house" not in page

    _switch(client, "en", next_url=url)
    page = _page(client, url)
    for english in (
        "In house",
        "Arrivals today",
        "Departures today",
        "Room",
        "Expected departure",
        "Status",
        "Check in",
        "History",
        "Nobody in house.",
        "Log out",
    ):
        assert english in page, english
    for vietnamese in ("Đang lưu trú", "Đến hôm nay", "Trạng thái", "Đăng xuất"):
        assert vietnamese not in page, vietnamese


def test_the_language_chosen_on_the_login_page_stays_after_login_and_logout(
    client: FlaskClient, login_as, clerk_setup: tuple[Establishment, User]
) -> None:
    est, clerk = clerk_setup
    _switch(client, "en")
    login_as(clerk)
    assert "In house" in _page(client, f"/co-so/{est.code}/")
    logged_out = post_form(client, "/dang-xuat", follow_redirects=True)
    assert logged_out.request.path == "/dang-nhap"
    assert "Log in" in logged_out.get_data(as_text=True)


@freeze_time("2026-03-10 03:00:00")  # 10:00 in Hà Nội
def test_a_check_in_in_english(client: FlaskClient, login_as, clerk_setup: tuple[Establishment, User]) -> None:
    """Messages made in services (lazy strings), flashes and state badges follow the language too."""
    est, clerk = clerk_setup
    login_as(clerk)
    _switch(client, "en")
    form = {"arrived_at": "2026-03-10T10:00", "reason": "Du lịch", "action": "file"}

    refused = post_form(client, f"/co-so/{est.code}/nhan-phong", form)
    assert refused.status_code == 422
    assert "Add at least one person." in refused.get_data(as_text=True)

    guest = {
        "guests-a1-doc_type": "cccd",
        "guests-a1-doc_number": "034303011829",
        "guests-a1-nationality": "VNM",
        "guests-a1-full_name": "Nguyễn Thị Hoa",
        "guests-a1-birth_date": "2003-03-21",
        "guests-a1-sex": "F",
        "guests-a1-address": "Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình",
    }
    done = post_form(client, f"/co-so/{est.code}/nhan-phong", {**form, **guest}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Stay notified. Receipt no.:" in page
    assert "Notified on time" in page and "Date of birth" in page and "Female" in page
    assert "Khai báo đúng hạn" not in page

    in_house = _page(client, f"/co-so/{est.code}/")
    assert "Nguyễn Thị Hoa" in in_house and "Notified on time" in in_house


@pytest.mark.parametrize("status, english", [(404, "Page not found."), (403, "You do not have permission")])
def test_error_pages_in_english(
    client: FlaskClient, login_as, factory, clerk_setup: tuple[Establishment, User], status: int, english: str
) -> None:
    _est, clerk = clerk_setup
    other = factory.establishment()
    login_as(clerk)
    _switch(client, "en")
    url = "/co-so/NO-SUCH-PLACE/" if status == 404 else f"/co-so/{other.code}/"
    response = client.get(url)
    assert response.status_code == status
    assert english in response.get_data(as_text=True)
