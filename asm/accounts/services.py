"""Users, passwords and API tokens. Writes flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from asm.accounts import passwords, sessions, totp
from asm.accounts.models import AccessLog, ApiToken, RecoveryCode, Role, User
from asm.common import ValidationError, free_text
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.geo.models import Commune, Province
from asm.text import is_plain, shown

TOKEN_PREFIX = "asm_"
MIN_PASSWORD = 10
PASSWORD_MESSAGES = {
    "password_short": _l("Mật khẩu cần ít nhất %(n)s ký tự.", n=MIN_PASSWORD),
    "password_common": _l("Mật khẩu này quá phổ biến, kẻ gian đoán ra ngay. Hãy chọn mật khẩu khác."),
    "password_username": _l("Mật khẩu không được chứa tên đăng nhập."),
    "password_repetitive": _l("Mật khẩu cần ít nhất 4 ký tự khác nhau."),
}
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
    check_password: bool = True,
) -> User:
    """A new user. `check_password=False` is for the demo's well-known password only (asm/demo)."""
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
    if check_password:
        check_new_password(password, username=username, errors=errors)
    _check_binding(errors, role, establishments, commune_code, province_code)
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


def _check_binding(
    errors: ValidationError,
    role: Role,
    establishments: Collection[Establishment] | None,
    commune_code: str | None,
    province_code: str | None,
) -> None:
    if role.is_establishment_staff and not establishments:
        errors.add("establishment", _l("Chủ cơ sở và nhân viên phải gắn với một cơ sở."), "establishment_missing")
    if role == Role.OFFICER and not (commune_code and db.session.get(Commune, commune_code)):
        errors.add("commune", _l("Cán bộ xã/phường phải gắn với một xã/phường có thật."), "commune_invalid")
    if role == Role.SUPERVISOR and not (province_code and db.session.get(Province, province_code)):
        errors.add("province", _l("Cán bộ tỉnh phải gắn với một tỉnh/thành có thật."), "province_invalid")


def check_new_password(password: str, *, username: str, errors: ValidationError, field: str = "password") -> None:
    for code in passwords.problems(password or "", username=username, min_length=MIN_PASSWORD):
        errors.add(field, PASSWORD_MESSAGES[code], code)


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


# --- the access log ---------------------------------------------------------------------------------------


def record_access(
    *,
    user_id: int | None,
    action: str,
    target: str,
    reason: str | None = None,
    ip: str | None = None,
    now: datetime,
) -> AccessLog:
    """A line in the hash-chained access log (sealed at flush); the caller's commit keeps it."""
    line = AccessLog(
        at=now,
        user_id=user_id,
        action=action[:40],
        target=shown(target or "")[:120],  # a typed name may hold anything: logged as it can be read back
        reason=shown(reason)[:255] if reason else None,
        ip=ip[:45] if ip else None,
    )
    db.session.add(line)
    return line


# --- account changes: each ends the user's logins at once ---------------------------------------------------


def change_password(user: User, *, current: str, new: str, confirm: str | None = None, now: datetime) -> int:
    """The user changes their own password; every login of theirs ends (the caller starts a new one for the
    browser that asked). Returns how many logins ended."""
    errors = ValidationError()
    if not check_password_hash(user.password_hash, current or ""):
        errors.add("current", _l("Mật khẩu hiện tại không đúng."), "password_wrong")
    if confirm is not None and new != confirm:
        errors.add("confirm", _l("Hai lần nhập mật khẩu mới không khớp."), "password_mismatch")
    if new and current and new == current:
        errors.add("password", _l("Mật khẩu mới phải khác mật khẩu cũ."), "password_unchanged")
    check_new_password(new, username=user.username, errors=errors)
    if errors:
        raise errors
    return _set_password(user, new, now=now)


def set_password(user: User, new: str, *, now: datetime) -> int:
    """An administrator sets a user's password (CLI); the user's logins end."""
    errors = ValidationError()
    check_new_password(new, username=user.username, errors=errors)
    if errors:
        raise errors
    return _set_password(user, new, now=now)


def _set_password(user: User, new: str, *, now: datetime) -> int:
    user.password_hash = generate_password_hash(new)
    user.password_changed_at = now
    db.session.flush()
    return sessions.end_all(user.id, reason="password", now=now)


