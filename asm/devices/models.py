"""Kiosk devices: a screen with a camera that an establishment pairs once and may revoke at any time.

Only hashes are stored: of the one-time pairing code, of the device credential (the kiosk's cookie) and of the
staff PIN. A kiosk has no user account; what it files carries the actor label "Kiosk: <name>".
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.clock import utcnow
from asm.extensions import ModelBase
from asm.i18n import N_
from asm.trades import Words
from asm.types import UTCDateTime


class KioskFlow(enum.StrEnum):
    HOTEL_CHECK_IN = "hotel_check_in"
    HOSPITAL_ADMISSION = "hospital_admission"
    CARER = "carer"
    CHECK_OUT = "check_out"


# msgids of the catalogue (asm/i18n.py): translated where shown
FLOW_LABELS = {
    KioskFlow.HOTEL_CHECK_IN: N_("Nhận phòng"),
    KioskFlow.HOSPITAL_ADMISSION: N_("Nhập viện"),
    KioskFlow.CARER: N_("Người nhà chăm sóc"),
    KioskFlow.CHECK_OUT: N_("Trả phòng / ra viện"),
}


def flow_labels(words: Words) -> dict[str, str]:
    """Each flow's name in the establishment's own words (asm/trades.py): a hotel's check-out flow is "Trả phòng",
    a hospital's "Ra viện"."""
    gettext = words.translator.gettext
    return {
        KioskFlow.HOTEL_CHECK_IN: words.self_check_in,
        KioskFlow.HOSPITAL_ADMISSION: gettext(FLOW_LABELS[KioskFlow.HOSPITAL_ADMISSION]),
        KioskFlow.CARER: gettext(FLOW_LABELS[KioskFlow.CARER]),
        KioskFlow.CHECK_OUT: words.check_out,
    }


class KioskDevice(ModelBase):
    __tablename__ = "kiosk_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishments.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    flows: Mapped[list[str]] = mapped_column(JSON)
    guest_picks_room: Mapped[bool] = mapped_column(default=False)
    idle_seconds: Mapped[int] = mapped_column(default=90)
    pairing_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    credential_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    paired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pin_hash: Mapped[str] = mapped_column(String(255))
    pin_failures: Mapped[int] = mapped_column(default=0)
    pin_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The PIN's PBKDF2 for offline checks (asm/offline.py pin_material); made when the PIN is set or checked online.
    pin_offline: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    establishment = relationship("Establishment")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_paired(self) -> bool:
        return self.credential_hash is not None and self.revoked_at is None

    def offers(self, flow: str) -> bool:
        return flow in (self.flows or [])

    def __repr__(self) -> str:
        return f"<KioskDevice {self.id} {self.name}>"
