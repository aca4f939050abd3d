"""Compliance reports, asked for on the reports page, generated in the background, downloaded: the PDFs read back
with pdftotext hold the Vietnamese names intact and the database's counts; CSV and XLSX hold the same tables."""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from asm.clock import local_today, to_local, utcnow
from asm.extensions import db
from asm.police import reports
from asm.police.models import JobState, ReportJob
from asm.police.services import create_report_job
from asm.stays.models import Stay, StayStatus
from tests.conftest import Factory, csrf_token
from tests.support.desk import use_fast_password_hashes
from tests.support.police import NAME_F, NAME_O, NAMES_A, PoliceWorld, download_report, report_period

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is needed")


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, app: Flask, tmp_path: Path) -> None:
    use_fast_password_hashes(monkeypatch)
    app.config["POLICE_REPORT_DIR"] = str(tmp_path / "reports")


@pytest.fixture
def world(app: Flask, factory: Factory) -> PoliceWorld:
    return PoliceWorld(app, factory)


def make_report(world: PoliceWorld, who: str, **fields: str) -> bytes:
    return download_report(world, who, **fields)[0]


def pdftotext(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    result = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return result.stdout


def figure(text: str, label: str) -> int:
    match = re.search(rf"^\s*{re.escape(label)}\s+(\d+)\s*$", text, re.MULTILINE)
    assert match, f"{label!r} not found in:\n{text}"
    return int(match.group(1))


def database_counts(est_id: int) -> dict[str, int]:
    """The figures, computed here in Python from the rows, independently of asm/police/reports.py."""
    db.session.expire_all()
    now = utcnow()
    start = to_local(now).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=29)
    stays = [
        s
        for s in db.session.scalars(select(Stay).where(Stay.establishment_id == est_id))
        if s.status != StayStatus.CANCELLED and s.arrived_at >= start
    ]
    on_time = sum(1 for s in stays if s.filed_at and s.filed_at <= s.deadline_at)
    late = sum(1 for s in stays if s.filed_at and s.filed_at > s.deadline_at)
    missing = sum(1 for s in stays if s.filed_at is None and s.deadline_at < now)
    no_checkout = sum(
        1
        for s in db.session.scalars(select(Stay).where(Stay.establishment_id == est_id))
        if s.status == StayStatus.IN_HOUSE and s.expected_departure and s.expected_departure < local_today(now)
    )
    return {
        "due": on_time + late + missing,
        "on_time": on_time,
        "late": late,
        "missing": missing,
        "checkouts": no_checkout,
    }


@pytest.mark.parametrize("code", ["EST-A", "EST-B"])
def test_the_establishment_report(world: PoliceWorld, tmp_path: Path, code: str) -> None:
    est = world.est_a if code == "EST-A" else world.est_b
    data = make_report(world, "officer_a", kind="establishment", establishment=code)
    assert data.startswith(b"%PDF")
    text = pdftotext(data, tmp_path)
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "CÔNG AN PHƯỜNG BA ĐÌNH"):
        assert line in text
    assert "NGƯỜI LẬP BÁO CÁO" in text and world.user("officer_a").full_name in text
    assert est.name in text
    expected = database_counts(est.id)
    assert figure(text, "Số thông báo phải thực hiện") == expected["due"]
    assert figure(text, "Đúng hạn") == expected["on_time"]
    assert figure(text, "Trễ hạn") == expected["late"]
    assert figure(text, "Không thông báo (quá hạn)") == expected["missing"]
    assert figure(text, "Chưa báo trả phòng (quá ngày dự kiến đi)") == expected["checkouts"]
    assert NAME_O not in text and NAME_F not in text
    if code == "EST-A":
        assert expected == {"due": 3, "on_time": 2, "late": 1, "missing": 0, "checkouts": 0}
        assert "Kim Min Jun" in text  # the late one, with its delay
        assert figure(text, "Số vi phạm") == 1
        assert "2.000.000 – 4.000.000 đồng" in text
    else:
        assert expected == {"due": 3, "on_time": 1, "late": 0, "missing": 2, "checkouts": 1}
        for name in (NAMES_A[1], NAMES_A[2], NAMES_A[3]):
            assert name in text  # the two never notified, and the one never checked out
        # The group of two never notified is one violation of 2 guests: 2–4 M VND, 4–8 M for an organisation.
        assert figure(text, "Số vi phạm") == 1
        assert figure(text, "Số người liên quan") == 2
        assert "8.000.000 – 16.000.000 đồng" not in text.split("Số vi phạm")[1]
        assert "4.000.000 – 8.000.000 đồng" in text.split("Số vi phạm")[1]
    # The text layer is real text (pypdf reads the same names).
    assert est.name in "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_commune_report(world: PoliceWorld, tmp_path: Path) -> None:
    data = make_report(world, "officer_a", kind="commune", commune="00004")
    text = pdftotext(data, tmp_path)
    assert "BÁO CÁO TỔNG HỢP THÔNG BÁO LƯU TRÚ TRÊN ĐỊA BÀN" in text
    assert "Khách sạn Hoàng Gia (EST-A)" in text and "Nhà nghỉ Bình Yên (EST-B)" in text
    assert "Khách sạn Phố Cổ" not in text
    a, b = database_counts(world.est_a.id), database_counts(world.est_b.id)
    total = re.search(r"Tổng cộng\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", text)
    assert total, text
    assert [int(g) for g in total.groups()] == [
        a["due"] + b["due"],
        a["on_time"] + b["on_time"],
        a["late"] + b["late"],
        a["missing"] + b["missing"],
    ]
    ranking = text.split("Xếp hạng")[1]
    assert ranking.index("Nhà nghỉ Bình Yên") < ranking.index("Khách sạn Hoàng Gia")  # 2 missing before 1 late
    assert "Biểu đồ" in text and "Số lượt đến mỗi ngày" in text


