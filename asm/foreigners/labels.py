"""Choices and suggestions of the foreigners' channel, in Vietnamese and English (pure: no Flask).

Codes are stored; labels are shown. The NA17 form's own wording is Vietnamese; the English is ours.
"""

from __future__ import annotations

# Visa or residence document a foreigner stays on (NA17: "Thị thực/thẻ tạm trú/thẻ thường trú…").
VISA_TYPES: dict[str, tuple[str, str]] = {
    "visa": ("Thị thực", "Visa"),
    "evisa": ("Thị thực điện tử", "E-visa"),
    "exemption": ("Miễn thị thực (đơn phương, song phương)", "Visa exemption (unilateral or bilateral)"),
    "exemption_certificate": ("Giấy miễn thị thực", "Visa exemption certificate"),
    "trc": ("Thẻ tạm trú", "Temporary residence card"),
    "prc": ("Thẻ thường trú", "Permanent residence card"),
    "abtc": ("Thẻ đi lại doanh nhân APEC", "APEC business travel card"),
    "other": ("Giấy tờ khác", "Other document"),
}

# Suggestions only (the field is free text): purposes as NA17 lists them, and the busiest border gates.
ENTRY_PURPOSES: tuple[str, ...] = (
    "Du lịch",
    "Thăm thân",
    "Công tác",
    "Làm việc",
    "Đầu tư",
    "Học tập",
    "Khác",
)
ENTRY_PORTS: tuple[str, ...] = (
    "Sân bay Nội Bài",
    "Sân bay Tân Sơn Nhất",
    "Sân bay Đà Nẵng",
    "Sân bay Cam Ranh",
    "Sân bay Phú Quốc",
    "Sân bay Cát Bi",
    "Cửa khẩu Hữu Nghị",
    "Cửa khẩu Lào Cai",
    "Cửa khẩu Móng Cái",
    "Cửa khẩu Mộc Bài",
    "Cảng Tuần Châu",
)
