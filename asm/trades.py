"""Each trade's own words (issue 17): a hotel checks a guest in and out and changes their room; a hospital admits,
discharges and moves a patient to another bed or ward; a dormitory takes in residents; rented rooms, tenants.

PURE: no Flask. Every word is a msgid of the catalogue with its trade as the gettext context (``msgctxt``), so one
Vietnamese word may have a different English one per trade (the hotel's "Trả phòng" is "Check out", the rented
rooms' is "Move out"), and pages, PDFs, exports, receipts and the kiosk all read the same table:

    words = trade_words(est.type, translations)      # translations: asm.i18n.translations(locale) or the request's
    words.check_out                                  # "Ra viện" for a hospital, "Trả phòng" for a hotel

Templates get the same object from the ``words(est)`` global (asm/web/templating.py). A place where several trades
meet (a police list of a whole ward) uses NEUTRAL words.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from asm.i18n import NP_, Translator, translations

LODGING, HOSPITAL, DORMITORY, RENTED_ROOMS, NEUTRAL = "lodging", "hospital", "dormitory", "rented_rooms", "any"

# Establishment type (asm.establishments.models.EstablishmentType values) -> its trade. Guesthouses and homestays
# speak as hotels do (nhận phòng, trả phòng, chuyển phòng); "other" too.
TRADE_OF_TYPE = {
    "hotel": LODGING,
    "guesthouse": LODGING,
    "homestay": LODGING,
    "other": LODGING,
    "hospital": HOSPITAL,
    "dormitory": DORMITORY,
    "rented_rooms": RENTED_ROOMS,
}

# key -> trade -> (context, msgid). Every trade has every key (a test checks it).
VOCABULARY: dict[str, dict[str, tuple[str, str]]] = {
    # the person a stay is about
    "guest": {
        LODGING: NP_("lodging", "Khách"),
        HOSPITAL: NP_("hospital", "Người bệnh"),
        DORMITORY: NP_("dormitory", "Người ở"),
        RENTED_ROOMS: NP_("rented_rooms", "Người thuê"),
        NEUTRAL: NP_("any", "Người lưu trú"),
    },
    # the people a reminder counts (asm/jobs/reminders.py): "3 khách", "3 người bệnh và người chăm sóc"
    "people": {
        LODGING: NP_("lodging_people", "khách"),
        HOSPITAL: NP_("hospital_people", "người bệnh và người chăm sóc"),
        DORMITORY: NP_("dormitory_people", "người ở"),
        RENTED_ROOMS: NP_("rented_rooms_people", "người thuê"),
        NEUTRAL: NP_("any_people", "người lưu trú"),
    },
    # a hospital's other person staying (a stay of role "carer"); no other trade has them
    "carer": {
        LODGING: NP_("hospital", "Người chăm sóc"),
        HOSPITAL: NP_("hospital", "Người chăm sóc"),
        DORMITORY: NP_("hospital", "Người chăm sóc"),
        RENTED_ROOMS: NP_("hospital", "Người chăm sóc"),
        NEUTRAL: NP_("hospital", "Người chăm sóc"),
    },
    # the tab and the button that start a stay
    "check_in": {
        LODGING: NP_("lodging", "Nhận khách"),
        HOSPITAL: NP_("hospital", "Nhập viện"),
        DORMITORY: NP_("dormitory", "Nhận người vào ở"),
        RENTED_ROOMS: NP_("rented_rooms", "Nhận người thuê"),
        NEUTRAL: NP_("any", "Khai báo người đến"),
    },
    # the kiosk's flow of a hotel, dormitory or rented room arriving by itself
    "self_check_in": {
        LODGING: NP_("lodging", "Nhận phòng"),
        HOSPITAL: NP_("hospital", "Tự khai báo lưu trú"),
        DORMITORY: NP_("dormitory", "Vào ở"),
        RENTED_ROOMS: NP_("rented_rooms", "Nhận phòng"),
        NEUTRAL: NP_("any", "Đến"),
    },
    # the history's and the receipt's words for a notification (a hotel's are the receipt's "event" words)
    "check_in_event": {
        LODGING: NP_("event", "Khai báo đến"),
        HOSPITAL: NP_("hospital", "Khai báo nhập viện"),
        DORMITORY: NP_("dormitory", "Khai báo vào ở"),
        RENTED_ROOMS: NP_("rented_rooms", "Khai báo đến thuê"),
        NEUTRAL: NP_("event", "Khai báo đến"),
    },
    "check_out_event": {
        LODGING: NP_("event", "Trả phòng"),
        HOSPITAL: NP_("hospital_event", "Ra viện"),
        DORMITORY: NP_("dormitory_event", "Rời đi"),
        RENTED_ROOMS: NP_("rented_rooms_event", "Trả phòng"),
        NEUTRAL: NP_("any_event", "Rời đi"),
    },
    "move_event": {
        LODGING: NP_("event", "Chuyển phòng"),
        HOSPITAL: NP_("hospital_event", "Chuyển giường"),
        DORMITORY: NP_("dormitory_event", "Chuyển phòng"),
        RENTED_ROOMS: NP_("rented_rooms_event", "Chuyển phòng"),
        NEUTRAL: NP_("any_event", "Chuyển chỗ"),
    },
    "check_out": {
        LODGING: NP_("lodging", "Trả phòng"),
        HOSPITAL: NP_("hospital", "Ra viện"),
        DORMITORY: NP_("dormitory", "Rời đi"),
        RENTED_ROOMS: NP_("rented_rooms", "Trả phòng"),
        NEUTRAL: NP_("any", "Rời đi"),
    },
    "checked_out": {
        LODGING: NP_("lodging", "Đã trả phòng"),
        HOSPITAL: NP_("hospital", "Đã ra viện"),
        DORMITORY: NP_("dormitory", "Đã rời đi"),
        RENTED_ROOMS: NP_("rented_rooms", "Đã trả phòng"),
        NEUTRAL: NP_("any", "Đã rời đi"),
    },
    "reopen": {
        LODGING: NP_("lodging", "Hủy trả phòng"),
        HOSPITAL: NP_("hospital", "Hủy ra viện"),
        DORMITORY: NP_("dormitory", "Hủy rời đi"),
        RENTED_ROOMS: NP_("rented_rooms", "Hủy trả phòng"),
        NEUTRAL: NP_("any", "Hủy rời đi"),
    },
    "move": {
        LODGING: NP_("lodging", "Chuyển phòng"),
        HOSPITAL: NP_("hospital", "Chuyển giường"),
        DORMITORY: NP_("dormitory", "Chuyển phòng"),
        RENTED_ROOMS: NP_("rented_rooms", "Chuyển phòng"),
        NEUTRAL: NP_("any", "Chuyển chỗ"),
    },
    # the room a stay is in (a hospital's room holds beds)
    "room": {
        LODGING: NP_("lodging", "Phòng"),
        HOSPITAL: NP_("hospital", "Phòng bệnh"),
        DORMITORY: NP_("dormitory", "Phòng"),
        RENTED_ROOMS: NP_("rented_rooms", "Phòng"),
        NEUTRAL: NP_("any", "Phòng"),
    },
    # where a person sleeps, as a receipt or a register prints it (a hospital: ward · room · bed)
    "place": {
        LODGING: NP_("lodging", "Phòng"),
        HOSPITAL: NP_("hospital", "Giường"),
        DORMITORY: NP_("dormitory", "Phòng"),
        RENTED_ROOMS: NP_("rented_rooms", "Phòng"),
        NEUTRAL: NP_("any", "Phòng/giường"),
    },
    "arrived": {
        LODGING: NP_("lodging", "Đến"),
        HOSPITAL: NP_("hospital", "Vào viện"),
        DORMITORY: NP_("dormitory", "Đến"),
        RENTED_ROOMS: NP_("rented_rooms", "Đến"),
        NEUTRAL: NP_("any", "Đến"),
    },
    "arrived_at": {
        LODGING: NP_("lodging", "Thời gian đến"),
        HOSPITAL: NP_("hospital", "Thời gian vào viện"),
        DORMITORY: NP_("dormitory", "Thời gian đến"),
        RENTED_ROOMS: NP_("rented_rooms", "Thời gian đến"),
        NEUTRAL: NP_("any", "Thời gian đến"),
    },
    "expected_departure": {
        LODGING: NP_("lodging", "Dự kiến đi"),
        HOSPITAL: NP_("hospital", "Dự kiến ra viện"),
        DORMITORY: NP_("dormitory", "Dự kiến đi"),
        RENTED_ROOMS: NP_("rented_rooms", "Dự kiến đi"),
        NEUTRAL: NP_("any", "Dự kiến đi"),
    },
    "departed": {
        LODGING: NP_("lodging", "Đã đi"),
        HOSPITAL: NP_("hospital", "Ra viện"),
        DORMITORY: NP_("dormitory", "Đã đi"),
        RENTED_ROOMS: NP_("rented_rooms", "Đã đi"),
        NEUTRAL: NP_("any", "Đã đi"),
    },
    "departed_at": {
        LODGING: NP_("lodging", "Thời gian đi"),
        HOSPITAL: NP_("hospital", "Thời gian ra viện"),
        DORMITORY: NP_("dormitory", "Thời gian đi"),
        RENTED_ROOMS: NP_("rented_rooms", "Thời gian đi"),
        NEUTRAL: NP_("any", "Thời gian đi"),
    },
    "arrivals_today": {
        LODGING: NP_("lodging", "Đến hôm nay"),
        HOSPITAL: NP_("hospital", "Vào viện hôm nay"),
        DORMITORY: NP_("dormitory", "Đến hôm nay"),
        RENTED_ROOMS: NP_("rented_rooms", "Đến hôm nay"),
        NEUTRAL: NP_("any", "Đến hôm nay"),
    },
    "departures_today": {
        LODGING: NP_("lodging", "Đi hôm nay"),
        HOSPITAL: NP_("hospital", "Ra viện hôm nay"),
        DORMITORY: NP_("dormitory", "Đi hôm nay"),
        RENTED_ROOMS: NP_("rented_rooms", "Đi hôm nay"),
        NEUTRAL: NP_("any", "Đi hôm nay"),
    },
    # a person who stayed here before (a badge on the check-in form)
    "returning": {
        LODGING: NP_("lodging", "Khách quen"),
        HOSPITAL: NP_("hospital", "Đã từng nằm viện"),
        DORMITORY: NP_("dormitory", "Đã từng ở"),
        RENTED_ROOMS: NP_("rented_rooms", "Đã từng thuê"),
        NEUTRAL: NP_("any", "Đã từng lưu trú"),
    },
    # the police's count of stays past their expected end that nobody closed
    "not_checked_out": {
        LODGING: NP_("lodging", "Chưa trả phòng"),
        HOSPITAL: NP_("hospital", "Chưa báo ra viện"),
        DORMITORY: NP_("dormitory", "Chưa báo rời đi"),
        RENTED_ROOMS: NP_("rented_rooms", "Chưa trả phòng"),
        NEUTRAL: NP_("any", "Chưa báo rời đi"),
    },
    # the police's establishment report: the heading of the list of stays nobody closed, with its count
    "not_checked_out_list": {
        LODGING: NP_("lodging", "III. Lưu trú chưa báo trả phòng (%(n)s)"),
        HOSPITAL: NP_("hospital", "III. Người bệnh chưa báo ra viện (%(n)s)"),
        DORMITORY: NP_("dormitory", "III. Người ở chưa báo rời đi (%(n)s)"),
        RENTED_ROOMS: NP_("rented_rooms", "III. Người thuê chưa báo trả phòng (%(n)s)"),
        NEUTRAL: NP_("any", "III. Lưu trú chưa báo rời đi (%(n)s)"),
    },
    "not_checked_out_long": {
        LODGING: NP_("lodging", "Chưa báo trả phòng (quá ngày dự kiến đi)"),
        HOSPITAL: NP_("hospital", "Chưa báo ra viện (quá ngày dự kiến ra viện)"),
        DORMITORY: NP_("dormitory", "Chưa báo rời đi (quá ngày dự kiến đi)"),
        RENTED_ROOMS: NP_("rented_rooms", "Chưa báo trả phòng (quá ngày dự kiến đi)"),
        NEUTRAL: NP_("any", "Chưa báo rời đi (quá ngày dự kiến đi)"),
    },
}
KEYS = tuple(VOCABULARY)


def trade_of(establishment_type: str | None) -> str:
    """The trade of an establishment type; None (a list of several establishments) is NEUTRAL."""
    if establishment_type is None:
        return NEUTRAL
    return TRADE_OF_TYPE.get(str(establishment_type), LODGING)


@dataclass(frozen=True)
class Words:
    """One trade's words in one language: ``words.check_out``, ``words["room"]``."""

    trade: str
    translator: Translator

    def __getitem__(self, key: str) -> str:
        context, message = VOCABULARY[key][self.trade]
        return self.translator.pgettext(context, message)

    def __getattr__(self, key: str) -> str:
        if key.startswith("_") or key not in VOCABULARY:
            raise AttributeError(key)
        return self[key]

    @property
    def is_hospital(self) -> bool:
        return self.trade == HOSPITAL


def trade_words(establishment_type: str | None, translator: Translator) -> Words:
    return Words(trade_of(establishment_type), translator)


@cache
def words_in(establishment_type: str | None, locale: str) -> Words:
    """The same, for a locale name (jobs and builders that hold a locale, not a translations object)."""
    return trade_words(establishment_type, translations(locale))


def place(*parts: str | None) -> str:
    """A bed's or a room's place in one line, each name once: ("K2", "K2-G06", "K2-G06") -> "K2 · K2-G06".

    Also mends such a line stored before (a history line "K2 · K2-G06 · K2-G06" reads "K2 · K2-G06").
    """
    names: list[str] = []
    for part in parts:
        for name in (part or "").split(" · "):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return " · ".join(names)


__all__ = [
    "DORMITORY",
    "HOSPITAL",
    "KEYS",
    "LODGING",
    "NEUTRAL",
    "RENTED_ROOMS",
    "TRADE_OF_TYPE",
    "VOCABULARY",
    "Words",
    "place",
    "trade_of",
    "trade_words",
    "words_in",
]
