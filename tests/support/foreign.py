"""A foreign guest for tests: a French passport whose MRZ a passport reader sends (tests/support/mrzdata.py)."""

from __future__ import annotations

from datetime import date

from tests.support.mrzdata import Document

PASSPORT = Document(
    fmt="TD3",
    code="P",
    issuing="FRA",
    surname="DUBOIS",
    given="JEAN PIERRE",
    number="15AB12345",
    nationality="FRA",
    birth="850612",
    sex="M",
    expiry="310101",
)
MRZ = "\r\n".join(PASSPORT.lines()) + "\r\n"  # as a passport reader ends its lines
NAME = "DUBOIS JEAN PIERRE"
NUMBER = "15AB12345"
EXPIRY = date(2031, 1, 1)
