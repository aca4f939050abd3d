"""Codes in digits 1–3 of the 12-digit personal ID number (số định danh cá nhân).

Source for the province codes: Thông tư 07/2016/TT-BCA (01/02/2016), Phụ lục "Danh mục mã tỉnh, thành phố
trực thuộc trung ương nơi công dân đăng ký khai sinh"; Article 7 of that circular (kept by Thông tư
59/2021/TT-BCA) defines digits 1–3 as "mã tỉnh, thành phố trực thuộc trung ương hoặc mã quốc gia nơi công
dân đăng ký khai sinh". These are the 63 pre-2025 provinces; the codes did not change with the 2025 merger
into 34 provinces (numbers already issued stay valid), so this table is not the current list of units.

Country codes (births registered abroad): the official annex was not available to check here. A public
transcription of the circular's country annex numbers the countries 101–295 in Vietnamese alphabetical
order. That rule is *unconfirmed*, so it is a default that callers can replace: every check takes a
``country_codes`` argument, and the app can pass its own set (or an empty one to accept provinces only).
"""

from __future__ import annotations

# code -> province name as printed in the annex (pre-2025 units)
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội",
    "002": "Hà Giang",
    "004": "Cao Bằng",
    "006": "Bắc Kạn",
    "008": "Tuyên Quang",
    "010": "Lào Cai",
    "011": "Điện Biên",
    "012": "Lai Châu",
    "014": "Sơn La",
    "015": "Yên Bái",
    "017": "Hòa Bình",
    "019": "Thái Nguyên",
    "020": "Lạng Sơn",
    "022": "Quảng Ninh",
    "024": "Bắc Giang",
    "025": "Phú Thọ",
    "026": "Vĩnh Phúc",
    "027": "Bắc Ninh",
    "030": "Hải Dương",
    "031": "Hải Phòng",
    "033": "Hưng Yên",
    "034": "Thái Bình",
    "035": "Hà Nam",
    "036": "Nam Định",
    "037": "Ninh Bình",
    "038": "Thanh Hóa",
    "040": "Nghệ An",
    "042": "Hà Tĩnh",
    "044": "Quảng Bình",
    "045": "Quảng Trị",
    "046": "Thừa Thiên Huế",
    "048": "Đà Nẵng",
    "049": "Quảng Nam",
    "051": "Quảng Ngãi",
    "052": "Bình Định",
    "054": "Phú Yên",
    "056": "Khánh Hòa",
    "058": "Ninh Thuận",
    "060": "Bình Thuận",
    "062": "Kon Tum",
    "064": "Gia Lai",
    "066": "Đắk Lắk",
    "067": "Đắk Nông",
    "068": "Lâm Đồng",
    "070": "Bình Phước",
    "072": "Tây Ninh",
    "074": "Bình Dương",
    "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu",
    "079": "TP Hồ Chí Minh",
    "080": "Long An",
    "082": "Tiền Giang",
    "083": "Bến Tre",
    "084": "Trà Vinh",
    "086": "Vĩnh Long",
    "087": "Đồng Tháp",
    "089": "An Giang",
    "091": "Kiên Giang",
    "092": "Cần Thơ",
    "093": "Hậu Giang",
    "094": "Sóc Trăng",
    "095": "Bạc Liêu",
    "096": "Cà Mau",
}

# Default set of accepted country codes (births registered abroad). *Unconfirmed*, see the module docstring:
# pass ``country_codes=`` to the checks to replace it.
ABROAD_COUNTRY_CODES: frozenset[str] = frozenset(f"{n:03d}" for n in range(101, 296))


def province_name(code: str) -> str | None:
    """The pre-2025 province of birth registration for digits 1–3, or None when it is not a province code."""
    return PROVINCE_CODES.get(code)


def is_place_code(code: str, country_codes: frozenset[str] = ABROAD_COUNTRY_CODES) -> bool:
    """True when ``code`` is a province code or one of the accepted country codes."""
    return code in PROVINCE_CODES or code in country_codes
