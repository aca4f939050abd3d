"""Read the MRZ of a passport, ID card or visa from a photo or a camera frame, on this machine.

``read_mrz_image(data, *, today=None) -> MrzData`` (JPEG, PNG or WebP bytes) and ``read_mrz(image, …)`` (a
Pillow image) locate the zone, deskew it, read its characters and accept the read only when every check digit
agrees (``asm.idcard.mrz.parse_mrz_lines(..., ocr=True)``). They raise ``DecodeError``: the upload gate's
codes (``asm.idcard.decode.load_image``, shared with the QR path) and ``no_mrz_found`` (HTTP 422) when no
zone reads with agreeing check digits.

The MRZ is printed in one typeface, OCR-B, at a fixed pitch, so the characters are read by matching each
glyph against OCR-B templates rendered from Debian's ``fonts-ocr-b`` (normalised cross-correlation, a few
blur levels). Tesseract 5 with Debian's ``eng`` model was measured first and read 3 of 40 MRZ lines exactly
(it turns runs of ``<`` into ``K``); see docs/DECODERS.md.

Steps:

1. Locate: on a copy scaled to 800 px wide, a black-hat transform keeps dark print on a light page; a
   horizontal gradient closed with a wide kernel merges each MRZ line into a bar; Otsu's threshold and a
   second closing merge the lines into a block. Long, thin blocks at least a quarter of the frame wide are
   the candidates, the widest first.
2. Deskew: the block's minimum-area rectangle gives its angle; the zone is cut from the full-resolution
   frame with a margin and turned level in one affine warp, scaled so a character is about 32 px high.
3. Glyphs: an adaptive threshold and connected components give the glyphs; they are grouped into rows; a
   row of 44, 36 or 30 glyphs is an MRZ line. Each glyph is compared with the 37 templates at the row's
   baseline and cap height; where the format says a position holds only letters (names, state codes) or
   only digits (dates, check digits), only those templates compete (``mrz.position_classes``).
4. Accept: the lines are parsed with the OCR correction; names carry no check digit, so a name whose
   characters were not clearly recognised (a small margin between the best two templates), or that goes on
   after its fillers, is refused rather than guessed. When the first zone does not read, the next candidate
   and then each zone turned half a turn (a page held upside down) are tried.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from asm.idcard.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, DecodeError, load_image
from asm.idcard.mrz import MrzData, MrzError, parse_mrz_lines, position_classes

OCR_B_FONTS = ("/usr/share/fonts/opentype/ocr-b/OCRB.otf", "/usr/share/fonts/truetype/ocr-b/OCRB.ttf")
CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
WIDTHS = (44, 36, 30)
ALLOWED = {
    "A": "ABCDEFGHIJKLMNOPQRSTUVWXYZ<",
    "N": "0123456789<",
    "D": "0123456789",
    "C": "0123456789<",
    "S": "MFX<",
    "X": CHARS,
}
PARTNER_MARGIN = 0.05  # a 0 beating O (1/I, 5/S…) by less than this is left to the check digits to settle
CLEAR_MARGIN = 0.01  # each glyph must beat its best rival by this much correlation, or the read is refused
_DETECT_WIDTH = 800
_CHAR_HEIGHT = 32
_CANVAS = (20, 26)  # template width, height in pixels
_CAP = 16.0  # cap height on the canvas
_BLURS = (0.0, 0.1, 0.2)  # template blur, as a fraction of the cap height


def ocr_b_font() -> str | None:
    """The OCR-B font file on this machine (Debian's ``fonts-ocr-b``), or None."""
    return next((path for path in OCR_B_FONTS if Path(path).is_file()), None)


# --------------------------------------------------------------------------------------------------------
# Templates and glyph windows
# --------------------------------------------------------------------------------------------------------


def _unit(array: Any) -> Any:
    import numpy as np

    vector = array.ravel() - array.mean()
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


def _window(image: Any, cx: float, cy: float, cap: float) -> Any:
    """A canvas around (cx, cy) of an ink-bright float image, scaled so ``cap`` pixels become ``_CAP``."""
    import cv2
    import numpy as np

    width, height = _CANVAS
    s = cap / _CAP
    matrix = np.float32([[s, 0, cx - s * (width - 1) / 2], [0, s, cy - s * (height - 1) / 2]])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(image, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


@functools.cache
def _templates() -> tuple[Any, dict[str, float]]:
    """(37 characters × blur levels × canvas pixels) unit vectors, and each glyph's height / cap height."""
    import cv2
    import numpy as np

    path = ocr_b_font()
    if path is None:
        raise DecodeError("decoder_unavailable", name="OCR-B")
    font = ImageFont.truetype(path, 100)
    cap = float(font.getbbox("H", anchor="ls")[3] - font.getbbox("H", anchor="ls")[1])
    vectors, ratios = [], {}
    for char in CHARS:
        canvas = Image.new("L", (160, 160), 0)
        ImageDraw.Draw(canvas).text((40, 140), char, font=font, fill=255, anchor="ls")
        ink = np.asarray(canvas, np.float32) / 255
        ys, xs = np.nonzero(ink > 0.5)
        ratios[char] = (ys.max() - ys.min() + 1) / cap
        cx, cy = (xs.min() + xs.max()) / 2, 140 - cap / 2
        levels = []
        for blur in _BLURS:
            blurred = cv2.GaussianBlur(ink, (0, 0), blur * cap) if blur else ink
            levels.append(_unit(_window(blurred, cx, cy, cap)))
        vectors.append(levels)
    return np.array(vectors), ratios


# --------------------------------------------------------------------------------------------------------
# Locating and deskewing
# --------------------------------------------------------------------------------------------------------

Rect = tuple[tuple[float, float], tuple[float, float], float]


def _candidates(gray: Any) -> list[Rect]:
    """Rotated rectangles ((cx, cy), (w, h), angle) in frame pixels around MRZ-like blocks, widest first."""
    import cv2

    width = gray.shape[1]
    scale = _DETECT_WIDTH / width if width > _DETECT_WIDTH else 1.0
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale != 1.0 else gray
    sw = small.shape[1]
    k = max(3, round(sw / 800 * 13)) | 1
    blackhat = cv2.morphologyEx(small, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    grad = cv2.convertScaleAbs(cv2.Sobel(blackhat, cv2.CV_32F, 1, 0, ksize=3))
    grad = cv2.morphologyEx(grad, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k * 2, 3)))
    _, bars = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    block = cv2.morphologyEx(bars, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k * 2)))
    block = cv2.erode(block, None, iterations=2)
    contours, _ = cv2.findContours(block, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Rect] = []
    for contour in contours:
        (cx, cy), (w, h), angle = cv2.minAreaRect(contour)
        if w < h:
            w, h, angle = h, w, angle + 90
        if angle > 45:
            angle -= 180
        elif angle < -45:
            angle += 180
        if w < sw / 4 or h == 0 or not 3 <= w / h <= 40:
            continue
        found.append(((cx / scale, cy / scale), (w / scale, h / scale), angle))
    found.sort(key=lambda r: -r[1][0])
    return found[:3]


