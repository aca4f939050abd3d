"""Helpers shared by the tests."""

GIVEN_NAMES = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam")


def given_name(n: int) -> str:
    """A name of letters only for the number n (a person's name holds no digit): 0 → "An", 12 → "Bình Chi"."""
    return " ".join(GIVEN_NAMES[int(digit)] for digit in str(n))
