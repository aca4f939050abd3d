"""Test images of passport data pages and ID cards with a machine-readable zone, printed in OCR-B.

Pure functions, seeded like ``tests/support/qrimages.py`` (whose warping, background and noise helpers they
reuse): ``data_page(doc)`` draws a flat TD3 passport data page (or a TD1 card) with its visual zone and its
MRZ in the OCR-B typeface at ICAO's 10 characters per inch; ``mrz_photo(doc, seed=…)`` holds it up to a
1280×720 camera: rotation, perspective, blur, glare, uneven light, sensor noise and a JPEG re-encode.
The OCR-B font comes from Debian's ``fonts-ocr-b`` (Makefile, APT_TEST).
"""

from __future__ import annotations

import functools
import io
import math
import random

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from tests.support.mrzdata import Document
from tests.support.qrimages import _background, _noise_image, _perspective_coeffs, to_bytes

OCR_B = "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SANS_BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# Document sizes in millimetres (ICAO Doc 9303 Parts 4 and 5) and where the MRZ's first line starts.
PAGE_MM = {"TD3": (125.0, 88.0), "TD1": (85.6, 54.0)}
PITCH_MM = 2.54  # 10 characters per inch
LINE_MM = 4.23  # 6 lines per inch... of baseline spacing used by most issuers


@functools.cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def data_page(doc: Document, *, px_per_mm: float = 10.0, seed: int = 0) -> Image.Image:
    """A flat data page (RGB) of ``doc`` (TD3 passport or TD1 card): tinted, guilloche, photo, VIZ, MRZ."""
    rng = random.Random(seed)
    w_mm, h_mm = PAGE_MM["TD1" if doc.fmt == "TD1" else "TD3"]
    width, height = round(w_mm * px_per_mm), round(h_mm * px_per_mm)
    tint = (rng.randint(222, 242), rng.randint(226, 244), rng.randint(220, 240))
    page = Image.new("RGB", (width, height), tint)
    draw = ImageDraw.Draw(page)
    # Guilloche: fine wavy security lines over the upper part of the page (not over the MRZ, as ICAO asks).
    mrz_lines = doc.lines()
    mrz_top = height - (len(mrz_lines) * LINE_MM + 4.0) * px_per_mm
    for k in range(0, int(mrz_top), max(3, int(px_per_mm * 1.2))):
        points = [(x, k + 6 * math.sin(x / (px_per_mm * 4) + k)) for x in range(0, width, 6)]
        shade = tuple(max(0, c - rng.randint(10, 25)) for c in tint)
        draw.line(points, fill=shade, width=1)
    # Header, photo, visual inspection zone.
    pm = px_per_mm
    title = _font(SANS_BOLD, round(3.2 * pm))
    small = _font(SANS, round(1.6 * pm))
    value = _font(SANS_BOLD, round(2.3 * pm))
    draw.text(
        (6 * pm, 3 * pm), "PASSPORT / PASSEPORT" if doc.fmt != "TD1" else "IDENTITY CARD", font=title, fill=(60, 40, 90)
    )
    photo_w = (32 if doc.fmt != "TD1" else 22) * pm
    photo = (5 * pm, 10 * pm, 5 * pm + photo_w, 10 * pm + photo_w * 1.25)
    draw.rectangle(photo, fill=(rng.randint(140, 180), rng.randint(120, 150), rng.randint(110, 140)))
    draw.ellipse(
        (photo[0] + photo_w * 0.25, photo[1] + photo_w * 0.2, photo[0] + photo_w * 0.75, photo[1] + photo_w * 0.8),
        fill=(215, 180, 160),
    )
    x = photo[2] + 4 * pm
    y = 10 * pm
    fields = [
        ("Type / Code / Passport No.", f"{doc.code}   {doc.issuing}   {doc.number}"),
        ("Surname / Nom", doc.surname),
        ("Given names / Prénoms", doc.given or "-"),
        ("Nationality", doc.nationality),
        ("Date of birth / Sex", f"{doc.birth[4:]}.{doc.birth[2:4]}.{doc.birth[:2]}   {doc.sex}"),
        ("Date of expiry", f"{doc.expiry[4:]}.{doc.expiry[2:4]}.{doc.expiry[:2]}"),
    ]
    step = (mrz_top - y - 2 * pm) / len(fields)
    for label, text in fields:
        draw.text((x, y), label, font=small, fill=(90, 90, 110))
        draw.text((x, y + 1.9 * pm), text, font=value, fill=(20, 20, 30))
        y += step
    # The MRZ: OCR-B, cap height about 2.4 mm, one character every 2.54 mm, fillers included.
    ocrb = _font(OCR_B, round(2.4 / 0.72 * pm))
    left = (width - len(mrz_lines[0]) * PITCH_MM * pm) / 2
    bottom_margin = 2.5 * pm
    for row, line in enumerate(mrz_lines):
        baseline = height - bottom_margin - (len(mrz_lines) - 1 - row) * LINE_MM * pm
        for col, char in enumerate(line):
            draw.text((left + col * PITCH_MM * pm, baseline), char, font=ocrb, fill=(10, 10, 15), anchor="ls")
    return page


