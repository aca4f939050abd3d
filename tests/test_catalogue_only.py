"""The gettext catalogue is the only place a sentence lives: no inline Vietnamese/English tables in asm/ or kiosk/.

Words shown to people are msgids (Vietnamese) translated through asm/translations: `_()`/`_l()` in views,
`N_()` in module-level tables, a translations object in the pure builders (asm/i18n.py). This scan finds the
older pattern coming back: a `{"vi": …, "en": …}` table, a `("Tiếng Việt", "English")` pair, or code that picks
a text by comparing the locale with "vi" or "en".
"""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.joinpath("asm").rglob("*.py"), *ROOT.joinpath("kiosk").rglob("*.py")])
VIETNAMESE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ]")
CODE = re.compile(r"^[a-z_]+$")  # "thanh_pho", "xa": codes, not English
LOCALES = ("vi", "en")


def _str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def english(text: str) -> bool:
    return text.isascii() and text[:1].isalpha() and re.search("[a-z]", text) is not None and not CODE.match(text)


def inline_translations(source: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = {_str(k) for k in node.keys}
            if set(LOCALES) <= keys:
                found.append((node.lineno, 'a {"vi": …, "en": …} table'))
        elif isinstance(node, ast.Tuple) and len(node.elts) <= 3:  # (vi, en) or (status, vi, en), not word lists
            texts = [_str(e) for e in node.elts]
            for vi, en in itertools.pairwise(texts):
                if vi and en and VIETNAMESE.search(vi) and english(en):
                    found.append((node.lineno, f"a (vi, en) pair {vi!r} / {en!r}"))
        elif (
            isinstance(node, ast.Compare)
            and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops)
            and any(_str(side) in LOCALES for side in (node.left, *node.comparators))
        ):
            found.append((node.lineno, 'a text chosen by comparing the locale with "vi"/"en"'))
    return found


def test_the_scan_finds_each_pattern() -> None:
    assert inline_translations('T = {"vi": "Trang", "en": "Page"}')
    assert inline_translations('LABELS = {1: ("Khách sạn", "Hotel")}')
    assert inline_translations('E = {"name": ("họ và tên", "full name")}')
    assert inline_translations('E = {"big": (413, "Tệp quá lớn ({size} MB).", "Too large ({size} MB).")}')
    assert inline_translations('def f(locale):\n    return "Số: " if locale == "vi" else "No.: "')
    assert not inline_translations('T = {1: N_("Khách sạn")}\nKINDS = (("Thành phố ", "thanh_pho"),)')


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_inline_translations(path: Path) -> None:
    found = inline_translations(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.relative_to(ROOT)} translates inline: "
        + "; ".join(f"line {line}: {what}" for line, what in found)
        + ". Put the Vietnamese in the catalogue (N_/_/_l, or a translations object in a pure builder: asm/i18n.py)"
        " and its English in asm/translations/en/LC_MESSAGES/messages.po."
    )


PURE_BUILDERS = ["asm/i18n.py", "asm/exports.py", "asm/pdf/common.py", "asm/stays/pdf.py", "asm/hospital/pdf.py",
                 "asm/police/pdf.py", "asm/police/fines.py"]  # fmt: skip
APP_MODULES = ("flask", "flask_babel", "werkzeug", "asm.web", "asm.extensions")


@pytest.mark.parametrize("path", PURE_BUILDERS)
def test_the_pure_builders_import_no_flask(path: str) -> None:
    """The PDF and export builders take their words in (a translations object): none imports Flask or the app."""
    imported: list[str] = []
    for node in ast.walk(ast.parse(ROOT.joinpath(path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    app = [m for m in imported if m.startswith(APP_MODULES) or m.endswith(".models")]
    assert imported and not app, f"{path} imports {app}"
