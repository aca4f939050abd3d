"""Rules for new passwords (pure): a minimum length, not a common password, not the user's name.

Common passwords: the 30,000 of the `zxcvbn` package (MIT; Dropbox's list from leaked password sets, as its
`frequency_lists.FREQUENCY_LISTS["passwords"]`) and a short Vietnamese list written for ASM
(`data/common_passwords_vi.txt`). A password is common when, lower-cased, it is on a list, or is a listed word
with digits and signs added before or after it ("Password2024!" is "password"). A list is read once per process.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

VI_LIST = Path(__file__).parent / "data" / "common_passwords_vi.txt"
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")


@functools.cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    own = (line.strip() for line in VI_LIST.read_text(encoding="utf-8").splitlines())
    return frozenset(FREQUENCY_LISTS["passwords"]) | {w for w in own if w and not w.startswith("#")}


def is_common(password: str) -> bool:
    lowered = password.strip().lower()
    words = common_passwords()
    if lowered in words:
        return True
    core = _EDGES.sub("", lowered)
    return len(core) >= 3 and core in words


def problems(password: str, *, username: str = "", min_length: int = 10) -> list[str]:
    """Codes of what is wrong with a new password: `password_short`, `password_common`, `password_username`,
    `password_repetitive` (fewer than four different characters). Empty: acceptable."""
    found = []
    if len(password) < min_length:
        found.append("password_short")
    if is_common(password):
        found.append("password_common")
    name = username.strip().lower()
    if name and len(name) >= 3 and name in password.lower():
        found.append("password_username")
    if len(set(password)) < 4:
        found.append("password_repetitive")
    return found
