"""Test images of the QR code on a Vietnamese chip ID card (CCCD).

Pure functions, no test framework needed: clean QR images, photo-like camera frames of a card held up to a
camera, encoding to PNG/JPEG/WebP bytes, and generated card strings with realistic Vietnamese names and
addresses. Every random choice comes from ``random.Random(seed)``, so a given seed gives the same image on
every machine. Used by the decoder tests and benchmark, and reusable by browser/kiosk tests (e.g. to build a
fake camera feed).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

import segno
from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageOps

ImageFormat = Literal["PNG", "JPEG", "WEBP"]

# The example string from DOMAIN.md (a real card layout: ID, empty old CMND, name, DOB, sex, address, issue).
EXAMPLE_CARD_TEXT = "034303011829||Nguyễn Thị Hoa|21032003|Nữ|Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình|14082021"


# --------------------------------------------------------------------------------------------------------
# Clean QR images
# --------------------------------------------------------------------------------------------------------


def qr_image(text: str, *, scale: int = 4, border: int = 4) -> Image.Image:
    """A black-on-white QR code (mode "L") holding ``text`` as UTF-8 in one byte-mode segment, no ECI.

    That is how the card encodes it. Forcing UTF-8 matters: left alone, segno would encode a text that
    fits ISO-8859-1 (e.g. "Ánh") in that charset instead.
    """
    if scale < 1 or border < 0:
        raise ValueError("scale must be >= 1 and border >= 0")
    code = segno.make_qr(text, mode="byte", encoding="utf-8", eci=False)
    rows = list(code.matrix_iter(scale=1, border=border))
    side = len(rows)
    pixels = bytes(0 if module else 255 for row in rows for module in row)
    img = Image.frombytes("L", (side, side), pixels)
    if scale > 1:
        img = img.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    return img


def to_bytes(img: Image.Image, fmt: ImageFormat = "PNG", *, quality: int = 90) -> bytes:
    """Encode ``img`` as PNG, JPEG or WebP (lossy at ``quality``) and return the file's bytes."""
    fmt_upper = fmt.upper()
    if fmt_upper not in ("PNG", "JPEG", "WEBP"):
        raise ValueError(f"unsupported format {fmt!r}")
    if fmt_upper == "JPEG" and img.mode not in ("L", "RGB"):
        img = img.convert("RGB")
    buf = io.BytesIO()
    if fmt_upper == "PNG":
        img.save(buf, format="PNG")
    else:
        img.save(buf, format=fmt_upper, quality=quality)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------------------
# Photo-like camera frames
# --------------------------------------------------------------------------------------------------------


