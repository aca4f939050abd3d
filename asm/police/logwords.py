"""The access log in words (issue 17): a supervisor reads "Tải báo cáo · Sổ lưu trú · HN-BV-HOANKIEM · 03/12/2026 –
04/12/2026", not "report" and "register:HN-BV-HOANKIEM:2026-12-03..2026-12-04".

PURE: the stored line (action, target, reason) stays as written (it is hash-chained, asm/audit); this only reads it.
An action or a target this module does not know is shown as stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asm.clock import fmt_date
from asm.i18n import N_, Translator

ACTIONS = {
    "in_house": N_("Xem danh sách đang lưu trú"),
    "stay": N_("Xem một lượt lưu trú"),
    "history": N_("Xem lịch sử của cơ sở"),
    "receipt": N_("Xem biên nhận"),
    "search": N_("Tra cứu người"),
    "person": N_("Xem hồ sơ một người"),
    "report": N_("Tải báo cáo"),
    "police_list": N_("Xem danh sách theo số liệu"),
    "alerts": N_("Xem cảnh báo"),
    "watch_list": N_("Xem danh sách theo dõi"),
    "hospital": N_("Xem trang bệnh viện"),
    "patient": N_("Xem hồ sơ người bệnh"),
    "bed_board": N_("Xem sơ đồ giường"),
    "census": N_("In danh sách người bệnh của khoa"),
    "carer_card": N_("In thẻ người chăm sóc"),
    "carer_lookup": N_("Kiểm tra thẻ người chăm sóc"),
    "login": N_("Đăng nhập"),
    "login_password_ok": N_("Đúng mật khẩu, chờ xác thực hai bước"),
    "logout": N_("Đăng xuất"),
    "login_failed": N_("Đăng nhập sai"),
    "login_locked": N_("Đăng nhập bị tạm khóa"),
    "lockout": N_("Tài khoản bị tạm khóa"),
    "2fa_failed": N_("Sai mã xác thực hai bước"),
    "2fa_passed": N_("Qua xác thực hai bước"),
    "2fa_enrolled": N_("Bật xác thực hai bước"),
    "2fa_disabled": N_("Tắt xác thực hai bước"),
    "2fa_reset": N_("Đặt lại xác thực hai bước"),
    "recovery_codes_new": N_("Tạo mã dự phòng mới"),
    "password_changed": N_("Đổi mật khẩu"),
    "sessions_ended": N_("Kết thúc các phiên đăng nhập"),
    "user_disabled": N_("Khóa tài khoản"),
    "user_enabled": N_("Mở khóa tài khoản"),
    "role_changed": N_("Đổi vai trò"),
    "registered": N_("Đăng ký cơ sở"),
    "registration": N_("Xem hồ sơ đăng ký cơ sở"),
    "establishment_decision": N_("Quyết định về cơ sở"),
    "staff_invited": N_("Mời nhân viên"),
    "invitation_accepted": N_("Nhận lời mời"),
    "invitation_revoked": N_("Hủy lời mời"),
    "staff_removed": N_("Xóa nhân viên"),
    "staff_role": N_("Đổi vai trò nhân viên"),
    "password_reset_asked": N_("Yêu cầu đặt lại mật khẩu"),
    "password_reset": N_("Đặt lại mật khẩu"),
    "admin_user_created": N_("Quản trị tạo người dùng"),
    "admin_token_created": N_("Quản trị tạo mã API"),
    "admin_token_revoked": N_("Quản trị thu hồi mã API"),
    "admin_establishment": N_("Quản trị xem cơ sở"),
    "police_area": N_("Đổi địa bàn cán bộ công an"),
}
REPORTS = {
    "establishment": N_("Báo cáo theo cơ sở"),
    "commune": N_("Báo cáo theo xã/phường"),
    "register": N_("Sổ lưu trú"),
}
FIGURES = {
    "in_house": N_("Đang lưu trú"),
    "foreigners": N_("Người nước ngoài đang lưu trú"),
    "patients": N_("Người bệnh nội trú"),
    "carers": N_("Người chăm sóc"),
    "overdue": N_("Quá hạn chưa thông báo"),
    "no_checkout": N_("Quá ngày đi chưa báo rời đi"),
    "long_stays": N_("Lưu trú quá 30 ngày"),
    "late": N_("Thông báo trễ hạn (30 ngày)"),
    "arrivals": N_("Lượt đến"),
    "departures": N_("Lượt đi"),
}
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
PERIOD = re.compile(r"(\d{2}/\d{2}/\d{4})\.\.(\d{2}/\d{2}/\d{4})")
SEP = " · "


@dataclass(frozen=True)
class LogLine:
    action: str
    target: str
    reason: str


def _area(key: str, translations: Translator) -> str:
    kind, _sep, code = key.partition(":")
    if kind == "xa":
        return translations.gettext("xã/phường %(code)s") % {"code": code}
    if kind == "tinh":
        return translations.gettext("tỉnh %(code)s") % {"code": code}
    return key


def _dates(text: str) -> str:
    """Every ISO day in a text as dd/mm/yyyy ("2026-12-03..2026-12-04" -> "03/12/2026 – 04/12/2026")."""
    return PERIOD.sub(r"\1 – \2", ISO_DAY.sub(lambda m: fmt_date(m[0]), text))


def describe(action: str, target: str | None, reason: str | None, translations: Translator) -> LogLine:
    """One stored access-log line, for a person to read."""
    gettext = translations.gettext
    target, reason = target or "", reason or ""
    words = gettext(ACTIONS[action]) if action in ACTIONS else action
    shown = target
    if action == "report":
        kind, _sep, rest = target.partition(":")
        where, _sep, period = rest.partition(":")
        parts = [gettext(REPORTS[kind]) if kind in REPORTS else kind, where, _dates(period)]
        shown = SEP.join(p for p in parts if p)
    elif action == "police_list":
        figure, _sep, key = target.partition(":")
        shown = SEP.join(
            p for p in (gettext(FIGURES[figure]) if figure in FIGURES else figure, _area(key, translations)) if p
        )
    elif action in ("alerts", "watch_list"):
        shown = _area(target, translations)
        if reason.startswith("new:"):
            reason = gettext("cảnh báo mới #%(n)s") % {"n": reason[4:]}
    elif action == "search":
        kind, _sep, value = target.partition(":")
        if kind == "doc":
            shown = gettext("số giấy tờ %(number)s") % {"number": value}
        elif kind == "name":
            name, _sep, birth = value.partition("|")
            shown = gettext("họ tên “%(name)s”, sinh %(birth)s") % {
                "name": name,
                "birth": fmt_date(birth) if birth else "",
            }
    elif action == "person":
        person_id, _sep, masked = target.partition(":")
        shown = SEP.join(p for p in (f"#{person_id}", masked) if p)
    elif "/" in target and action in ("stay", "patient", "carer_card", "carer_lookup", "bed_board", "census"):
        code, _sep, rest = target.partition("/")
        shown = SEP.join((code, f"#{rest}" if rest.isdigit() else rest))
    return LogLine(action=words, target=_dates(shown), reason=_dates(reason))


__all__ = ["ACTIONS", "LogLine", "describe"]