def _cut(gray: Any, rect: Rect, *, upside_down: bool = False) -> Any:
    """The zone cut from the full frame, level, with margins, scaled so a character is ~32 px high."""
    import cv2

    (cx, cy), (w, h), angle = rect
    out_w, out_h = w * 1.08 + 12, h * 1.7 + 12
    zoom = min(4.0, max(1.0, _CHAR_HEIGHT / max(1.0, h * 0.3)))
    matrix = cv2.getRotationMatrix2D((cx, cy), angle + (180 if upside_down else 0), zoom)
    matrix[0, 2] += out_w * zoom / 2 - cx
    matrix[1, 2] += out_h * zoom / 2 - cy
    size = (round(out_w * zoom), round(out_h * zoom))
    return cv2.warpAffine(gray, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


# --------------------------------------------------------------------------------------------------------
# Reading the glyphs
# --------------------------------------------------------------------------------------------------------

Box = tuple[int, int, int, int]


def _glyph_rows(zone: Any) -> list[list[Box]]:
    """Glyph boxes (x, y, w, h) grouped into rows, top to bottom, each left to right."""
    import cv2
    import numpy as np

    zh = zone.shape[0]
    ink = cv2.adaptiveThreshold(
        zone, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, max(15, (zh // 4) | 1), 12
    )
    count, _, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    plausible = (heights > zh * 0.06) & (heights < zh * 0.5) & (widths < heights * 2)
    if not plausible.any():
        return []
    typical = float(np.median(heights[plausible]))
    glyphs = [
        i + 1 for i in range(count - 1) if 0.6 * typical <= heights[i] <= 1.45 * typical and widths[i] <= 1.5 * typical
    ]
    glyphs.sort(key=lambda i: centres[i][1])
    rows: list[list[int]] = []
    for i in glyphs:
        if rows and centres[i][1] - float(np.mean([centres[j][1] for j in rows[-1]])) <= 0.6 * typical:
            rows[-1].append(i)
        else:
            rows.append([i])
    return [[tuple(int(v) for v in stats[i][:4]) for i in sorted(row, key=lambda i: stats[i][0])] for row in rows]


def _scores(zone: Any, boxes: list[Box], cap: float) -> Any:
    """Correlation of each glyph with each character's template (best blur level and offset): (glyphs × 37).

    The row is scaled once so its cap height is the templates' and each template slides over it
    (``cv2.matchTemplate``); a glyph takes each template's best score within a few pixels of its place.
    """
    import cv2
    import numpy as np

    templates, _ = _templates()
    width, height = _CANVAS
    s = _CAP / cap
    ink = (255.0 - zone.astype(np.float32)) / 255
    bottoms = np.array([y + h for _, y, _, h in boxes], float)
    xs = np.array([x + w / 2 for x, _, w, _ in boxes], float)
    slope, intercept = np.linalg.lstsq(np.vstack([xs, np.ones_like(xs)]).T, bottoms, rcond=None)[0]
    pad = 4
    strip_h = height + 2 * pad
    x0 = max(0.0, xs.min() - cap)
    x1 = min(zone.shape[1], xs.max() + cap)
    strip_w = round((x1 - x0) * s)
    # Map strip pixel (u, v) back to the zone: x = x0 + u / s, y = baseline(x) - cap / 2 + (v - strip_h / 2) / s.
    matrix = np.float32([[1 / s, 0, x0], [slope / s, 1 / s, slope * x0 + intercept - cap / 2 - (strip_h - 1) / 2 / s]])
    strip = cv2.warpAffine(
        ink, matrix, (strip_w, strip_h), flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    centres = np.round((xs - x0) * s - (width - 1) / 2).astype(int)
    count, levels = templates.shape[0], templates.shape[1]
    best = np.empty((count * levels, strip_w - width + 1), np.float32)
    for k, template in enumerate(templates.reshape(count * levels, height, width).astype(np.float32)):
        best[k] = cv2.matchTemplate(strip, template, cv2.TM_CCOEFF_NORMED).max(axis=0)
    best = best.reshape(count, levels, -1).max(axis=1)
    # each glyph: the best score within 3 pixels of its place (a sliding maximum, then a look-up)
    padded = np.pad(best, ((0, 0), (3, 3)), constant_values=-1.0)
    window = np.max([padded[:, d : d + best.shape[1]] for d in range(7)], axis=0)
    out = window[:, np.clip(centres, 0, best.shape[1] - 1)].T
    return out


_PARTNER = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8", "2": "Z", "Z": "2"}


def _choose(scores: Any, classes: str) -> tuple[str, list[float], list[bool]]:
    """The best allowed character per position, and its margin over the best allowed rival.

    A rival is any other allowed character except the best one's OCR partner (``0``/``O``…): that choice
    is left to the check digits (``parse_mrz_lines(ocr=True)``); any other doubt refuses the read.
    """
    text, margins, doubtful = [], [], []
    for row, kind in zip(scores, classes, strict=True):
        allowed = sorted((CHARS.index(c) for c in ALLOWED[kind]), key=lambda i: -row[i])
        best = CHARS[allowed[0]]
        partner = _PARTNER.get(best)
        rivals = [i for i in allowed[1:] if CHARS[i] != partner]
        text.append(best)
        margins.append(float(row[allowed[0]] - row[rivals[0]]) if rivals else 1.0)
        in_play = partner is not None and partner in ALLOWED[kind]
        doubtful.append(in_play and float(row[allowed[0]] - row[CHARS.index(partner)]) < PARTNER_MARGIN)
    return "".join(text), margins, doubtful


_NAME = re.compile(r"[A-Z]+(<[A-Z]+)*(<<[A-Z]+(<[A-Z]+)*)?<*")


def _zones(zone: Any) -> Iterator[tuple[list[str], list[list[float]], frozenset[tuple[int, int]]]]:
    """Candidate readings of a level zone: (lines, margins per position, positions whose partner is close)."""
    import numpy as np

    rows = [row for row in _glyph_rows(zone) if len(row) in WIDTHS]
    if not rows:
        return
    for width in WIDTHS:
        count = 3 if width == 30 else 2
        same = [row for row in rows if len(row) == width]
        for start in range(len(same) - count + 1):
            group = same[start : start + count]
            cap = float(min(np.median([h for *_, h in row]) for row in group))
            scores = [_scores(zone, row, cap) for row in group]
            first, _, _ = _choose(scores[0][:1], "A")
            classes = position_classes(count, width, first)
            if classes is None:
                continue
            lines, margins, uncertain = [], [], set()
            for line, (row_scores, kinds) in enumerate(zip(scores, classes, strict=True)):
                text, row_margins, doubtful = _choose(row_scores, kinds)
                lines.append(text)
                margins.append(row_margins)
                uncertain |= {(line, i) for i, doubt in enumerate(doubtful) if doubt}
            yield lines, margins, frozenset(uncertain)


def _clear(lines: list[str], margins: list[list[float]], data: MrzData) -> bool:
    """Every glyph beat its rivals clearly, and the name does not go on after its fillers.

    Check digits catch most misreadings but not all (a document number read ``80…`` for ``EG…`` keeps its
    digit: 7 × 14 + 3 × 16 and 7 × 8 + 3 × 0 both end in 6), and names have none: so a read is accepted only
    when every glyph was recognised with a margin.
    """
    row = 2 if data.mrz_format == "TD1" else 0
    start = 0 if data.mrz_format == "TD1" else 5
    if not _NAME.fullmatch(lines[row][start:]):
        return False
    return min(min(row_margins) for row_margins in margins) >= CLEAR_MARGIN


def _read_zone(zone: Any, today: date | None) -> MrzData | None:
    for lines, margins, uncertain in _zones(zone):
        try:
            data = parse_mrz_lines(lines, today=today, ocr=True, uncertain=uncertain)
        except MrzError:
            continue
        if _clear(lines, margins, data):
            return data
    return None


# --------------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------------


def read_mrz(image: Image.Image, *, today: date | None = None) -> MrzData:
    """The checked MRZ of an already loaded image (any mode); ``DecodeError("no_mrz_found")`` if none reads."""
    import numpy as np

    gray = np.asarray(image if image.mode == "L" else image.convert("L"))
    rects = _candidates(gray)
    attempts = [(rect, False) for rect in rects] + [(rect, True) for rect in rects]
    for rect, upside_down in attempts:
        data = _read_zone(_cut(gray, rect, upside_down=upside_down), today)
        if data is not None:
            return data
    raise DecodeError("no_mrz_found")


def read_mrz_image(
    data: bytes,
    *,
    today: date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> MrzData:
    """The checked MRZ in an uploaded photo or camera frame (JPEG, PNG or WebP bytes).

    Raises ``DecodeError``: ``load_image``'s codes for a bad upload, ``no_mrz_found`` when no zone reads with
    every check digit agreeing, ``decoder_unavailable`` without the OCR-B font on the machine.
    """
    return read_mrz(load_image(data, max_bytes=max_bytes, max_pixels=max_pixels), today=today)
