"""Staff an owner invites, staff an owner removes, and passwords reset by e-mail (issue 16).

Invitation and reset links carry a random token; only its SHA-256 is stored, with an expiry, and a link works
once. Removing a staff member ends their logins at once (asm/accounts/sessions.py). E-mail leaves through
`send_mail` only, after the caller's commit. Writes flush; the caller commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from asm import mail
from asm.accounts import sessions
from asm.accounts.models import Invitation, PasswordReset, Role, User
from asm.accounts.services import create_user, hash_secret, set_password
from asm.clock import aware
from asm.common import ValidationError, free_text
from asm.establishments.models import Establishment
from asm.extensions import db

STAFF_ROLES = (Role.CLERK, Role.OWNER)


def send_mail(to: str, subject: str, text: str) -> None:
    """The one way this slice sends e-mail (invitations, password resets): queued and committed, so a worker sends
    it, retried with back-off (asm/jobs). The answer never waits for the mail server, so it takes as long whether
    an address has an account or not."""
    from asm.jobs import enqueue_mail

    enqueue_mail(to, subject, text)
    db.session.commit()


def new_token() -> str:
    return secrets.token_urlsafe(32)


# --- invitations ----------------------------------------------------------------------------------------------


def invite(
    est: Establishment, *, role: str, note: str, email: str, by: User, now: datetime, days: int
) -> tuple[Invitation, str]:
    """A one-time link for a new staff member of `est`; the token is returned once."""
    errors = ValidationError()
    if role not in {r.value for r in STAFF_ROLES}:
        errors.add("role", _l("Vai trò không hợp lệ."), "role_invalid")
    note = free_text(errors, "note", note, max_length=120)
    email = (email or "").strip().lower()
    if email and not mail.valid_address(email):
        errors.add("email", _l("Địa chỉ e-mail không hợp lệ."), "email_invalid")
    if errors:
        raise errors
    token = new_token()
    invitation = Invitation(
        establishment_id=est.id,
        role=role,
        token_hash=hash_secret(token),
        email=email or None,
        note=note or None,
        created_by_id=by.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def invitation_for(token: str, *, now: datetime) -> Invitation | None:
    """The live invitation of a link, or None (unknown, used, revoked or expired: the same answer)."""
    if not token or len(token) > 100:
        return None
    found = db.session.scalar(select(Invitation).where(Invitation.token_hash == hash_secret(token)))
    if found is None or found.used_at or found.revoked_at or aware(found.expires_at) < now:
        return None
    return found


def accept(
    invitation: Invitation, *, username: str, full_name: str, email: str, password: str, confirm: str, now: datetime
) -> User:
    """The invitee makes their account; the link is spent (a second use finds nothing, even concurrently)."""
    errors = ValidationError()
    if password != confirm:
        errors.add("confirm", _l("Hai lần nhập mật khẩu mới không khớp."), "password_mismatch")
    email = (email or "").strip().lower()
    if email and not mail.valid_address(email):
        errors.add("email", _l("Địa chỉ e-mail không hợp lệ."), "email_invalid")
    if not (full_name or "").strip():
        errors.add("full_name", _l("Cần họ và tên."), "full_name_missing")
    try:
        user = create_user(
            username=username,
            password=password,
            role=invitation.role,
            full_name=full_name,
            establishments=[invitation.establishment],
        )
    except ValidationError as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                errors.add(field, message, exc.codes.get(field, "invalid"))
        raise errors from exc
    if errors:
        raise errors
    spent = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=now, used_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise ValidationError({"token": [str(_l("Lời mời đã được dùng."))]}, {"token": "invitation_used"})
    user.email = email or invitation.email
    db.session.flush()
    return user


def revoke_invitation(invitation: Invitation, *, now: datetime) -> None:
    invitation.revoked_at = invitation.revoked_at or now
    db.session.flush()


def open_invitations(est: Establishment, *, now: datetime) -> list[Invitation]:
    return [
        i
        for i in db.session.scalars(
            select(Invitation)
            .where(Invitation.establishment_id == est.id, Invitation.used_at.is_(None), Invitation.revoked_at.is_(None))
            .order_by(Invitation.created_at.desc())
        )
        if aware(i.expires_at) >= now
    ]


# --- staff ----------------------------------------------------------------------------------------------------


def set_staff_role(est: Establishment, user: User, role: str, *, by: User, now: datetime) -> int:
    """Give a staff member of `est` the clerk or the owner role; their logins end (the next carries the new
    rights). An owner cannot change their own role. Returns how many logins ended."""
    _check_staff(est, user, by)
    if role not in {r.value for r in STAFF_ROLES}:
        raise ValidationError({"role": [str(_l("Vai trò không hợp lệ."))]}, {"role": "role_invalid"})
    if user.role == role:
        return 0
    user.role = Role(role)
    db.session.flush()
    return sessions.end_all(user.id, reason="role", now=now)


def remove_staff(est: Establishment, user: User, *, by: User, now: datetime) -> int:
    """`user` no longer works at `est`: their logins end at once, and an account left with no establishment is
    disabled. Returns how many logins ended."""
    _check_staff(est, user, by)
    user.establishments = [e for e in user.establishments if e.id != est.id]
    if not user.establishments:
        user.active = False
    db.session.flush()
    return sessions.end_all(user.id, reason="disabled", now=now)


def _check_staff(est: Establishment, user: User, by: User) -> None:
    if user.id == by.id:
        raise ValidationError(
            {"user": [str(_l("Không thể tự đổi vai trò hay tự xóa mình."))]}, {"user": "not_yourself"}
        )
    if not any(e.id == est.id for e in user.establishments) or not Role(user.role).is_establishment_staff:
        raise ValidationError({"user": [str(_l("Người này không làm việc ở cơ sở."))]}, {"user": "not_staff"})


# --- password reset -------------------------------------------------------------------------------------------


def users_with_email(email: str) -> list[User]:
    email = (email or "").strip().lower()
    if not mail.valid_address(email):
        return []
    return list(db.session.scalars(select(User).where(User.email == email, User.active)))


def new_reset(user: User, *, now: datetime, minutes: int) -> str:
    """A one-time reset link's token for `user` (earlier unused links stop working)."""
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = new_token()
    db.session.add(
        PasswordReset(
            user_id=user.id, token_hash=hash_secret(token), created_at=now, expires_at=now + timedelta(minutes=minutes)
        )
    )
    db.session.flush()
    return token


def reset_for(token: str, *, now: datetime) -> PasswordReset | None:
    if not token or len(token) > 100:
        return None
    found = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_secret(token)))
    if found is None or found.used_at is not None or aware(found.expires_at) < now:
        return None
    user = db.session.get(User, found.user_id)
    return found if user is not None and user.active else None


def use_reset(reset: PasswordReset, *, password: str, confirm: str, now: datetime) -> User:
    """Set the new password (the house rules); the link is spent and every login of the user ends."""
    user = db.session.get(User, reset.user_id)
    assert user is not None
    if password != confirm:
        raise ValidationError(
            {"confirm": [str(_l("Hai lần nhập mật khẩu mới không khớp."))]}, {"confirm": "password_mismatch"}
        )
    spent = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
        raise ValidationError({"token": [str(_l("Liên kết đã được dùng."))]}, {"token": "reset_used"})
    set_password(user, password, now=now)
    return user
