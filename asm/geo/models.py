"""Administrative units after 1 July 2025: 34 provinces, 3,321 communes. A police jurisdiction is one commune."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from asm.extensions import ModelBase


class Province(ModelBase):
    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))

    communes: Mapped[list[Commune]] = relationship(back_populates="province")

    def __repr__(self) -> str:
        return f"<Province {self.code} {self.name}>"


class Commune(ModelBase):
    __tablename__ = "communes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    # A remote or isolated area ("vùng sâu, vùng xa"): foreigners' declarations due in 24 h instead of 12 (Law
    # 47/2014 Art. 33(2)). No public list was found: marked per commune (`flask units remote`, docs/FOREIGNERS.md).
    remote: Mapped[bool] = mapped_column(default=False, server_default=false())

    province: Mapped[Province] = relationship(back_populates="communes")

    @property
    def full_name(self) -> str:
        return f"{self.name}, {self.province.name}"

    def __repr__(self) -> str:
        return f"<Commune {self.code} {self.name}>"
