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
2. Deskew: the block's minimum-area rectangle gives a first angle and the zone is cut from the full-resolution
   frame. The glyphs found in that cut give the lines' own angle (``_tilt``: the block may take in the page's
   edge) and the characters' lean (``_slant``: a page held at an angle shears the zone); both are taken out
   in one more warp of the frame.
3. Rows: an adaptive threshold and connected components give the glyph boxes, grouped into rows. A row of
   exactly 44, 36 or 30 single glyphs (wide marks touching its ends left out) gives the columns; another row
   of the zone with a glyph broken in two, two glyphs touching, or a few glyphs lost in glare is regridded to
   those columns (``_regrid``).
4. Read, twice: a first reading at one scale labels the glyphs; from it come each glyph's own scale (a plane
   over the zone: perspective makes one end of a line larger; a factor for what blur adds to every box,
   chosen by the templates' own fit) and the height each character should have there: OCR-B's digits are
   about 7 % taller than its capitals, which tells ``0`` from ``O``, ``2`` from ``Z``, ``8`` from ``B``. The
   second reading matches every glyph at its own scale (one matrix product of all its patches with all 111
   templates) and takes off the score of characters whose height does not fit. Where the format says a
   position holds only letters (names, state codes) or only digits (dates, check digits), only those
   compete (``mrz.position_classes``).
5. Accept: the lines are parsed with the OCR correction; names carry no check digit, so a name whose
   characters were not clearly recognised (a small margin between the best two templates), or that goes on
   after its fillers, is refused rather than guessed. When the first zone does not read, the same zone turned
   half a turn (a page held upside down), then the next candidate, are tried.
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
PARTNER_MARGIN = 0.03  # a 0 beating O (1/I, 5/S…) by less than this is left to the check digits to settle
CLEAR_MARGIN = 0.01  # each glyph must beat its best rival by this much correlation, or the read is refused
_DETECT_WIDTH = 800
_CHAR_HEIGHT = 32
_CANVAS = (20, 26)  # template width, height in pixels
_CAP = 16.0  # cap height on the canvas
_BLURS = (0.0, 0.1, 0.2)  # template blur, as a fraction of the cap height
HEIGHT_TOLERANCE = 0.02  # a box may differ this much (fraction of the cap height) from its expected height
HEIGHT_WEIGHT = 0.5  # correlation taken off per unit of height misfit beyond the tolerance
_HEIGHT_OUTLIER = 0.035  # a box further than this from the fitted height is left out of the fit


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


def _window(image: Any, cx: float, cy: float, cap: float, canvas: tuple[int, int], canvas_cap: float) -> Any:
    """A canvas around (cx, cy) of an ink-bright float image, scaled so ``cap`` pixels become ``canvas_cap``."""
    import cv2
    import numpy as np

    width, height = canvas
    s = cap / canvas_cap
    matrix = np.array([[s, 0, cx - s * (width - 1) / 2], [0, s, cy - s * (height - 1) / 2]], dtype=np.float32)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(image, matrix, (width, height), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


@functools.cache
def _templates() -> tuple[Any, dict[str, float]]:
    """(37 characters × blur levels × canvas pixels) unit vectors (float32), and each glyph's height / cap height
    (OCR-B's digits are about 7 % taller than its capitals, its filler ``<`` 12 % shorter)."""
    import cv2
    import numpy as np

    canvas, canvas_cap = _CANVAS, _CAP
    path = ocr_b_font()
    if path is None:
        raise DecodeError("decoder_unavailable", name="OCR-B")
    font = ImageFont.truetype(path, 100)
    cap = float(font.getbbox("H", anchor="ls")[3] - font.getbbox("H", anchor="ls")[1])
    vectors, ratios = [], {}
    for char in CHARS:
        image = Image.new("L", (160, 160), 0)
        ImageDraw.Draw(image).text((40, 140), char, font=font, fill=255, anchor="ls")
        ink = np.asarray(image, np.float32) / 255
        ys, xs = np.nonzero(ink > 0.5)
        ratios[char] = (ys.max() - ys.min() + 1) / cap
        cx, cy = (xs.min() + xs.max()) / 2, 140 - cap / 2
        levels = []
        for blur in _BLURS:
            blurred = cv2.GaussianBlur(ink, (0, 0), blur * cap) if blur else ink
            levels.append(_unit(_window(blurred, cx, cy, cap, canvas, canvas_cap)))
        vectors.append(levels)
    return np.array(vectors, np.float32), ratios


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
    block = cv2.erode(block, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)), iterations=2)  # None: the same 3×3
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


