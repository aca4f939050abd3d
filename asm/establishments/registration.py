"""Joining the platform (issue 16): an establishment registers itself with its owner, the commune police decide.

`register` writes a `pending` establishment and its owner (identified by their own CCCD's QR, read by the one
document reader, asm/people/documents.py); `decide` is the police's approve / ask for changes / reject / suspend /
reopen; `resubmit` is the owner's answer to a request for changes. Every step appends an `EstablishmentDecision`
(the history, append-only). Only an approved establishment files: the filing core refuses the others
(asm/filing/core.py `check_open`), on every channel. Writes flush; the caller commits.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from asm.accounts.models import Role, User
from asm.accounts.services import check_new_password, create_user
from asm.common import ValidationError, free_text
from asm.establishments.models import (
    Decision,
    Establishment,
    EstablishmentDecision,
    Status,
)
from asm.establishments.services import check_details
from asm.extensions import db
from asm.idcard import CardError
from asm.people import documents
from asm.people.services import PersonInput
from asm.text import fold

REASON_MAX = 500
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9 .-]{8,20}$")
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MAX_CAPACITY = 10_000

# What the police may do from each state, and where it leads.
TRANSITIONS: dict[Decision, tuple[frozenset[Status], Status]] = {
    Decision.APPROVE: (frozenset({Status.PENDING, Status.CHANGES_REQUESTED}), Status.APPROVED),
    Decision.ASK_CHANGES: (frozenset({Status.PENDING}), Status.CHANGES_REQUESTED),
    Decision.REJECT: (frozenset({Status.PENDING, Status.CHANGES_REQUESTED}), Status.REJECTED),
    Decision.SUSPEND: (frozenset({Status.APPROVED}), Status.SUSPENDED),
    Decision.REOPEN: (frozenset({Status.SUSPENDED, Status.REJECTED}), Status.APPROVED),
}
NEEDS_REASON = frozenset({Decision.ASK_CHANGES, Decision.REJECT, Decision.SUSPEND})


@dataclass
class RegistrationInput:
    name: str
    type: str
    address: str
    commune_code: str
    licence_no: str
    phone: str
    email: str
    capacity: str
    owner_qr: str  # the QR text of the owner's own CCCD, scanned or pasted
    username: str
    password: str
    confirm: str


def normal_licence(value: str | None) -> str:
    """A licence number as stored: upper case, no spaces."""
    return re.sub(r"\s+", "", value or "").upper()


def licence_key(value: str | None) -> str:
    """A licence number as compared: upper case, without spaces, dots, hyphens or slashes."""
    return re.sub(r"[\s./-]+", "", value or "").upper()


def licence_key_sql() -> Any:
    column: Any = func.upper(Establishment.licence_no)
    for char in (" ", ".", "-", "/"):
        column = func.replace(column, char, "")
    return column


def owner_of_qr(text: str, errors: ValidationError, locale: str) -> PersonInput | None:
    """The owner, from their card's QR (the same reader as the desk); a passport's zone is not a CCCD."""
    try:
        person = PersonInput.from_document(documents.read_text(text or ""))
    except CardError as exc:
        errors.add("owner_qr", exc.message(locale), exc.code)
        return None
    if person.doc_type != "cccd":
        errors.add("owner_qr", _l("Cần mã QR trên căn cước công dân của chủ cơ sở."), "owner_not_cccd")
        return None
    return person


def check_contact(errors: ValidationError, *, phone: str, email: str, capacity: str) -> tuple[str, str, int | None]:
    phone = (phone or "").strip()
    if not PHONE.fullmatch(phone):
        errors.add("phone", _l("Số điện thoại gồm 8 đến 15 chữ số."), "phone_invalid")
    email = (email or "").strip().lower()
    if not EMAIL.fullmatch(email) or len(email) > 254:
        errors.add("email", _l("Địa chỉ e-mail không hợp lệ."), "email_invalid")
    number: int | None = None
    with contextlib.suppress(ValueError):
        number = int((capacity or "").strip())
    if number is None or not 1 <= number <= MAX_CAPACITY:
        errors.add("capacity", _l("Số phòng hoặc giường: từ 1 đến %(n)s.", n=MAX_CAPACITY), "capacity_invalid")
    return phone, email, number


def duplicate_licence(licence: str | None, *, except_id: int | None = None) -> Establishment | None:
    """Another establishment, not rejected, with the same licence number."""
    if not licence:
        return None
    query = select(Establishment).where(
        licence_key_sql() == licence_key(licence),
        Establishment.status != Status.REJECTED,
    )
    if except_id is not None:
        query = query.where(Establishment.id != except_id)
    return db.session.scalars(query.limit(1)).first()


def new_code(province_code: str) -> str:
    """A code for a self-registered establishment: the province and six random characters."""
    while True:
        code = f"{province_code}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if db.session.scalar(select(Establishment.id).where(Establishment.code == code)) is None:
            return code


def register(data: RegistrationInput, *, locale: str, now: datetime) -> tuple[Establishment, User]:
    """A new establishment, `pending`, and its owner's account. Raises ValidationError (nothing written) for any
    field, a licence number already registered, or an owner who has an account already."""
    errors = ValidationError()
    values = check_details(
        errors,
        name=data.name,
        type=data.type,
        address=data.address,
        commune_code=data.commune_code,
        licence_no=data.licence_no,
        phone=data.phone,
    )
    phone, email, capacity = check_contact(errors, phone=data.phone, email=data.email, capacity=data.capacity)
    licence = normal_licence(values["licence_no"])
    if not licence and "licence_no" not in errors.errors:
        errors.add("licence_no", _l("Cần số giấy phép kinh doanh hoặc số đăng ký hộ kinh doanh."), "licence_missing")
    elif duplicate_licence(licence):
        errors.add(
            "licence_no",
            _l("Số giấy phép này đã được một cơ sở khác đăng ký. Nếu đó là cơ sở của bạn, hãy đăng nhập."),
            "licence_taken",
        )
    owner = owner_of_qr(data.owner_qr, errors, locale)
    if owner is not None and db.session.scalar(select(User.id).where(User.id_number == owner.doc_number)):
        errors.add(
            "owner_qr",
            _l("Chủ cơ sở với số định danh này đã có tài khoản: hãy đăng nhập, hoặc dùng “Quên mật khẩu”."),
            "owner_registered",
        )
    if data.password != data.confirm:
        errors.add("confirm", _l("Hai lần nhập mật khẩu mới không khớp."), "password_mismatch")
    check_new_password(data.password, username=(data.username or "").strip().lower(), errors=errors)
    if errors:
        raise errors
    assert owner is not None
    est = Establishment(
        code=new_code(_province_of(values["commune_code"] or "")),
        email=email,
        capacity=capacity,
        status=Status.PENDING,
        **{**values, "licence_no": licence, "phone": phone},
    )
    db.session.add(est)
    db.session.flush()
    user = create_user(
        username=data.username,
        password=data.password,
        role=Role.OWNER,
        full_name=owner.full_name,
        establishments=[est],
    )
    user.email = email
    user.id_number = owner.doc_number
    record(est, Decision.REGISTERED, user_id=user.id, reason=None, now=now)
    db.session.flush()
    return est, user


def _province_of(commune_code: str) -> str:
    from asm.geo.models import Commune

    commune = db.session.get(Commune, commune_code)
    return commune.province_code if commune is not None else "00"


def record(
    est: Establishment, action: Decision, *, user_id: int | None, reason: str | None, now: datetime
) -> EstablishmentDecision:
    row = EstablishmentDecision(
        establishment_id=est.id, at=now, user_id=user_id, action=action, status=est.status, reason=reason
    )
    db.session.add(row)
    return row


def decide(est: Establishment, action: str, *, reason: str, user: User | None, now: datetime) -> EstablishmentDecision:
    """The commune police's decision (the caller has checked the officer's area; `user` None: the platform admin's
    CLI). A request for changes, a rejection and a suspension need a reason, which the owner sees."""
    errors = ValidationError()
    try:
        decision = Decision(action)
    except ValueError:
        decision = None
    if decision not in TRANSITIONS:
        raise ValidationError({"action": [str(_l("Quyết định không hợp lệ."))]}, {"action": "action_invalid"})
    assert decision is not None
    allowed_from, to = TRANSITIONS[decision]
    if Status(est.status) not in allowed_from:
        errors.add("action", _l("Không thể làm việc này ở trạng thái hiện tại của cơ sở."), "state_invalid")
    reason = free_text(errors, "reason", reason, max_length=REASON_MAX)
    if decision in NEEDS_REASON and not reason and "reason" not in errors.errors:
        errors.add("reason", _l("Cần nêu lý do để chủ cơ sở biết."), "reason_missing")
    if errors:
        raise errors
    est.status = to
    est.status_reason = reason or None
    row = record(est, decision, user_id=user.id if user else None, reason=reason or None, now=now)
    db.session.flush()
    return row


def resubmit(
    est: Establishment,
    *,
    name: str,
    address: str,
    licence_no: str,
    phone: str,
    email: str,
    capacity: str,
    user: User,
    now: datetime,
) -> None:
    """The owner corrects the registration the police asked changes of; it goes back to `pending`."""
    errors = ValidationError()
    if est.status != Status.CHANGES_REQUESTED:
        errors.add("action", _l("Hồ sơ này không chờ bổ sung."), "state_invalid")
    values = check_details(
        errors,
        name=name,
        type=est.type,
        address=address,
        commune_code=est.commune_code,
        licence_no=licence_no,
        phone=phone,
    )
    phone, email, number = check_contact(errors, phone=phone, email=email, capacity=capacity)
    licence = normal_licence(values["licence_no"])
    if not licence and "licence_no" not in errors.errors:
        errors.add("licence_no", _l("Cần số giấy phép kinh doanh hoặc số đăng ký hộ kinh doanh."), "licence_missing")
    elif duplicate_licence(licence, except_id=est.id):
        errors.add("licence_no", _l("Số giấy phép này đã được một cơ sở khác đăng ký."), "licence_taken")
    if errors:
        raise errors
    est.name = values["name"] or est.name
    est.address = values["address"] or est.address
    est.licence_no = licence
    est.phone = phone
    est.email = email
    est.capacity = number
    est.status = Status.PENDING
    est.status_reason = None
    record(est, Decision.RESUBMITTED, user_id=user.id, reason=None, now=now)
    db.session.flush()


def history(est: Establishment) -> list[EstablishmentDecision]:
    return list(
        db.session.scalars(
            select(EstablishmentDecision)
            .where(EstablishmentDecision.establishment_id == est.id)
            .order_by(EstablishmentDecision.at, EstablishmentDecision.id)
        )
    )


def look_alikes(est: Establishment) -> list[Establishment]:
    """Other establishments at the same address in the same commune (compared folded: case and diacritics aside),
    or with the same licence number anywhere."""
    conditions = [Establishment.commune_code == est.commune_code]
    if est.licence_no:
        conditions.append(licence_key_sql() == licence_key(est.licence_no))
    address = fold(est.address)
    key = licence_key(est.licence_no)
    return [
        other
        for other in db.session.scalars(
            select(Establishment).where(Establishment.id != est.id, or_(*conditions)).order_by(Establishment.name)
        )
        if (other.commune_code == est.commune_code and fold(other.address) == address)
        or (key and licence_key(other.licence_no) == key)
    ]


def owners(est: Establishment) -> list[User]:
    return [u for u in est.staff if u.role == Role.OWNER]
