"""Choices and suggestions of the foreigners' channel, in Vietnamese and English (pure: no Flask).

Codes are stored; labels are shown. The NA17 form's own wording is Vietnamese; the English is ours.
"""

from __future__ import annotations

from asm.i18n import N_

# Visa or residence document a foreigner stays on (NA17: "Thị thực/thẻ tạm trú/thẻ thường trú…").
VISA_TYPES: dict[str, str] = {  # msgids: translated where shown
    "visa": N_("Thị thực"),
    "evisa": N_("Thị thực điện tử"),
    "exemption": N_("Miễn thị thực (đơn phương, song phương)"),
    "exemption_certificate": N_("Giấy miễn thị thực"),
    "trc": N_("Thẻ tạm trú"),
    "prc": N_("Thẻ thường trú"),
    "abtc": N_("Thẻ đi lại doanh nhân APEC"),
    "other": N_("Giấy tờ khác"),
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