def _cut(gray: Any, rect: Rect) -> Any:
    """The zone cut from the full frame, level and upright, with margins, scaled so a character is ~32 px high.

    The block's rectangle gives a first angle; the glyphs found in that cut give the lines' own angle (the block
    may take in the page's edge) and how far the characters lean (perspective shears the zone even when its
    lines are level): both are taken out in a second warp of the frame.
    """
    import cv2
    import numpy as np

    (cx, cy), (w, h), angle = rect
    out_w, out_h = w * 1.08 + 12, h * 1.7 + 12
    zoom = min(4.0, max(1.0, _CHAR_HEIGHT / max(1.0, h * 0.3)))
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, zoom)
    matrix[0, 2] += out_w * zoom / 2 - cx
    matrix[1, 2] += out_h * zoom / 2 - cy
    size = (round(out_w * zoom), round(out_h * zoom))
    zone = cv2.warpAffine(gray, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    tilt = _tilt(*_components(zone))
    correction = np.eye(3)
    if abs(tilt) >= 0.3:
        correction = np.vstack([cv2.getRotationMatrix2D((size[0] / 2, size[1] / 2), tilt, 1.0), [0.0, 0.0, 1.0]])
        zone = cv2.warpAffine(
            gray,
            (correction @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2],
            size,
            flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )
    lean = _slant(zone)
    if abs(lean) >= 0.01:
        shear = np.array([[1.0, -lean, lean * size[1] / 2], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        correction = shear @ correction
    if not np.allclose(correction, np.eye(3)):
        full = (correction @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
        zone = cv2.warpAffine(gray, full, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return zone


_TILTS = tuple(i / 4 for i in range(-16, 17))  # degrees: ±4°, steps of 0.25°


def _tilt(boxes: list[Box], typical: float) -> float:
    """The angle (degrees, as cv2.getRotationMatrix2D takes it) that levels the lines of glyphs: the glyphs' centres,
    projected across each candidate angle, pile up in the fewest narrowest bins."""
    import numpy as np

    if len(boxes) < 20 or typical <= 0:
        return 0.0
    xs = np.array([x + w / 2 for x, _, w, _ in boxes])
    ys = np.array([y + h / 2 for _, y, _, h in boxes])
    best, best_score = 0.0, -1.0
    for tilt in _TILTS:
        across = ys - np.tan(np.radians(tilt)) * (xs - xs.mean())
        counts = np.bincount(np.floor((across - across.min()) / (0.25 * typical)).astype(int))
        score = float(np.dot(counts, counts))
        if score > best_score or (score == best_score and abs(tilt) < abs(best)):
            best, best_score = tilt, score
    return best


_LEANS = tuple(i / 50 for i in range(-12, 13))  # tan of the lean: about ±13.5°, steps of about 1.1°


def _slant(zone: Any) -> float:
    """How far the characters lean (tan of the angle, positive: tops to the right), by deslanting a small copy of
    the zone's ink each candidate way: upright strokes stack into the sharpest column profile."""
    import cv2
    import numpy as np

    small = cv2.resize(zone, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    ink = cv2.morphologyEx(small, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    ink = ink.astype(np.float32)
    height, width = ink.shape

    def sharpness(lean: float) -> float:
        matrix = np.array([[1, -lean, lean * height / 2], [0, 1, 0]], dtype=np.float32)
        profile = cv2.warpAffine(ink, matrix, (width, height), flags=cv2.INTER_LINEAR).sum(axis=0)
        return float(np.dot(profile, profile))

    coarse = max(_LEANS[::2], key=sharpness)
    return max((coarse - 0.02, coarse, coarse + 0.02), key=sharpness)


# --------------------------------------------------------------------------------------------------------
# Reading the glyphs
# --------------------------------------------------------------------------------------------------------

Box = tuple[int, int, int, int]


def _components(zone: Any) -> tuple[list[Box], float]:
    """The boxes (x, y, w, h) of the dark marks of glyph size in a zone, and their typical height."""
    import cv2
    import numpy as np

    zh = zone.shape[0]
    ink = cv2.adaptiveThreshold(
        zone, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, max(15, (zh // 4) | 1), 12
    )
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights, widths = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    plausible = (heights > zh * 0.06) & (heights < zh * 0.5) & (widths < heights * 2)
    if not plausible.any():
        return [], 0.0
    typical = float(np.median(heights[plausible]))
    boxes = [
        tuple(int(v) for v in stats[i + 1][:4])
        for i in range(count - 1)
        if 0.6 * typical <= heights[i] <= 1.45 * typical and widths[i] <= 3.2 * typical
    ]
    return boxes, typical  # type: ignore[return-value]


def _glyph_rows(zone: Any) -> list[list[Box]]:
    """Glyph boxes (x, y, w, h) grouped into rows, top to bottom, each left to right (a box may hold several
    touching glyphs, or a glyph be broken in two: ``_regrid`` sorts that out)."""
    import numpy as np

    boxes, typical = _components(zone)
    boxes.sort(key=lambda b: b[1] + b[3] / 2)
    rows: list[list[Box]] = []
    for box in boxes:
        centre = box[1] + box[3] / 2
        if rows and centre - float(np.mean([b[1] + b[3] / 2 for b in rows[-1]])) <= 0.6 * typical:
            rows[-1].append(box)
        else:
            rows.append([box])
    return [sorted(row) for row in rows if len(row) >= min(WIDTHS) // 2]  # a speck between the lines is no row


def _wide(row: list[Box]) -> list[bool]:
    """Which boxes of the row are wide enough to hold two glyphs (or a glyph and a mark that touches it)."""
    import numpy as np

    widths = [w for _, _, w, _ in row]
    limit = 1.6 * float(np.median(widths)) + 1 if row else 0.0
    return [w > limit for w in widths]


def _trimmed(row: list[Box]) -> list[Box]:
    """The row without wide boxes at its ends (the page's edge or a shadow touching the first or last glyph)."""
    row = list(row)
    while row and _wide(row)[0]:
        row.pop(0)
    while row and _wide(row)[-1]:
        row.pop()
    return row


_MAX_MISSING = 6  # columns a row may lack (a glyph lost in glare or merged into the page's edge) and still be read


def _regrid(row: list[Box], columns: Any) -> list[Box] | None:
    """The row's glyphs, one box per column of a row that read right (``columns``: its glyphs' centres, smoothed):
    pieces of a broken glyph joined, touching glyphs cut apart at the column boundaries, marks beyond the line's
    ends left out, and a column left empty (up to ``_MAX_MISSING``) given a box of the row's typical size; the
    templates then say what is there, and the check digits whether that was right. None when the row does not
    fit the columns."""
    import numpy as np

    pitch = np.diff(columns)
    pitch = np.concatenate([pitch, pitch[-1:]])
    edges = np.concatenate(
        [[columns[0] - pitch[0] / 2], (columns[:-1] + columns[1:]) / 2, [columns[-1] + pitch[-1] / 2]]
    )
    found: list[list[tuple[float, float, float, float]]] = [[] for _ in columns]
    for x, y, w, h in row:
        left, right = max(float(x), edges[0]), min(float(x + w), edges[-1])
        if right - left < 0.3 * pitch[0]:
            continue  # beyond the line's ends
        first = int(np.searchsorted(edges, left + 0.3 * pitch[0], side="right")) - 1
        last = int(np.searchsorted(edges, right - 0.3 * pitch[0], side="right")) - 1
        if last < first:  # a narrow box: its centre's column
            first = last = int(np.searchsorted(edges, (left + right) / 2, side="right")) - 1
        for k in range(max(first, 0), min(last, len(columns) - 1) + 1):
            a, b = (max(left, edges[k]), min(right, edges[k + 1])) if last > first else (left, right)
            found[k].append((a, y, b, y + h))
    empty = [k for k, parts in enumerate(found) if not parts]
    if len(empty) > _MAX_MISSING or len(empty) == len(found):
        return None
    width = float(np.median([w for _, _, w, _ in row]))
    height = float(np.median([h for _, _, _, h in row]))
    slope, intercept = _baseline(row)
    out: list[Box] = []
    for k, parts in enumerate(found):
        if not parts:
            bottom = slope * columns[k] + intercept
            parts = [(columns[k] - width / 2, bottom - height, columns[k] + width / 2, bottom)]
        x0, y0 = min(p[0] for p in parts), min(p[1] for p in parts)
        x1, y1 = max(p[2] for p in parts), max(p[3] for p in parts)
        out.append((round(x0), round(y0), max(1, round(x1 - x0)), max(1, round(y1 - y0))))
    return out


def _row_groups(rows: list[list[Box]]) -> Iterator[tuple[int, list[list[Box]]]]:
    """Groups of consecutive rows that make an MRZ of each width: a row of exactly that many single glyphs (once
    wide marks at its ends are left out) gives the columns; the other rows of the group are regridded to them."""
    import numpy as np

    for width in WIDTHS:
        count = 3 if width == 30 else 2
        for start in range(len(rows) - count + 1):
            group = rows[start : start + count]
            if any(abs(len(row) - width) > 4 for row in group):
                continue
            trimmed = [_trimmed(row) for row in group]
            clean = [len(row) == width and not any(_wide(row)) for row in trimmed]
            if not any(clean):
                continue
            if all(clean):
                yield width, trimmed
                continue
            index = np.arange(width)
            centres = np.mean(
                [[x + w / 2 for x, _, w, _ in row] for row, ok in zip(trimmed, clean, strict=True) if ok], axis=0
            )
            columns = np.polyval(np.polyfit(index, centres, 2), index)
            fixed = [row if ok else _regrid(row, columns) for row, ok in zip(trimmed, clean, strict=True)]
            if all(row is not None for row in fixed):
                yield width, fixed  # type: ignore[misc]


def _baseline(boxes: list[Box]) -> tuple[float, float]:
    """The row's baseline as (slope, intercept): the glyphs' bottoms, a straight line in x."""
    import numpy as np

    bottoms = np.array([y + h for _, y, _, h in boxes], float)
    xs = np.array([x + w / 2 for x, _, w, _ in boxes], float)
    slope, intercept = np.linalg.lstsq(np.vstack([xs, np.ones_like(xs)]).T, bottoms, rcond=None)[0]
    return float(slope), float(intercept)


_SLIDE_X, _SLIDE_Y = 3, 4  # pixels (at the canvas's scale) a template may move either way from its place


class _Ink:
    """A zone's ink (bright on dark, 0–1), reduced once to about the templates' scale (area averaging), so that
    each glyph's window is then sampled at nearly one to one."""

    def __init__(self, zone: Any, typical_cap: float) -> None:
        import cv2
        import numpy as np

        self.scale = min(1.0, _CAP / max(1.0, 0.85 * typical_cap))  # small pixels per zone pixel
        ink = (255.0 - zone.astype(np.float32)) / 255
        self.image = cv2.resize(ink, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)

    def windows(self, boxes: list[Box], caps: Any) -> Any:
        """(glyphs × height × width): a window per glyph, a few pixels larger than the template canvas, around the
        glyph's centre at the row's baseline, scaled so that ``caps[i]`` zone pixels become the canvas's cap."""
        import cv2
        import numpy as np

        win_w, win_h = _CANVAS[0] + 2 * _SLIDE_X, _CANVAS[1] + 2 * _SLIDE_Y
        slope, intercept = _baseline(boxes)
        caps = np.asarray(caps, np.float64)
        cx = np.array([x + w / 2 for x, _, w, _ in boxes], np.float64)
        cy = slope * cx + intercept - caps / 2
        step = caps / _CAP  # zone pixels per canvas pixel
        u = np.arange(win_w) - (win_w - 1) / 2
        v = np.arange(win_h) - (win_h - 1) / 2
        f = self.scale
        # zone coordinate z -> small image coordinate (z + 0.5) * f - 0.5 (pixel centres, as cv2.resize maps them)
        xs = ((cx[:, None] + step[:, None] * u[None, :]) + 0.5) * f - 0.5  # glyphs × width
        ys = ((cy[:, None] + step[:, None] * v[None, :]) + 0.5) * f - 0.5  # glyphs × height
        n = len(boxes)
        map_x = np.broadcast_to(xs[:, None, :], (n, win_h, win_w)).transpose(1, 0, 2).reshape(win_h, n * win_w)
        map_y = np.broadcast_to(ys[:, :, None], (n, win_h, win_w)).transpose(1, 0, 2).reshape(win_h, n * win_w)
        strip = cv2.remap(
            self.image,
            map_x.astype(np.float32),
            map_y.astype(np.float32),
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        return strip.reshape(win_h, n, win_w).transpose(1, 0, 2)


def _patches(windows: Any) -> tuple[Any, Any]:
    """Every canvas-sized patch of each window (glyphs × offsets × pixels), and 1 / the length of each patch less
    its mean (glyphs × offsets): the templates are centred and of unit length, so a patch's dot product with a
    template, times that factor, is their normalised correlation."""
    import numpy as np

    width, height = _CANVAS
    size = width * height
    views = np.lib.stride_tricks.sliding_window_view(windows, (height, width), axis=(1, 2))
    patches = np.ascontiguousarray(views).reshape(windows.shape[0], -1, size)
    sums = patches.sum(axis=2)
    squares = np.einsum("npd,npd->np", patches, patches)
    inverse = 1.0 / np.sqrt(np.maximum(squares - sums * sums / size, 1e-6))
    return patches, inverse


def _scores(ink: _Ink, boxes: list[Box], caps: Any, *, quick: bool = False) -> Any:
    """Correlation of each glyph with each character's template, at its best blur level and offset: (glyphs × 37).
    One matrix product of every glyph's patches with every template. ``quick``: the middle blur level only."""
    templates, _ = _templates()
    if quick:
        templates = templates[:, len(_BLURS) // 2 : len(_BLURS) // 2 + 1]
    count, levels, size = templates.shape
    patches, inverse = _patches(ink.windows(boxes, caps))
    corr = patches.reshape(-1, size) @ templates.reshape(count * levels, size).T  # (glyphs × offsets) × templates
    corr = corr.reshape(len(boxes), -1, count, levels) * inverse[:, :, None, None]
    return corr.max(axis=(1, 3))


def _candidate_scores(patches: Any, inverse: Any, candidates: list[list[int]]) -> Any:
    """(glyphs × 37): each glyph's correlation with its own candidate characters only (-1 elsewhere)."""
    import numpy as np

    templates, _ = _templates()
    k = max(len(c) for c in candidates)
    padded = np.array([c + c[:1] * (k - len(c)) for c in candidates])  # glyphs × k (repeats are harmless)
    vectors = templates[padded].reshape(len(candidates), -1, templates.shape[2])  # glyphs × (k·levels) × pixels
    corr = np.matmul(patches, vectors.transpose(0, 2, 1)) * inverse[:, :, None]  # glyphs × offsets × (k·levels)
    best = corr.max(axis=1).reshape(len(candidates), k, -1).max(axis=2)
    out = np.full((len(candidates), len(CHARS)), -1.0, np.float32)
    np.put_along_axis(out, padded, best, axis=1)
    return out


def _height_model(group: list[list[Box]], labels: list[str]) -> Any:
    """The glyph heights a first reading predicts: ``h = cap(x, y) × ratio(char) + delta``, fitted by least squares
    over the zone with outliers dropped. ``cap`` is a plane (perspective makes one end of a line larger than the
    other); ``delta`` takes up what blur and the threshold add to or take from every box alike. The characters'
    height ratios differ (digits are about 7 % taller than capitals in OCR-B: ``0``/``O``, ``2``/``Z``…), so
    a box's height says which of two look-alikes it is. Returns the four coefficients."""
    import numpy as np

    _, ratios = _templates()
    data, heights = [], []
    for row, text in zip(group, labels, strict=True):
        for (x, y, w, h), char in zip(row, text, strict=True):
            r = ratios[char]
            data.append((r, (x + w / 2) * r, (y + h) * r, 1.0))
            heights.append(h)
    a, b = np.array(data), np.array(heights, float)
    keep = np.ones(len(b), bool)
    coef = np.zeros(4)
    for _ in range(4):
        coef = np.linalg.lstsq(a[keep], b[keep], rcond=None)[0]
        cap = coef[0] + (coef[1] * a[:, 1] + coef[2] * a[:, 2]) / a[:, 0]
        new_keep = np.abs(a @ coef - b) / np.maximum(cap, 1.0) < _HEIGHT_OUTLIER
        if new_keep.sum() < 8 or (new_keep == keep).all():
            break
        keep = new_keep
    return coef


def _cap_plane(group: list[list[Box]], labels: list[str]) -> list[Any]:
    """Each glyph's cap height: box height over its character's height ratio, fitted as a plane over the zone
    (fillers left out: their thin strokes do not grow like the others' under blur)."""
    import numpy as np

    _, ratios = _templates()
    pts, est = [], []
    for row, text in zip(group, labels, strict=True):
        for (x, y, w, h), char in zip(row, text, strict=True):
            if char != "<":
                pts.append((x + w / 2, y + h, 1.0))
                est.append(h / ratios[char])
    a, b = np.array(pts), np.array(est)
    keep = np.ones(len(b), bool)
    coef = np.array([0.0, 0.0, float(np.median(b))]) if len(b) else np.zeros(3)
    for _ in range(4):
        if keep.sum() < 8:
            break
        coef = np.linalg.lstsq(a[keep], b[keep], rcond=None)[0]
        new_keep = np.abs(a @ coef - b) / np.maximum(b, 1.0) < _HEIGHT_OUTLIER
        if (new_keep == keep).all():
            break
        keep = new_keep
    return [np.array([[x + w / 2, y + h, 1.0] for x, y, w, h in row]) @ coef for row in group]


_SCALES = (0.8, 0.84, 0.88, 0.92, 0.96, 1.0)
_SCALE_GLYPHS = 32


def _scale_factor(ink: _Ink, group: list[list[Box]], labels: list[str], caps: list[Any]) -> float:
    """How much smaller than its box a glyph really is (blur and the threshold grow the boxes): the factor of the
    box-based cap heights under which the glyphs, read as first labelled, match their templates best. A glyph
    counts with the better of its label and the label's OCR partner, so a ``0`` first taken for an ``O`` does
    not pull the scale its way; fillers do not count, and at most ``_SCALE_GLYPHS`` glyphs spread over the zone."""
    import numpy as np

    chosen = [(r, i) for r, text in enumerate(labels) for i, char in enumerate(text) if char != "<"]
    if not chosen:
        return 1.0
    chosen = [chosen[round(j)] for j in np.linspace(0, len(chosen) - 1, min(len(chosen), _SCALE_GLYPHS))]
    boxes = [group[r][i] for r, i in chosen]
    base = np.array([caps[r][i] for r, i in chosen])
    options = [
        [CHARS.index(labels[r][i])] + ([CHARS.index(_PARTNER[labels[r][i]])] if labels[r][i] in _PARTNER else [])
        for r, i in chosen
    ]
    rows = [r for r, _ in chosen]
    totals = []
    for factor in _SCALES:
        total = 0.0
        for r in sorted(set(rows)):  # a row's glyphs share its baseline
            picked = [j for j, row in enumerate(rows) if row == r]
            patches, inverse = _patches(ink.windows([boxes[j] for j in picked], base[picked] * factor))
            scores = _candidate_scores(patches, inverse, [options[j] for j in picked])
            total += float(scores.max(axis=1).sum())
        totals.append(total)
    k = int(np.argmax(totals))
    if 0 < k < len(_SCALES) - 1:  # the top of a parabola through the best and its neighbours
        a, b, c = totals[k - 1], totals[k], totals[k + 1]
        denominator = a - 2 * b + c
        if denominator < 0:
            return _SCALES[k] + (_SCALES[1] - _SCALES[0]) * 0.5 * (a - c) / denominator
    return _SCALES[k]


def _height_penalty(row: list[Box], coef: Any) -> Any:
    """(glyphs × 37): how far each glyph's box is from each character's expected height, as a fraction of the cap
    height, beyond the fit's own noise."""
    import numpy as np

    _, ratios = _templates()
    r = np.array([ratios[c] for c in CHARS])
    out = []
    for x, y, w, h in row:
        cap = max(1.0, coef[0] + coef[1] * (x + w / 2) + coef[2] * (y + h))
        out.append(np.maximum(0.0, np.abs(h - (cap * r + coef[3])) / cap - HEIGHT_TOLERANCE))
    return np.array(out)


_PARTNER = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8", "2": "Z", "Z": "2"}
_ALLOWED_INDEX = {kind: [CHARS.index(c) for c in chars] for kind, chars in ALLOWED.items()}


class Margins(list[float]):
    """A line's margins: each glyph's score over its best rival (a list of floats), and in ``same`` over its best
    rival whose check-digit value is the same modulo 10 (a swap no check digit can see)."""

    same: list[float]


def _choose(scores: Any, classes: str) -> tuple[str, Margins, list[bool]]:
    """The best allowed character per position, and its margins over the best allowed rivals.

    A rival is any other allowed character except the best one's OCR partner (``0``/``O``…): when the two are
    close that choice is left to the check digits (``parse_mrz_lines(ocr=True)``); any other doubt refuses the
    read, except one doubt a check digit settles (``_clear``).
    """
    text: list[str] = []
    margins, doubtful = Margins(), []
    margins.same = []
    for row, kind in zip(scores, classes, strict=True):
        allowed = sorted(_ALLOWED_INDEX[kind], key=lambda j: -row[j])
        best = CHARS[allowed[0]]
        partner = _PARTNER.get(best)
        rivals = [j for j in allowed[1:] if CHARS[j] != partner]
        blind = [j for j in rivals if _DIGIT_VALUE[CHARS[j]] % 10 == _DIGIT_VALUE[best] % 10]
        text.append(best)
        margins.append(float(row[allowed[0]] - row[rivals[0]]) if rivals else 1.0)
        margins.same.append(float(row[allowed[0]] - row[blind[0]]) if blind else 1.0)
        in_play = partner is not None and CHARS.index(partner) in allowed
        doubtful.append(
            partner is not None and in_play and float(row[allowed[0]] - row[CHARS.index(partner)]) < PARTNER_MARGIN
        )
    return "".join(text), margins, doubtful


# A character's value in Doc 9303's check digits: 0–9, A = 10 … Z = 35, < = 0.
_DIGIT_VALUE = {c: i for i, c in enumerate("0123456789")} | {
    c: 10 + i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
}
_DIGIT_VALUE["<"] = 0


_NAME = re.compile(r"[A-Z]+(<[A-Z]+)*(<<[A-Z]+(<[A-Z]+)*)?<*")


def _zones(zone: Any) -> Iterator[tuple[list[str], list[Margins], frozenset[tuple[int, int]]]]:
    """Candidate readings of a level zone: (lines, margins per position, positions whose partner is close).

    A first reading at one scale for the whole zone (the rows' median box height) labels the glyphs. From it
    come each glyph's own scale (``_cap_plane`` times ``_scale_factor``: perspective makes one end of a line
    larger, blur makes every box larger than its glyph) and the heights each character should have
    (``_height_model``). The second reading matches every glyph at its own scale, and takes off the score of
    the characters whose height does not fit the box: a ``0`` is a little taller than an ``O``.
    """
    import numpy as np

    rows = _glyph_rows(zone)
    if not rows:
        return
    ink = _Ink(zone, float(np.median([h for row in rows for *_, h in row])))
    for width, group in _row_groups(rows):
        count = len(group)
        cap = float(min(np.median([h for *_, h in row]) for row in group))
        coarse = [_scores(ink, row, np.full(len(row), cap), quick=True) for row in group]
        first, _, _ = _choose(coarse[0][:1], "A")
        classes = position_classes(count, width, first)
        if classes is None:
            continue
        labels = [_choose(sc, kinds)[0] for sc, kinds in zip(coarse, classes, strict=True)]
        coef = _height_model(group, labels)
        caps = _cap_plane(group, labels)
        factor = _scale_factor(ink, group, labels, caps)
        caps = [row_caps * factor for row_caps in caps]
        lines: list[str] = []
        margins: list[Margins] = []
        uncertain: set[tuple[int, int]] = set()
        for line, (row, kinds, row_caps) in enumerate(zip(group, classes, caps, strict=True)):
            scores = _scores(ink, row, row_caps) - HEIGHT_WEIGHT * _height_penalty(row, coef)
            text, row_margins, doubtful = _choose(scores, kinds)
            lines.append(text)
            margins.append(row_margins)
            uncertain |= {(line, i) for i, doubt in enumerate(doubtful) if doubt}
        yield lines, margins, frozenset(uncertain)


def _checked_positions(data: MrzData) -> set[tuple[int, int]]:
    """The (line, position) pairs a check digit covers: the document number, dates, TD3's personal number, their
    digits, and everything under the composite digit."""
    from asm.idcard.mrz import _layout_for

    layout = _layout_for(list(data.lines))
    slots = [layout.number, layout.number_cd, layout.birth, layout.birth_cd, layout.expiry, layout.expiry_cd]
    slots += [s for s in (layout.optional_cd, layout.composite) if s is not None]
    if layout.optional_cd is not None:
        slots.append(layout.optional)
    slots += list(layout.composite_parts)
    return {(line, i) for line, start, end in slots for i in range(start, end)}


def _clear(lines: list[str], margins: list[Margins], data: MrzData) -> bool:
    """Every glyph beat its rivals clearly, and the name does not go on after its fillers.

    Names carry no check digit, and check digits miss some misreadings (a document number read ``80…`` for
    ``EG…`` keeps its digit: 7 × 14 + 3 × 16 and 7 × 8 + 3 × 0 both end in 6; a swap of characters whose values
    differ by a multiple of 10, ``B``/``L``/``1``, is never seen): so a read is accepted only when every glyph was
    recognised with a margin. One exception: a single glyph under a check digit may win narrowly over rivals the
    digit would catch (a different value modulo 10), as long as it beats the others clearly; the check digits
    have then agreed on it.
    """
    row = 2 if data.mrz_format == "TD1" else 0
    start = 0 if data.mrz_format == "TD1" else 5
    if not _NAME.fullmatch(lines[row][start:]):
        return False
    narrow = [(line, i) for line, m in enumerate(margins) for i, value in enumerate(m) if value < CLEAR_MARGIN]
    if not narrow:
        return True
    if len(narrow) > 1:
        return False
    line, i = narrow[0]
    return (line, i) in _checked_positions(data) and margins[line].same[i] >= CLEAR_MARGIN


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
    for rect in _candidates(gray):
        zone = _cut(gray, rect)
        for turned in (zone, zone[::-1, ::-1]):  # a page held upside down: the same zone, half a turn
            data = _read_zone(np.ascontiguousarray(turned), today)
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