def _solve(matrix: list[list[float]], rhs: list[float]) -> list[float]:
    """Solve a small dense linear system by Gaussian elimination with partial pivoting."""
    n = len(rhs)
    a = [[*row, value] for row, value in zip(matrix, rhs, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12:
            raise ValueError("singular system")
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            for c in range(col, n + 1):
                a[r][c] -= factor * a[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (a[r][n] - sum(a[r][c] * x[c] for c in range(r + 1, n))) / a[r][r]
    return x


def _perspective_coeffs(dst: Sequence[tuple[float, float]], src: Sequence[tuple[float, float]]) -> tuple[float, ...]:
    """Pillow PERSPECTIVE data mapping each output point ``dst[i]`` back to the input point ``src[i]``."""
    matrix: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        matrix.append([x, y, 1, 0, 0, 0, -x * u, -y * u])
        rhs.append(u)
        matrix.append([0, 0, 0, x, y, 1, -x * v, -y * v])
        rhs.append(v)
    return tuple(_solve(matrix, rhs))


def _noise_image(rng: random.Random, size: tuple[int, int], sigma: float) -> Image.Image:
    """Zero-mean noise (offset 128) with standard deviation ``sigma``, from the seeded generator."""
    amplitude = sigma * math.sqrt(3)  # uniform noise on [-a, a] has standard deviation a / sqrt(3)
    lut = [max(0, min(255, round(128 + (v - 127.5) / 127.5 * amplitude))) for v in range(256)]
    raw = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))
    return raw.point(lut)


def _background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    """A blotchy desk/room texture with a few objects on it (RGB)."""
    w, h = size
    small = (max(2, w // 24), max(2, h // 24))
    blotches = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    blotches = blotches.resize(size, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(6))
    dark = tuple(rng.randint(20, 90) for _ in range(3))
    light = tuple(rng.randint(120, 210) for _ in range(3))
    bg = ImageOps.colorize(blotches, black=dark, white=light)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(bg)
    for _ in range(rng.randint(2, 6)):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randint(w // 10, w // 2), y0 + rng.randint(h // 10, h // 2)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    # A hand or sleeve: a large skin/fabric-toned blob near an edge.
    cx = rng.choice((0, w))
    draw.ellipse((cx - w // 4, h // 3, cx + w // 4, h + h // 3), fill=(rng.randint(150, 220), 120, 100))
    return bg


def _card(rng: random.Random, text: str, module_px: int) -> tuple[Image.Image, tuple[float, float, float]]:
    """Draw a card front (RGBA) with the QR code in its top right corner.

    Returns the card and the QR's centre and side length in card pixels.
    """
    qr = qr_image(text, scale=module_px, border=2)
    qs = qr.width
    cw, ch = round(qs * 4.2), round(qs * 2.65)  # the CCCD is 85.6 x 54 mm with a ~20 mm QR code
    tint = (rng.randint(225, 245), rng.randint(228, 245), rng.randint(232, 250))
    card = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle((0, 0, cw - 1, ch - 1), radius=qs // 6, fill=(*tint, 255))
    # Light guilloche-like security lines.
    for i in range(0, cw, max(3, qs // 12)):
        draw.line((i, 0, i - ch // 2, ch), fill=(tint[0] - 12, tint[1] - 8, tint[2] - 2, 255), width=1)
    margin = qs // 10
    qx, qy = cw - margin - qs, margin
    # Portrait on the left, text lines in the middle and below.
    draw.rectangle((margin, ch // 3, margin + qs * 0.8, ch // 3 + qs), fill=(120, 110, 105, 255))
    text_left = int(margin * 2 + qs * 0.8)
    line_h = max(2, module_px * 2)
    y = margin
    while y < ch - margin - line_h:
        right = qx - 2 * module_px if y < qy + qs + module_px else cw - margin
        length = rng.randint((right - text_left) // 3, max((right - text_left) // 3 + 1, right - text_left))
        draw.rectangle((text_left, y, text_left + length, y + line_h), fill=(40, 40, 60, 255))
        y += line_h * 3
    card.paste(qr.convert("RGBA"), (qx, qy))
    return card, (qx + qs / 2, qy + qs / 2, float(qs))


def photo_like(
    img: Image.Image | str,
    *,
    size: tuple[int, int] = (1280, 720),
    angle: float | None = None,
    blur: float | None = None,
    noise: float | None = None,
    contrast: float | None = None,
    skew: float | None = None,
    qr_fraction: float | None = None,
    jpeg_quality: int | None = None,
    seed: int = 0,
) -> Image.Image:
    """A camera frame (RGB, ``size``) of a card held up to the camera, with its QR code fully in view.

    ``img`` is the card's QR text (preferred: the code is then drawn at a resolution that suits the
    frame) or a ready QR image (from :func:`qr_image`), which is placed as it is scaled.
    Every parameter left as ``None`` is drawn from ``seed``:

    - ``angle``: rotation in degrees (random: -30..30);
    - ``blur``: Gaussian blur radius in pixels at 480 px frame height (random: 0..1.4), scaled with the frame;
    - ``noise``: sensor noise standard deviation in grey levels (random: 1..8);
    - ``contrast``: 1.0 keeps full contrast, lower is washed out (random: 0.35..0.9), plus uneven lighting;
    - ``skew``: perspective: how far each card corner moves, as a fraction of the QR side (random: 0..0.15);
    - ``qr_fraction``: the QR's side as a fraction of the frame's shorter side (random: 0.25..0.5);
    - ``jpeg_quality``: the frame is re-encoded once as JPEG at this quality (random: 55..90).
    """
    rng = random.Random(seed)
    w, h = size
    short = min(w, h)
    angle = rng.uniform(-30, 30) if angle is None else angle
    blur = rng.uniform(0, 1.4) if blur is None else blur
    noise = rng.uniform(1, 8) if noise is None else noise
    contrast = rng.uniform(0.35, 0.9) if contrast is None else contrast
    skew = rng.uniform(0, 0.15) if skew is None else skew
    qr_fraction = rng.uniform(0.25, 0.5) if qr_fraction is None else qr_fraction
    jpeg_quality = rng.randint(55, 90) if jpeg_quality is None else jpeg_quality

    target_qr = qr_fraction * short
    if isinstance(img, str):
        modules = segno.make_qr(img, mode="byte", encoding="utf-8", eci=False).symbol_size(border=2)[0]
        module_px = max(2, math.ceil(2 * target_qr / modules))  # render at ~2x, then warp down
        card, (qcx, qcy, qs) = _card(rng, img, module_px)
    else:
        qr = img.convert("RGBA")
        card, qs = qr, float(qr.width)
        qcx, qcy = qr.width / 2, qr.height / 2
    scale = target_qr / qs

    # Where the QR's centre lands: anywhere that keeps the whole (rotated, skewed) code inside the frame.
    reach = target_qr * (abs(math.cos(math.radians(angle))) + abs(math.sin(math.radians(angle)))) / 2
    reach += skew * target_qr + 4
    cx = rng.uniform(min(reach, w / 2), max(w - reach, w / 2))
    cy = rng.uniform(min(reach, h / 2), max(h - reach, h / 2))

    cos_a, sin_a = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    src = [(0.0, 0.0), (float(card.width), 0.0), (float(card.width), float(card.height)), (0.0, float(card.height))]
    dst = []
    for u, v in src:
        dx, dy = (u - qcx) * scale, (v - qcy) * scale
        x = cx + dx * cos_a - dy * sin_a + rng.uniform(-skew, skew) * target_qr
        y = cy + dx * sin_a + dy * cos_a + rng.uniform(-skew, skew) * target_qr
        dst.append((x, y))
    coeffs = _perspective_coeffs(dst, src)
    warped = card.transform(
        size, Image.Transform.PERSPECTIVE, coeffs, resample=Image.Resampling.BILINEAR, fillcolor=(0, 0, 0, 0)
    )
    frame = Image.alpha_composite(_background(rng, size).convert("RGBA"), warped).convert("RGB")

    # Washed-out contrast and uneven light (a shadow or glare across the frame).
    frame = ImageEnhance.Contrast(frame).enhance(contrast)
    frame = ImageEnhance.Brightness(frame).enhance(rng.uniform(0.85, 1.2))
    low = rng.randint(150, 235)
    light = Image.linear_gradient("L").rotate(rng.uniform(0, 360)).resize(size, Image.Resampling.BILINEAR)
    light = light.point(lambda v: low + (255 - low) * v // 255)
    frame = ImageChops.multiply(frame, Image.merge("RGB", (light, light, light)))

    if blur > 0:
        frame = frame.filter(ImageFilter.GaussianBlur(blur * h / 480))
    if noise > 0:
        grain = _noise_image(rng, size, noise)
        frame = Image.merge("RGB", [ImageChops.add(band, grain, 1.0, -128) for band in frame.split()])
    reloaded = Image.open(io.BytesIO(to_bytes(frame, "JPEG", quality=jpeg_quality)))
    return reloaded.convert("RGB")


# --------------------------------------------------------------------------------------------------------
# Card strings
# --------------------------------------------------------------------------------------------------------

# Pre-2025 province codes (digits 1-3 of the ID number) and names, as used in addresses printed on the card.
PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}  # fmt: skip
_CITIES = {"001", "031", "048", "079", "092"}

SURNAMES = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
    "Dương", "Lý", "Đinh", "Lương", "Trịnh", "Mai", "Tô", "Lã", "Hà", "Từ", "Ông", "Ứng",
)  # fmt: skip
MIDDLE_MALE = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Công", "Xuân", "Đình", "Bá", "Thế", "Ngọc")
MIDDLE_FEMALE = ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Bảo", "Hồng", "Diệu", "Phương", "Tú")
GIVEN_MALE = (
    "Anh", "Hùng", "Dũng", "Tú", "Út", "Hải", "Sơn", "Tuấn", "Đạt", "Lộc", "Hiếu", "Trí", "Tâm", "Khải",
    "Quý", "Vũ", "Phúc", "Đức", "Lực", "Tứ", "Ổn", "Ấn", "Bửu", "Nhựt", "Sỹ", "Thọ", "Ý",
)  # fmt: skip
GIVEN_FEMALE = (
    "Ánh", "Hoa", "Lan", "Hương", "Nữ", "Nụ", "Út", "Vy", "Yến", "Ngọc Ánh", "Thủy", "Nhữ", "Mỹ", "Ửng",
    "Huệ", "Cúc", "Hằng", "Trúc", "Lụa", "Dữ", "Ý", "Ấu", "Ngà", "Xuyến", "Thư",
)  # fmt: skip
VILLAGE_WORDS = (
    "Lai Ổn", "Đông", "Thượng", "Hạ", "Trung", "Vĩnh Phú", "Tân Lập", "Phú Mỹ", "An Thới", "Đồng Nhân",
    "Mỹ Lộc", "Ông Ích", "Khánh", "Hữu Bằng", "Yên Sở", "Cự Đà", "Nhữ Khê", "Ngũ Phúc",
)  # fmt: skip
COMMUNE_WORDS = (
    "An Quý", "Quỳnh Hưng", "Tân Phú", "Phú Lợi", "Vũ Thư", "Đông Sơn", "Xuân Thủy", "Mỹ Đức", "Hòa Lạc",
    "Thụy Hương", "Ứng Hòa", "Lữ Hội", "Bến Nghé", "Phước Mỹ", "Ô Chợ Dừa",
)  # fmt: skip
DISTRICT_WORDS = (
    "Quỳnh Phụ", "Hưng Hà", "Thủ Đức", "Cẩm Lệ", "Ninh Kiều", "Đống Đa", "Hoàn Kiếm", "Tư Nghĩa", "Củ Chi",
    "Yên Mỹ", "Lục Ngạn", "Ứng Hòa", "Đức Trọng", "Hải Châu",
)  # fmt: skip
STREETS = ("Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Võ Thị Sáu", "Hàng Bạc", "Lý Thường Kiệt", "Điện Biên Phủ")


def _name(rng: random.Random, female: bool) -> str:
    surname = rng.choice(SURNAMES)
    middle = MIDDLE_FEMALE if female else MIDDLE_MALE
    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
    shape = rng.random()
    if shape < 0.25:  # short names: the ones zbar's charset guess garbles most
        parts = [surname, given]
    elif shape < 0.75:
        parts = [surname, rng.choice(middle), given]
    else:
        parts = [surname, rng.choice(middle), rng.choice(middle), given]
    name = " ".join(parts)
    return name.upper() if rng.random() < 0.2 else name


def _address(rng: random.Random, code: str) -> str:
    province = PROVINCES[code]
    if code in _CITIES:
        street = f"Số {rng.randint(1, 300)} {rng.choice(STREETS)}"
        if rng.random() < 0.4:
            street = f"Số {rng.randint(1, 99)} ngõ {rng.randint(1, 200)} {rng.choice(STREETS)}"
        return f"{street}, Phường {rng.choice(COMMUNE_WORDS)}, Quận {rng.choice(DISTRICT_WORDS)}, {province}"
    village = rng.choice(("Thôn", "Xóm", "Ấp", "Tổ dân phố", "Bản"))
    if rng.random() < 0.3:  # the short style of the DOMAIN.md example: no "xã/huyện/tỉnh" words
        commune, district = rng.choice(COMMUNE_WORDS), rng.choice(DISTRICT_WORDS)
        return f"{village} {rng.choice(VILLAGE_WORDS)}, {commune}, {district}, {province}"
    return (
        f"{village} {rng.choice(VILLAGE_WORDS)}, Xã {rng.choice(COMMUNE_WORDS)}, "
        f"Huyện {rng.choice(DISTRICT_WORDS)}, Tỉnh {province}"
    )


def card_text(rng: random.Random) -> str:
    """One valid 7-field chip-card QR string, its ID number consistent with the birth date and sex."""
    code = rng.choice(list(PROVINCES))
    female = rng.random() < 0.5
    born = date(1940, 1, 1) + timedelta(days=rng.randrange((date(2009, 12, 31) - date(1940, 1, 1)).days))
    century_digit = (born.year // 100 - 19) * 2 + (1 if female else 0)
    id12 = f"{code}{century_digit}{born.year % 100:02d}{rng.randrange(10**6):06d}"
    old9 = f"{rng.randrange(10**9):09d}" if born.year < 2000 and rng.random() < 0.4 else ""
    first_issue = max(date(2021, 1, 1), date(born.year + 14, born.month, min(born.day, 28)))
    issued = first_issue + timedelta(days=rng.randrange(max(1, (date(2024, 6, 30) - first_issue).days)))
    fields = [
        id12,
        old9,
        _name(rng, female),
        born.strftime("%d%m%Y"),
        "Nữ" if female else "Nam",
        _address(rng, code),
        issued.strftime("%d%m%Y"),
    ]
    return "|".join(fields)


def sample_card_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` generated chip-card QR strings (deterministic for a seed)."""
    rng = random.Random(seed)
    return [card_text(rng) for _ in range(n)]
