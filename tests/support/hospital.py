"""A hospital for the hospital tests: two wards with beds, made through the same service as `flask hospital`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital.models import Bed, Ward
from asm.hospital.services import create_ward
from asm.people.services import PersonInput
from tests.support import given_name

# Valid chip-card texts (province code, century/sex digit and birth year agree with the other fields).
PATIENT_CARD = "001085012345||Trần Văn Nam|15061985|Nam|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|01012022"
CARER_CARDS = (
    "034303011829||Nguyễn Thị Hoa|21032003|Nữ|Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình|14082021",
    "001190023456||Trần Thị Lan|02021990|Nữ|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|01012022",
    "001060034567||Trần Văn Hùng|03031960|Nam|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|01012022",
)


@dataclass
class Hospital:
    est: Establishment
    k1: Ward
    k2: Ward

    def bed(self, label: str) -> Bed:
        return next(b for w in (self.k1, self.k2) for b in w.beds if b.label == label)


def make_hospital(factory: Any, **kw: Any) -> Hospital:
    est = factory.establishment(type="hospital", rooms=(), name=kw.pop("name", "Bệnh viện Thử"), **kw)
    k1 = create_ward(
        est, code="K1", name="Khoa Nội", beds=[("P101", "K1-101-1"), ("P101", "K1-101-2"), ("P102", "K1-102-1")]
    )
    k2 = create_ward(est, code="K2", name="Khoa Ngoại", beds=[("P201", "K2-201-1"), ("P201", "K2-201-2")])
    db.session.commit()
    return Hospital(est=est, k1=k1, k2=k2)


def person(n: int = 0) -> PersonInput:
    """A valid person (12-digit ID of Hà Nội, born 1985 + n)."""
    year = 1985 + n
    return PersonInput(
        doc_type="cccd",
        doc_number=f"0010{year % 100:02d}{100000 + n:06d}",
        full_name=f"Người Thử {given_name(n)}",
        birth_date=date(year, 1, 15),
        sex="M",
    )
