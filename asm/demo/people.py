"""Realistic generated people: Vietnamese names, valid 12-digit ID numbers, the QR text of their card."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from asm.idcard import PROVINCE_CODES, century_sex_digit

FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Trương",
    "Lương",
    "Mai",
)
MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công", "Xuân", "Tiến", "Đình")
MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Bích", "Phương", "Hồng", "Diệu")
GIVEN_M = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Đạt",
    "Hải",
    "Hiếu",
    "Hùng",
    "Khang",
    "Long",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thắng",
    "Tuấn",
    "Việt",
    "Vũ",
    "Ấn",
)
GIVEN_F = (
    "Anh",
    "Ánh",
    "Châu",
    "Giang",
    "Hà",
    "Hạnh",
    "Hoa",
    "Hương",
    "Lan",
    "Linh",
    "Mai",
    "Ngân",
    "Nhung",
    "Nữ",
    "Oanh",
    "Thảo",
    "Trang",
    "Uyên",
    "Vy",
    "Yến",
)
PLACES = (
    "Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình",
    "Số 12 Hàng Bạc, Hàng Bạc, Hoàn Kiếm, Hà Nội",
    "Tổ 5, Phường Tân Phong, TP Lai Châu, Lai Châu",
    "Ấp Mỹ Hòa, Xã Mỹ Đức, Châu Phú, An Giang",
    "Khối 3, Thị trấn Đô Lương, Đô Lương, Nghệ An",
    "Xóm Đồng Tâm, Xã Yên Trạch, Phú Lương, Thái Nguyên",
    "Số 45 Lê Lợi, Phường Bến Nghé, Quận 1, TP Hồ Chí Minh",
    "Thôn Phú Mỹ, Xã Hòa Phước, Hòa Vang, Đà Nẵng",
    "Bản Nà Phặc, Xã Nà Phặc, Ngân Sơn, Bắc Kạn",
    "Khu phố 2, Phường Đông Hòa, Dĩ An, Bình Dương",
)
FOREIGN = (
    ("Kim Min-jun", "KOR", "M12345678", "M"),
    ("John Smith", "GBR", "533829104", "M"),
    ("Tanaka Yuki", "JPN", "TK4829104", "F"),
    ("Marie Dubois", "FRA", "19AV48291", "F"),
    ("Wang Fang", "CHN", "E48291047", "F"),
)


@dataclass(frozen=True)
class FakePerson:
    id_number: str
    full_name: str
    birth_date: date
    sex: str
    address: str
    issue_date: date

    def qr_text(self) -> str:
        """The chip card's 7-field QR text, as a scanner reads it."""
        return "|".join(
            [
                self.id_number,
                "",
                self.full_name,
                self.birth_date.strftime("%d%m%Y"),
                "Nam" if self.sex == "M" else "Nữ",
                self.address,
                self.issue_date.strftime("%d%m%Y"),
            ]
        )


def fake_person(rng: random.Random, *, today: date) -> FakePerson:
    sex = rng.choice("MF")
    family = rng.choice(FAMILY)
    middle = rng.choice(MIDDLE_M if sex == "M" else MIDDLE_F)
    given = rng.choice(GIVEN_M if sex == "M" else GIVEN_F)
    birth = today - timedelta(days=rng.randint(18 * 365, 75 * 365))
    code = rng.choice(sorted(PROVINCE_CODES))
    number = code + century_sex_digit(birth.year, sex) + f"{birth.year % 100:02d}" + f"{rng.randrange(10**6):06d}"
    issue = max(birth + timedelta(days=14 * 365), date(2021, 1, 1)) + timedelta(days=rng.randint(0, 900))
    return FakePerson(
        id_number=number,
        full_name=f"{family} {middle} {given}",
        birth_date=birth,
        sex=sex,
        address=rng.choice(PLACES),
        issue_date=min(issue, today),
    )
