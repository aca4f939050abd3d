"""Users, passwords and API tokens. Writes flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from asm.accounts.models import ApiToken, Role, User
from asm.common import ValidationError, free_text
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.geo.models import Commune, Province
from asm.text import is_plain

TOKEN_PREFIX = "asm_"
MIN_PASSWORD = 8
# A hash computed once, so that a login for an unknown user costs as much as one for a known user.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def create_user(
    *,
    username: str,
    password: str,
    role: Role | str,
    full_name: str = "",
    establishments: list[Establishment] | None = None,
    commune_code: str | None = None,
    province_code: str | None = None,
) -> User:
    role = Role(role)
    errors = ValidationError()
    username = free_text(errors, "username", username, max_length=80).lower()
    full_name = free_text(errors, "full_name", full_name, max_length=120)
    if "username" in errors.errors:
        pass  # refused as text already
    elif not username:
        errors.add("username", _l("Cần tên đăng nhập."))
    elif db.session.scalar(select(User.id).where(User.username == username)):
        errors.add("username", _l("Tên đăng nhập đã có."), "username_taken")
    if len(password or "") < MIN_PASSWORD:
        errors.add("password", _l("Mật khẩu cần ít nhất %(n)s ký tự.", n=MIN_PASSWORD), "password_short")
    if role.is_establishment_staff and not establishments:
        errors.add("establishment", _l("Chủ cơ sở và nhân viên phải gắn với một cơ sở."), "establishment_missing")
    if role == Role.OFFICER and not (commune_code and db.session.get(Commune, commune_code)):
        errors.add("commune", _l("Cán bộ xã/phường phải gắn với một xã/phường có thật."), "commune_invalid")
    if role == Role.SUPERVISOR and not (province_code and db.session.get(Province, province_code)):
        errors.add("province", _l("Cán bộ tỉnh phải gắn với một tỉnh/thành có thật."), "province_invalid")
    if errors:
        raise errors
    user = User(
        username=username,
        full_name=full_name or username,
        password_hash=generate_password_hash(password),
        role=role,
        commune_code=commune_code if role == Role.OFFICER else None,
        province_code=province_code if role == Role.SUPERVISOR else None,
    )
    user.establishments = list(establishments or []) if role.is_establishment_staff else []
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(username: str, password: str) -> User | None:
    username = (username or "").strip().lower()
    # A control character matches no username (create_user refuses them), and PostgreSQL refuses a NUL outright.
    user = db.session.scalar(select(User).where(User.username == username)) if is_plain(username) else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(establishment: Establishment, *, name: str) -> tuple[ApiToken, str]:
    """A new bearer token; the secret is returned once and only its hash is stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(establishment=establishment, name=name, prefix=secret[:12], secret_hash=hash_secret(secret))
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token: ApiToken, *, now: datetime) -> None:
    token.revoked_at = now
    db.session.flush()
