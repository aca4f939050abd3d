"""Reads of the foreigners' channel: an establishment's foreign guests of a day, a guest's NA17 data, the export
rows. Every query takes the establishment the caller may see (the view checks access first)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, joinedload

from asm.clock import VN_TZ
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.foreigners.labels import VISA_TYPES
from asm.foreigners.models import ForeignStay
from asm.foreigners.pdf import Na17Data
from asm.i18n import Translator
from asm.idcard.countries import state_name
from asm.people.models import SEX_LABELS
from asm.stays.models import Stay, StayStatus


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), VN_TZ)
    return start, start + timedelta(days=1)


def foreigners_on(establishment: Establishment, day: date) -> list[Stay]:
    """The establishment's foreign guests staying on a local day (arrived by its end, not gone before its start),
    cancelled stays left out; by arrival."""
    start, end = day_bounds(day)
    query = (
        select(Stay)
        .join(ForeignStay, ForeignStay.stay_id == Stay.id)
        .where(
            Stay.establishment_id == establishment.id,
            Stay.status != StayStatus.CANCELLED,
            Stay.arrived_at < end,
            or_(Stay.departed_at.is_(None), Stay.departed_at >= start),
        )
        .options(contains_eager(Stay.foreign), joinedload(Stay.person), joinedload(Stay.room))
        .order_by(Stay.arrived_at, Stay.id)
    )
    return list(db.session.scalars(query).unique())


def visa_label(code: str | None, translations: Translator) -> str | None:
    if not code:
        return None
    return translations.gettext(VISA_TYPES[code]) if code in VISA_TYPES else code


def na17_data(stay: Stay, *, locale: str, translations: Translator, now: datetime) -> Na17Data:
    person, foreign, est = stay.person, stay.foreign, stay.establishment
    if foreign is None:
        raise ValueError("NA17 is for a foreign guest's stay")  # the view answers 404 before
    return Na17Data(
        full_name=person.full_name,
        sex=person.sex,
        birth_date=person.birth_date,
        nationality=person.nationality,
        nationality_name=state_name(person.nationality, locale) or person.nationality,
        passport_number=person.doc_number,
        passport_expiry=foreign.passport_expiry,
        visa_type=visa_label(foreign.visa_type, translations),
        visa_number=foreign.visa_number,
        entry_date=foreign.entry_date,
        entry_port=foreign.entry_port,
        entry_purpose=foreign.entry_purpose,
        arrived_at=stay.arrived_at,
        expected_departure=stay.expected_departure,
        room=stay.room.name if stay.room else None,
        establishment_name=est.name,
        establishment_address=est.address,
        establishment_phone=est.phone,
        commune_name=est.commune.full_name,
        deadline_at=foreign.deadline_at,
        deadline_hours=foreign.deadline_hours,
        declared_at=foreign.declared_at,
        declaration_ref=foreign.declaration_ref,
        printed_at=now,
    )


def export_heads(translations: Translator) -> list[str]:
    """The columns: NA17's fields in the form's order, then the declaration's."""
    _ = translations.gettext
    return [
        _("STT"),
        _("Họ tên"),
        _("Giới tính"),
        _("Ngày sinh"),
        _("Quốc tịch"),
        _("Số hộ chiếu"),
        _("Thời hạn hộ chiếu"),
        _("Loại thị thực/thẻ"),
        _("Số thị thực/thẻ"),
        _("Ngày nhập cảnh"),
        _("Cửa khẩu nhập cảnh"),
        _("Mục đích nhập cảnh"),
        _("Tạm trú từ"),
        _("Tạm trú đến"),
        _("Phòng"),
        _("Địa chỉ tạm trú"),
        _("Hạn khai báo"),
        _("Tình trạng khai báo"),
        _("Thời điểm khai báo"),
        _("Số tham chiếu"),
    ]


def state_words(translations: Translator) -> dict[str, str]:
    _ = translations.gettext
    return {
        "pending": _("Chưa khai báo"),
        "overdue": _("Quá hạn"),
        "on_time": _("Đúng hạn"),
        "late": _("Trễ hạn"),
    }


def _d(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _dt(value: datetime | None) -> str:
    return value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if value else ""


def export_rows(stays: list[Stay], *, translations: Translator, now: datetime) -> Iterator[list[Any]]:
    """One row per foreign guest with the NA17 fields, then the declaration's deadline, state and reference."""
    states = state_words(translations)
    for i, stay in enumerate(stays, start=1):
        person, foreign, est = stay.person, stay.foreign, stay.establishment
        if foreign is None:  # the list's query joins the foreigners' records: never here
            continue
        yield [
            i,
            person.full_name,
            translations.gettext(SEX_LABELS[person.sex]) if person.sex in SEX_LABELS else "",
            _d(person.birth_date),
            person.nationality,
            person.doc_number,
            _d(foreign.passport_expiry),
            visa_label(foreign.visa_type, translations) or "",
            foreign.visa_number or "",
            _d(foreign.entry_date),
            foreign.entry_port or "",
            foreign.entry_purpose or "",
            _dt(stay.arrived_at),
            _dt(stay.departed_at) if stay.departed_at else _d(stay.expected_departure),
            stay.room.name if stay.room else "",
            est.address,
            _dt(foreign.deadline_at),
            states[str(foreign.state(now))],
            _dt(foreign.declared_at),
            foreign.declaration_ref or "",
        ]