def test_the_register_reads_every_stay_in_chunks(
    world: PoliceWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reports, "CHUNK", 2)  # six stays: four chunks, the keyset carries over
    data = make_report(world, "officer_a", kind="register", scope="commune", commune="00004")
    text = pdftotext(data, tmp_path)
    assert "SỔ LƯU TRÚ" in text
    for name in world.names_a:
        assert text.count(name) == 1, name
    assert NAME_O not in text and NAME_F not in text
    expected = len(
        [
            s
            for s in db.session.scalars(select(Stay).where(Stay.establishment_id.in_([world.est_a.id, world.est_b.id])))
            if s.status != StayStatus.CANCELLED
        ]
    )
    assert re.search(r"Tổng số: (\d+) lượt lưu trú", text).group(1) == str(expected) == "6"  # type: ignore[union-attr]


def test_the_same_tables_as_csv_and_xlsx(world: PoliceWorld) -> None:
    csv_data = make_report(world, "officer_a", kind="register", scope="commune", commune="00004", fmt="csv")
    rows = list(csv.reader(io.StringIO(csv_data.decode("utf-8-sig"))))
    assert rows[0][:2] == ["STT", "Họ và tên"]
    assert sorted(r[1] for r in rows[1:]) == sorted(world.names_a)
    xlsx = make_report(world, "officer_a", kind="establishment", establishment="EST-B", fmt="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][:2] == ["STT", "Họ và tên"]
    states = {r[1]: r[6] for r in values[1:]}
    assert states == {NAMES_A[1]: "Không thông báo", NAMES_A[2]: "Không thông báo", NAMES_A[3]: "Đúng hạn"}
    commune = make_report(world, "supervisor_a", kind="commune", commune="00070", fmt="csv")
    lines = list(csv.reader(io.StringIO(commune.decode("utf-8-sig"))))
    assert [line[1] for line in lines[1:]] == ["EST-O"]


def test_outside_the_area_no_report_is_made(world: PoliceWorld) -> None:
    client = world.client("officer_o")
    start, end = report_period()
    for fields in (
        {"kind": "establishment", "establishment": "EST-A"},
        {"kind": "commune", "commune": "00004"},
        {"kind": "register", "scope": "establishment", "establishment": "EST-A"},
    ):
        response = client.post(
            "/cong-an/bao-cao",
            data={"from": start, "to": end, "fmt": "pdf", **fields, "csrf_token": csrf_token(client)},
        )
        assert response.status_code == 422
        assert NAMES_A[0] not in response.get_data(as_text=True)
    assert db.session.scalars(select(ReportJob)).all() == []


def test_a_report_is_its_requesters_only(world: PoliceWorld) -> None:
    make_report(world, "officer_a", kind="establishment", establishment="EST-A")
    job = db.session.scalars(select(ReportJob)).one()
    for who in ("officer_o", "supervisor_a", "supervisor_f"):
        client = world.client(who)
        for url in (
            f"/cong-an/bao-cao/{job.id}",
            f"/cong-an/bao-cao/{job.id}/tien-do",
            f"/cong-an/bao-cao/{job.id}/tai-ve",
        ):
            response = client.get(url)
            response.close()
            assert response.status_code == 404, (who, url)
            assert not response.data.startswith(b"%PDF")


def test_a_report_made_before_a_move_is_not_downloadable_after(world: PoliceWorld) -> None:
    make_report(world, "officer_a", kind="establishment", establishment="EST-A")
    job = db.session.scalars(select(ReportJob)).one()
    officer = world.user("officer_a")
    officer.commune_code = "00070"
    db.session.commit()
    assert world.client("officer_a").get(f"/cong-an/bao-cao/{job.id}/tai-ve").status_code == 404


def test_a_waiting_report_shows_its_progress_and_polls(world: PoliceWorld) -> None:
    start, end = report_period()
    job = create_report_job(
        user=world.user("officer_a"),
        kind="register",
        fmt="pdf",
        params={"commune": "00004", "from": start, "to": end, "locale": "vi"},
        now=utcnow(),
    )
    job.total, job.done = 10, 4
    db.session.commit()
    body = world.client("officer_a").get(f"/cong-an/bao-cao/{job.id}").get_data(as_text=True)
    assert '<progress max="100" value="40">' in body
    assert f'hx-get="/cong-an/bao-cao/{job.id}/tien-do"' in body
    reports.queue(job)
    db.session.commit()  # tests run jobs inline: the report is made now
    db.session.expire_all()
    assert db.session.get(ReportJob, job.id).state == JobState.DONE
    body = world.client("officer_a").get(f"/cong-an/bao-cao/{job.id}/tien-do").get_data(as_text=True)
    assert "hx-get" not in body and "/tai-ve" in body


def test_downloading_a_report_is_logged(world: PoliceWorld) -> None:
    from asm.accounts.models import ACCOUNT_EVENTS, AccessLog

    make_report(world, "officer_a", kind="register", scope="establishment", establishment="EST-A")
    officer = world.user("officer_a")
    people_views = AccessLog.action.not_in(ACCOUNT_EVENTS)  # not the login (issue 11)
    line = db.session.scalars(select(AccessLog).where(AccessLog.user_id == officer.id, people_views)).one()
    assert line.action == "report" and line.target.startswith("register:EST-A:")
