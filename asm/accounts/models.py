"""Users, their roles and bindings, and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, Integer, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.audit.chains import Chain, register
from asm.clock import utcnow
from asm.extensions import ModelBase, db
from asm.i18n import N_
from asm.types import UTCDateTime


class Role(enum.StrEnum):
    ADMIN = "admin"
    OWNER = "owner"
    CLERK = "clerk"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"

    @property
    def is_establishment_staff(self) -> bool:
        return self in (Role.OWNER, Role.CLERK)

    @property
    def is_police(self) -> bool:
        return self in (Role.OFFICER, Role.SUPERVISOR)


# msgids of the catalogue (asm/i18n.py): translated where shown
ROLE_LABELS = {
    Role.ADMIN: N_("Quản trị hệ thống"),
    Role.OWNER: N_("Chủ cơ sở"),
    Role.CLERK: N_("Lễ tân / nhân viên"),
    Role.OFFICER: N_("Cán bộ Công an xã/phường"),
    Role.SUPERVISOR: N_("Cán bộ Công an tỉnh"),
}

memberships = Table(
    "memberships",
    db.Model.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("establishment_id", ForeignKey("establishments.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, ModelBase):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(20))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("communes.code"), index=True)
    province_code: Mapped[str | None] = mapped_column(ForeignKey("provinces.code"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # TOTP (RFC 6238): the base32 secret, set at enrolment and confirmed by a first code (totp_enabled_at); the
    # time step of the last accepted code, so that a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Issue 16: where a password-reset link goes, and an owner's ID number (who registered, read from their CCCD).
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    id_number: Mapped[str | None] = mapped_column(String(12), index=True)
    # Issue 14: a police user's choice of the ward's morning digest by e-mail (asm/police/digest.py).
    police_digest: Mapped[bool] = mapped_column(default=False, server_default=false())

    establishments = relationship("Establishment", secondary=memberships, back_populates="staff")
    commune = relationship("Commune")
    province = relationship("Province")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def has_totp(self) -> bool:
        return self.totp_secret is not None and self.totp_enabled_at is not None

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(ModelBase):
    """A bearer token for one establishment's software. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    establishment = relationship("Establishment")


# Access-log actions about accounts rather than people's data (asm/accounts/views.py, admin.py, cli.py).
ACCOUNT_EVENTS = frozenset(
    {
        "login", "login_password_ok", "login_failed", "login_locked", "lockout", "logout",
        "2fa_passed", "2fa_failed", "2fa_enrolled", "2fa_disabled", "2fa_reset", "recovery_codes_new",
        "password_changed", "password_set", "session_ended", "sessions_ended",
        "user_disabled", "user_enabled", "role_changed",
        "registered", "establishment_decision", "staff_invited", "invitation_accepted", "invitation_revoked",
        "staff_removed", "staff_role", "password_reset_asked", "password_reset", "admin_user_created",
        "admin_token_created", "admin_token_revoked", "admin_establishment", "police_area",
    }
)  # fmt: skip


class AccessLog(ModelBase):
    """Append-only and hash-chained: every look by police at a person's data, and every login, failure, lockout,
    second-factor and account event, with who, what and why.

    `user_id` is who acted (None for a failed login with an unknown name: `target` holds the name typed). Each row
    carries its predecessor's hash and its own (`asm.audit`): `flask audit verify` finds a row changed or removed
    behind the app's back.
    """

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))

    user = relationship("User")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("at", utcnow())  # the time is hashed, so it is known before the insert
        super().__init__(**kwargs)


ACCESS_LOG_CHAIN = register(
    Chain(
        "access_log",
        AccessLog.__table__,
        fields=("at", "user_id", "action", "target", "reason", "ip"),
        orm=True,
    )
)


class UserSession(ModelBase):
    """A login: the browser holds a random key in its signed session cookie, this row holds the key's SHA-256.

    A request is logged in only while its row is neither ended (logout, password or role change, disabling, an
    admin, the user from another device) nor past its idle timeout or absolute lifetime (asm/accounts/sessions.py).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user = relationship("User")


class RecoveryCode(ModelBase):
    """A one-time code for when the authenticator is lost; only its SHA-256 is stored. Used once, then spent."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(ModelBase):
    """A one-time link an owner gives a new staff member (issue 16): only the SHA-256 of its token is stored; it
    works once, until `expires_at`, unless revoked."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(String(120))  # who it is for, as the owner wrote it
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    establishment = relationship("Establishment")
    used_by = relationship("User", foreign_keys=[used_by_id])


class PasswordReset(ModelBase):
    """A one-time password-reset link sent by e-mail: the SHA-256 of its token, its expiry, when it was used."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
