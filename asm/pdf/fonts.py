"""A Unicode TrueType family for PDFs, so Vietnamese text renders and can be extracted again.

The fonts are not shipped with the project: they come from the Debian package ``fonts-dejavu-core``.
Lookup order: the directory in ``ASM_PDF_FONT_DIR`` (if set, it must hold the files), then the file
``fc-match`` reports for "DejaVu Sans", then the usual Debian directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR_ENV = "ASM_PDF_FONT_DIR"
DEBIAN_PACKAGE = "fonts-dejavu-core"
DEFAULT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)

FAMILY = "DejaVuSans"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
ITALIC = "DejaVuSans-Oblique"
BOLD_ITALIC = "DejaVuSans-BoldOblique"

# reportlab font name -> file name in the DejaVu directory
_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    ITALIC: "DejaVuSans-Oblique.ttf",
    BOLD_ITALIC: "DejaVuSans-BoldOblique.ttf",
}

_lock = threading.Lock()
_registered = False


class FontNotFoundError(RuntimeError):
    """The Unicode font family needed for PDFs is not installed."""


@dataclass(frozen=True)
class FontFamily:
    regular: str = REGULAR
    bold: str = BOLD
    italic: str = ITALIC
    bold_italic: str = BOLD_ITALIC


def _has_all(directory: Path) -> bool:
    return all((directory / name).is_file() for name in _FILES.values())


def _fc_match_dir() -> Path | None:
    """The directory of DejaVu Sans as fontconfig sees it, or None (no fc-match, or another font)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        result = subprocess.run(
            [fc_match, "-f", "%{file}", "DejaVu Sans:style=Book"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(result.stdout.strip())
    # fc-match always answers with *some* font; only trust it when it is the one we asked for.
    if result.returncode != 0 or path.name != _FILES[REGULAR]:
        return None
    return path.parent


def find_font_dir() -> Path:
    """Return the directory holding the four DejaVu Sans files, or raise FontNotFoundError."""
    wanted = ", ".join(_FILES.values())
    override = os.environ.get(FONT_DIR_ENV, "").strip()
    if override:
        directory = Path(override)
        if _has_all(directory):
            return directory
        raise FontNotFoundError(
            f"{FONT_DIR_ENV}={override} does not hold all of {wanted}. "
            f"Point it at a directory that does, or unset it and install the Debian package "
            f"{DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE})."
        )
    candidates: list[Path] = []
    fc_dir = _fc_match_dir()
    if fc_dir is not None:
        candidates.append(fc_dir)
    candidates.extend(DEFAULT_DIRS)
    for directory in candidates:
        if _has_all(directory):
            return directory
    looked = ", ".join(str(d) for d in candidates)
    raise FontNotFoundError(
        f"The DejaVu Sans fonts ({wanted}) needed for Vietnamese PDFs were not found (looked in {looked}). "
        f"Install the Debian package {DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE}) "
        f"or set {FONT_DIR_ENV} to a directory holding these files."
    )


def register_fonts() -> FontFamily:
    """Register DejaVu Sans (regular, bold, oblique, bold oblique) with reportlab once per process."""
    global _registered
    with _lock:
        if not _registered:
            directory = find_font_dir()
            for font_name, file_name in _FILES.items():
                pdfmetrics.registerFont(TTFont(font_name, str(directory / file_name)))
            # Lets <b> and <i> inside Paragraph markup pick the right face.
            pdfmetrics.registerFontFamily(FAMILY, normal=REGULAR, bold=BOLD, italic=ITALIC, boldItalic=BOLD_ITALIC)
            _registered = True
    return FontFamily()
