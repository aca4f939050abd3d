"""Users, their roles and bindings, and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.clock import utcnow
from asm.extensions import db
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


class User(UserMixin, db.Model):
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

    establishments = relationship("Establishment", secondary=memberships, back_populates="staff")
    commune = relationship("Commune")
    province = relationship("Province")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(db.Model):
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


class AccessLog(db.Model):
    """Append-only: every look by police at a person's data, with who, what and why."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(String(255))
    ip: Mapped[str | None] = mapped_column(String(45))

    user = relationship("User")