def set_active(user: User, active: bool, *, now: datetime) -> int:
    """Disable or enable an account; disabling ends its logins. Returns how many ended."""
    user.active = active
    db.session.flush()
    return 0 if active else sessions.end_all(user.id, reason="disabled", now=now)


def change_role(
    user: User,
    role: Role | str,
    *,
    establishments: list[Establishment] | None = None,
    commune_code: str | None = None,
    province_code: str | None = None,
    now: datetime,
) -> int:
    """Give a user another role (and its binding); their logins end, so the next one carries the new rights."""
    role = Role(role)
    errors = ValidationError()
    _check_binding(errors, role, establishments, commune_code, province_code)
    if errors:
        raise errors
    user.role = role
    user.commune_code = commune_code if role == Role.OFFICER else None
    user.province_code = province_code if role == Role.SUPERVISOR else None
    user.establishments = list(establishments or []) if role.is_establishment_staff else []
    db.session.flush()
    return sessions.end_all(user.id, reason="role", now=now)


# --- the second factor --------------------------------------------------------------------------------------


def needs_second_factor(user: User, required_roles: Collection[str]) -> bool:
    return user.has_totp or str(user.role) in required_roles


def begin_totp(user: User) -> str:
    """The secret to show for enrolment: a new one, kept until a first code confirms it."""
    if user.has_totp:
        raise ValidationError({"code": [str(_l("Xác thực hai bước đã bật."))]}, {"code": "totp_enabled"})
    if user.totp_secret is None:
        user.totp_secret = totp.new_secret()
        db.session.flush()
    return user.totp_secret


def confirm_totp(user: User, code: str, *, now: datetime) -> list[str]:
    """A first code from the authenticator turns the second factor on; returns new recovery codes (shown once)."""
    if user.totp_secret is None or user.has_totp:
        raise ValidationError({"code": [str(_l("Hãy quét lại mã QR."))]}, {"code": "totp_not_pending"})
    step = totp.accepted_step(user.totp_secret, code or "", now=now, last_step=user.totp_last_step)
    if step is None:
        raise ValidationError({"code": [str(_l("Mã không đúng hoặc đã hết hạn."))]}, {"code": "totp_wrong"})
    user.totp_enabled_at = now
    user.totp_last_step = step
    return new_recovery_codes(user, now=now)


def new_recovery_codes(user: User, *, now: datetime) -> list[str]:
    """Replace the user's recovery codes; the new ones are returned once and stored hashed."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=totp.recovery_code_hash(c), created_at=now) for c in codes
    )
    db.session.flush()
    return codes


def unused_recovery_codes(user: User) -> int:
    return len(
        db.session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        ).all()
    )


def check_second_factor(user: User, code: str, *, now: datetime) -> str | None:
    """ "totp" or "recovery" when `code` passes (a recovery code is spent; a TOTP step cannot be used again),
    None when it does not."""
    if not user.has_totp or not code:
        return None
    step = totp.accepted_step(user.totp_secret or "", code, now=now, last_step=user.totp_last_step)
    if step is not None:
        # Only a later step may follow: of two requests with the same code, one updates and the other does not.
        claimed = db.session.execute(
            update(User)
            .where(User.id == user.id, (User.totp_last_step.is_(None)) | (User.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            user.totp_last_step = step
            return "totp"
        return None
    if code.strip():
        spent = db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == totp.recovery_code_hash(code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount == 1:  # type: ignore[attr-defined]
            return "recovery"
    return None


def disable_totp(user: User, code: str, *, required_roles: Collection[str], now: datetime) -> None:
    """The user turns their second factor off (only where their role does not require it), with a valid code."""
    errors = ValidationError()
    if str(user.role) in required_roles:
        errors.add("code", _l("Vai trò của bạn bắt buộc xác thực hai bước."), "totp_required")
    elif check_second_factor(user, code, now=now) is None:
        errors.add("code", _l("Mã không đúng hoặc đã hết hạn."), "totp_wrong")
    if errors:
        raise errors
    reset_totp(user, now=now, end_sessions=False)


def reset_totp(user: User, *, now: datetime, end_sessions: bool = True) -> int:
    """Forget a user's authenticator and recovery codes (a lost phone: an admin does it); the next login enrols
    again where the role requires it. Ends the user's logins unless told not to."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    return sessions.end_all(user.id, reason="2fa_reset", now=now) if end_sessions else 0
