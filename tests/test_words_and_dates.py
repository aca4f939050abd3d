"""Every page, fragment, PDF and export of the site read as text (issue 17): no ISO date anywhere (dates are
dd/mm/yyyy, times HH:MM, in Vietnam time), and no hotel word in a hospital's context, in Vietnamese and English.

The routes come from the URL map through tests/support/site.py (the same list the browser's accessibility test
checks), so a new page, PDF or export is scanned without an edit here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from pypdf import PdfReader

from asm.clock import fmt_date, fmt_datetime, fmt_time
from tests.conftest import post_form
from tests.support.desk import use_fast_password_hashes
from tests.support.site import DEMO_NOW, HOSPITAL, SitePage, SiteWorld, site_pages

ISO_DATE = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])")
# A hotel's words (asm/trades.py LODGING) that a hospital's pages, papers and exports must not use.
HOTEL_WORDS_VI = re.compile(
    r"nhận phòng|trả phòng|chuyển phòng|đổi phòng|nhận khách|khách quen|\bkhách\b(?! sạn)", re.IGNORECASE
)
HOTEL_WORDS_EN = re.compile(
    r"\bcheck[- ]?(?:in|out)\b|\bchecked out\b|\bguests?\b|\broom change\b|\bchange room\b", re.IGNORECASE
)


class VisibleText(HTMLParser):
    """The text a person reads on a page: no markup, attributes, scripts or styles (a date field's value is ISO by
    the HTML standard, and the browser shows it in the user's own format)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self.skip:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def text_of(body: bytes, kind: str) -> str:
    if kind == "application/pdf":
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    if kind == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        book = load_workbook(io.BytesIO(body), read_only=True)
        rows = (row for sheet in book for row in sheet.iter_rows(values_only=True))
        return "\n".join(" ".join(str(c) for c in row if c is not None) for row in rows)
    text = body.decode("utf-8-sig", errors="replace")
    if kind in ("page", "fragment"):
        parser = VisibleText()
        parser.feed(text)
        return " ".join(parser.parts)
    return text


def hospital_context(site_page: SitePage) -> bool:
    return HOSPITAL in site_page.url


def test_the_date_functions_are_one_format() -> None:
    moment = datetime.fromisoformat("2026-12-04T16:06:57+00:00")
    assert (fmt_date(moment), fmt_datetime(moment), fmt_time(moment)) == ("04/12/2026", "04/12/2026 23:06", "23:06")
    assert fmt_date("2026-12-05") == "05/12/2026" and fmt_datetime("2026-11-20T16:00:00+00:00") == "20/11/2026 23:00"
    assert fmt_date(None) == fmt_datetime("") == ""
    assert fmt_date("not a date") == "not a date"  # shown as stored, never an error page


def test_the_scans_find_what_they_look_for() -> None:
    assert ISO_DATE.search("Gia hạn: 2026-12-05 → 2026-12-08") and not ISO_DATE.search("BA-2026-0117 LT-261205-AB")
    assert HOTEL_WORDS_VI.search("Đã trả phòng") and HOTEL_WORDS_VI.search("+ Nhận khách")
    assert not HOTEL_WORDS_VI.search("Khách sạn Hoàng Gia · Ra viện · Chuyển giường")
    assert HOTEL_WORDS_EN.search("Checked out") and not HOTEL_WORDS_EN.search("Discharged · Bed transfer")
    assert "2026-11-20" not in text_of('<p>Ngày <input type="date" value="2026-11-20"></p>'.encode(), "page")


@pytest.mark.timeout(600)
def test_no_page_paper_or_export_shows_an_iso_date_or_a_hotel_word_in_a_hospital(
    app: Flask, pin_clock: Callable[[datetime], None], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_fast_password_hashes(monkeypatch)
    pin_clock(DEMO_NOW)
    app.config["POLICE_REPORT_DIR"] = str(tmp_path / "reports")
    world = SiteWorld(app)
    world.police_extras()
    pages = [p for p in site_pages(app, world) if p.kind != "redirect"]
    # Every report the police can ask for, in every format: the register and the establishment report of the
    # hospital (its words), and the commune's report.
    for kind, fmt in (("register", "csv"), ("register", "xlsx"), ("establishment", "pdf"), ("establishment", "csv")):
        pages.append(world.report(kind, fmt, HOSPITAL))
    pages.append(world.report("commune", "pdf", None))
    kinds = {p.kind for p in pages}
    assert {"page", "fragment", "application/pdf", "text/csv"} <= kinds, kinds

    iso: list[str] = []
    hotel: list[str] = []
    for lang in ("vi", "en"):
        for identity in {p.identity for p in pages}:
            client = world.client(identity) if identity != "anonymous" else None
            if client is not None:
                assert post_form(client, f"/ngon-ngu/{lang}").status_code == 303
        for site_page in pages:
            if site_page.identity == "anonymous":
                continue
            response = world.client(site_page.identity).get(site_page.url)
            body = response.get_data()
            response.close()
            assert response.status_code == 200, (site_page.url, response.status_code)
            if site_page.kind == "text/csv":
                assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # said once
            text = text_of(body, site_page.kind)
            where = f"{site_page.url} ({site_page.identity}, {lang})"
            iso += [f"{where}: {m[0]}" for m in ISO_DATE.finditer(text)]
            if hospital_context(site_page):
                words = HOTEL_WORDS_VI if lang == "vi" else HOTEL_WORDS_EN
                hotel += [f"{where}: {m[0]!r}" for m in words.finditer(text)]
    print(f"\nscanned {len(pages)} pages, papers and exports in two languages")
    assert not iso, "ISO dates shown:\n" + "\n".join(sorted(set(iso)))
    assert not hotel, "hotel words in a hospital's context:\n" + "\n".join(sorted(set(hotel)))