def mrz_photo(
    doc: Document,
    *,
    size: tuple[int, int] = (1280, 720),
    angle: float | None = None,
    skew: float | None = None,
    blur: float | None = None,
    glare: float | None = None,
    noise: float | None = None,
    page_fraction: float | None = None,
    jpeg_quality: int | None = None,
    seed: int = 0,
) -> Image.Image:
    """A camera frame (RGB, ``size``) of ``doc``'s data page held up to the camera, the MRZ fully in view.

    Every parameter left as ``None`` is drawn from ``seed``:

    - ``angle``: rotation in degrees (random: -12..12);
    - ``skew``: perspective: how far each page corner moves, as a fraction of the page width (0..0.06);
    - ``blur``: Gaussian blur radius in pixels at 720 px frame height (0..1.3);
    - ``glare``: strength of a bright reflection across the page, 0..1 (random: 0..0.6);
    - ``noise``: sensor noise standard deviation in grey levels (random: 1..7);
    - ``page_fraction``: the page's height as a fraction of the frame's height (random: 0.6..0.85);
    - ``jpeg_quality``: the frame is re-encoded once as JPEG at this quality (random: 60..90).
    """
    rng = random.Random(seed)
    w, h = size
    angle = rng.uniform(-12, 12) if angle is None else angle
    skew = rng.uniform(0, 0.06) if skew is None else skew
    blur = rng.uniform(0, 1.3) if blur is None else blur
    glare = rng.uniform(0, 0.6) if glare is None else glare
    noise = rng.uniform(1, 7) if noise is None else noise
    page_fraction = rng.uniform(0.6, 0.85) if page_fraction is None else page_fraction
    jpeg_quality = rng.randint(60, 90) if jpeg_quality is None else jpeg_quality

    page = data_page(doc, seed=seed).convert("RGBA")
    scale = page_fraction * min(h / page.height, w / page.width)
    target_w, target_h = page.width * scale, page.height * scale
    cos_a, sin_a = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    reach_x = (abs(cos_a) * target_w + abs(sin_a) * target_h) / 2 + skew * target_w + 4
    reach_y = (abs(sin_a) * target_w + abs(cos_a) * target_h) / 2 + skew * target_w + 4
    cx = rng.uniform(min(reach_x, w / 2), max(w - reach_x, w / 2))
    cy = rng.uniform(min(reach_y, h / 2), max(h - reach_y, h / 2))
    src = [(0.0, 0.0), (float(page.width), 0.0), (float(page.width), float(page.height)), (0.0, float(page.height))]
    dst = []
    for u, v in src:
        dx, dy = (u - page.width / 2) * scale, (v - page.height / 2) * scale
        dst.append(
            (
                cx + dx * cos_a - dy * sin_a + rng.uniform(-skew, skew) * target_w,
                cy + dx * sin_a + dy * cos_a + rng.uniform(-skew, skew) * target_w,
            )
        )
    warped = page.transform(
        size,
        Image.Transform.PERSPECTIVE,
        _perspective_coeffs(dst, src),
        resample=Image.Resampling.BICUBIC,
        fillcolor=(0, 0, 0, 0),
    )
    frame = Image.alpha_composite(_background(rng, size).convert("RGBA"), warped).convert("RGB")

    # Uneven light, then a glare: a soft bright ellipse somewhere over the page (laminate reflection).
    frame = ImageEnhance.Contrast(frame).enhance(rng.uniform(0.6, 1.0))
    low = rng.randint(170, 235)
    light = Image.linear_gradient("L").rotate(rng.uniform(0, 360)).resize(size, Image.Resampling.BILINEAR)
    light = light.point(lambda v: low + (255 - low) * v // 255)
    frame = ImageChops.multiply(frame, Image.merge("RGB", (light, light, light)))
    if glare > 0:
        spot = Image.new("L", size, 0)
        gx, gy = rng.uniform(cx - target_w / 3, cx + target_w / 3), rng.uniform(cy - target_h / 3, cy + target_h / 3)
        rx, ry = rng.uniform(0.1, 0.25) * w, rng.uniform(0.05, 0.15) * h
        ImageDraw.Draw(spot).ellipse((gx - rx, gy - ry, gx + rx, gy + ry), fill=round(255 * glare))
        spot = spot.filter(ImageFilter.GaussianBlur(min(rx, ry) / 2))
        frame = ImageChops.screen(frame, Image.merge("RGB", (spot, spot, spot)))
    if blur > 0:
        frame = frame.filter(ImageFilter.GaussianBlur(blur * h / 720))
    if noise > 0:
        grain = _noise_image(rng, size, noise)
        frame = Image.merge("RGB", [ImageChops.add(band, grain, 1.0, -128) for band in frame.split()])
    return Image.open(io.BytesIO(to_bytes(frame, "JPEG", quality=jpeg_quality))).convert("RGB")


def mrz_photo_bytes(doc: Document, *, seed: int = 0, quality: int = 90, **params: float) -> bytes:
    """``mrz_photo`` as the JPEG bytes an upload or a kiosk camera frame would carry."""
    return to_bytes(mrz_photo(doc, seed=seed, **params), "JPEG", quality=quality)  # type: ignore[arg-type]
