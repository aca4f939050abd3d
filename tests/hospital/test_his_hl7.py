"""HL7 v2 ADT over MLLP (issue 13): two HIS dialects through a real socket to the listener of
`flask hospital mllp`, filed by the hospital's rules on the filing core."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from asm.clock import utcnow
from asm.extensions import db
from asm.hospital.his import mllp
from asm.hospital.his.mllp import Listener
from asm.hospital.models import BedAssignment, BedStatus, Carer, HisMessage, HospitalEvent
from asm.people.models import Person
from asm.stays.models import EventKind, Stay, StayEvent, StayStatus
from tests.conftest import Factory
from tests.support.his import (
    Carer as CarerFacts,
)
from tests.support.his import (
    DialectA,
    DialectB,
    Patient,
    ack_code,
    err_segment,
    mllp_client,
)
from tests.support.hospital import Hospital, make_hospital

NAM = Patient("001085012345", "BN0001", "Trần", "Nam", "Văn", "19850615", "M")
LAN = Patient("001190023456", "BN0002", "Trần", "Lan", "Thị", "19900202", "F")
NO_ID = Patient(None, "BN0003", "Lê", "Bình", "Văn", "19700101", "M")
HOA = CarerFacts("034303011829", "Nguyễn", "Hoa", "Thị", "20030321", "F", ("CHD", "Con"))


@pytest.fixture
def hospital(app: Flask, factory: Factory) -> Hospital:
    return make_hospital(factory)


@pytest.fixture
def listener(app: Flask, hospital: Hospital) -> Iterator[Listener]:
    server = Listener(app, hospital.est.code, port=0)
    server.start()
    yield server
    server.stop()


def hours_ago(h: float) -> datetime:
    return utcnow() - timedelta(hours=h)


def counts() -> tuple[int, ...]:
    db.session.rollback()
    return tuple(
        db.session.scalar(select(func.count()).select_from(m)) or 0
        for m in (Stay, StayEvent, BedAssignment, HospitalEvent, Person, Carer)
    )


def stay_of(number: str) -> Stay:
    db.session.rollback()
    stay = db.session.scalar(
        select(Stay).join(Person).where(Person.doc_number == number).order_by(Stay.id.desc()).limit(1)
    )
    assert stay is not None, number
    return stay


@pytest.mark.parametrize("dialect", [DialectA(), DialectB()], ids=["cccd-in-pid3", "cccd-in-pid19"])
def test_an_adt_sequence_files_stays_beds_and_discharges(
    listener: Listener, hospital: Hospital, dialect: DialectA
) -> None:
    d = dialect
    with mllp_client(listener.host, listener.port) as his:
        ack = his.send(d.admit("M1", NAM, "V1", "K1^P101^K1-101-1", hours_ago(6), carers=(HOA,)))
        assert ack_code(ack) == "AA", ack
        # The ACK came after the commit: this session (another connection) already sees the stay.
        nam = stay_of(NAM.cccd or "")
        assert nam.role == "patient" and nam.status == StayStatus.IN_HOUSE and nam.receipt_no
        assert nam.arrived_at == hours_ago(6).replace(microsecond=0) or abs(nam.arrived_at - hours_ago(6)) < timedelta(
            seconds=2
        )
        carer = stay_of(HOA.cccd)
        assert carer.role == "carer" and carer.status == StayStatus.IN_HOUSE
        assert ack_code(his.send(d.admit("M2", LAN, "V2", "K1^P101^K1-101-2", hours_ago(5)))) == "AA"
        assert ack_code(his.send(d.transfer("M3", NAM, "V1", "K2^P201^K2-201-1", hours_ago(4)))) == "AA"
        assert ack_code(his.send(d.discharge("M4", LAN, "V2", "K1^P101^K1-101-2", hours_ago(3)))) == "AA"
        # Registration and pre-admission: accepted, nothing filed.
        before = counts()
        assert ack_code(his.send(d.other("A04", "M5", LAN, "V9", "", hours_ago(2)))) == "AA"
        assert ack_code(his.send(d.other("A05", "M6", LAN, "V9", "", hours_ago(2)))) == "AA"
        assert counts() == before
        # A resent message (same control ID) answers the same ACK and files nothing.
        again = his.send(d.admit("M1", NAM, "V1", "K1^P101^K1-101-1", hours_ago(6), carers=(HOA,)))
        assert ack_code(again) == "AA" and again == ack
        assert counts() == before

    nam = stay_of(NAM.cccd or "")
    assert nam.status == StayStatus.IN_HOUSE and nam.room.name == "P201"
    assert [e.kind for e in nam.events] == [EventKind.CHECK_IN, EventKind.MOVE]
    assert stay_of(HOA.cccd).room.name == "P201"  # the carer follows the patient
    lan = stay_of(LAN.cccd or "")
    assert lan.status == StayStatus.CHECKED_OUT
    assert abs(lan.departed_at - hours_ago(3)) < timedelta(seconds=5)
    db.session.expire_all()
    assert hospital.bed("K2-201-1").status == BedStatus.OCCUPIED
    assert hospital.bed("K1-101-1").status == BedStatus.CLEANING
    assert hospital.bed("K1-101-2").status == BedStatus.CLEANING
    kept = db.session.scalar(select(HisMessage).where(HisMessage.key == "M1"))
    assert kept is not None and kept.status == "applied" and kept.received_count == 2


def test_malformed_and_refused_messages_get_ae_or_ar_and_store_nothing(listener: Listener, hospital: Hospital) -> None:
    d = DialectA()
    before = counts()
    with mllp_client(listener.host, listener.port) as his:
        unknown_bed = his.send(d.admit("X1", NAM, "V1", "K1^P101^K9-999", hours_ago(2)))
        assert ack_code(unknown_bed) == "AE"
        assert "bed_unknown" in unknown_bed and "K9-999" in err_segment(unknown_bed)
        wrong_ward = his.send(d.admit("X2", NAM, "V1", "K2^P201^K1-101-1", hours_ago(2)))
        assert ack_code(wrong_ward) == "AE" and "location_mismatch" in wrong_ward
        unknown_visit = his.send(d.transfer("X3", NAM, "V404", "K2^P201^K2-201-1", hours_ago(1)))
        assert ack_code(unknown_visit) == "AE" and "admission_unknown" in unknown_visit
        bad_cccd = Patient("001085999999", "BN9", "Trần", "Sai", "Văn", "19600101", "F")
        wrong_person = his.send(d.admit("X4", bad_cccd, "V5", "K1^P101^K1-101-1", hours_ago(1)))
        assert ack_code(wrong_person) == "AE" and "ERR|" in wrong_person
        # An A01 whose carer has no document is refused whole: the patient is not admitted either.
        no_doc = CarerFacts("", "Lê", "Ba", "Văn", "19600101", "M", ("FTH", "Bố"))
        half = his.send(d.admit("X5", NAM, "V6", "K1^P101^K1-101-1", hours_ago(1), carers=(no_doc,)))
        assert ack_code(half) == "AE" and "carer_document_missing" in half
        # Not understood: not HL7, an unsupported version or message type.
        assert ack_code(his.send("this is not hl7")) == "AR"
        v29 = d.admit("X6", NAM, "V7", "K1^P101^K1-101-1", hours_ago(1)).replace("|P|2.5", "|P|2.9")
        assert ack_code(his.send(v29)) == "AR"
        orm = d.admit("X7", NAM, "V7", "K1^P101^K1-101-1", hours_ago(1)).replace("ADT^A01^ADT_A01", "ORM^O01")
        assert ack_code(his.send(orm)) == "AR"
        # Broken frames: bytes outside a block, a block cut by the next one; the listener still answers.
        his.send_raw(b"garbage before any block\x1c\x0d")
        his.send_raw(b"\x0bMSH|^~\\&|HIS|BV|half a messa")
        assert ack_code(his.send(d.admit("X8", LAN, "V8", "K1^P101^K1-101-2", hours_ago(1)))) == "AA"
    after = counts()
    assert after[0] == before[0] + 1  # only X8's stay
    db.session.rollback()
    errors = {m.key: m for m in db.session.scalars(select(HisMessage).where(HisMessage.status != "applied"))}
    assert {"X1", "X2", "X3", "X4", "X5", "X6", "X7"} <= set(errors)
    assert errors["X1"].error_code == "bed_unknown" and "K9-999" in errors["X1"].raw


def test_a_refused_message_fixed_and_resent_is_applied(listener: Listener, hospital: Hospital) -> None:
    d = DialectA()
    with mllp_client(listener.host, listener.port) as his:
        early = d.transfer("T1", NAM, "V1", "K2^P201^K2-201-1", hours_ago(2))
        assert ack_code(his.send(early)) == "AE"  # the admission has not arrived yet
        assert ack_code(his.send(d.admit("T0", NAM, "V1", "K1^P101^K1-101-1", hours_ago(3)))) == "AA"
        assert ack_code(his.send(early)) == "AA"  # the same control ID: nothing was filed, so it is filed now
        assert ack_code(his.send(early)) == "AA"  # and now it is a duplicate
    assert stay_of(NAM.cccd or "").room.name == "P201"
    assert len(stay_of(NAM.cccd or "").events) == 2


def test_provisional_patient_identified_by_a08_cancellations(listener: Listener, hospital: Hospital) -> None:
    d = DialectB()
    with mllp_client(listener.host, listener.port) as his:
        # No CCCD: a provisional identity under the record number, a draft.
        assert ack_code(his.send(d.admit("P1", NO_ID, "V3", "K1^P102^K1-102-1", hours_ago(5)))) == "AA"
        db.session.rollback()
        draft = db.session.scalar(select(Stay).join(Person).where(Person.doc_type == "none"))
        assert draft is not None and draft.status == StayStatus.DRAFT
        assert draft.person.doc_number.endswith("-BN0003")
        # A discharge of a provisional patient is refused until the identity is known.
        assert ack_code(his.send(d.discharge("P2", NO_ID, "V3", "K1^P102^K1-102-1", hours_ago(1)))) == "AE"
        # A08 with the CCCD now: identified and filed (late: past the deadline or not, the rule decides).
        known = Patient("001060034567", "BN0003", "Trần", "Hùng", "Văn", "19600303", "M")
        assert ack_code(his.send(d.other("A08", "P3", known, "V3", "K1^P102^K1-102-1", hours_ago(1)))) == "AA"
        filed = stay_of("001060034567")
        assert filed.id == draft.id and filed.status == StayStatus.IN_HOUSE and filed.receipt_no
        # A03, then A13 (cancel discharge): in house again, back in the bed.
        assert ack_code(his.send(d.discharge("P4", known, "V3", "K1^P102^K1-102-1", hours_ago(0.5)))) == "AA"
        assert ack_code(his.send(d.other("A13", "P5", known, "V3", "K1^P102^K1-102-1", hours_ago(0.4)))) == "AA"
        reopened = stay_of("001060034567")
        assert reopened.status == StayStatus.IN_HOUSE and reopened.departed_at is None
        assert reopened.events[-1].kind == EventKind.REOPEN and reopened.events[-1].receipt_no
        # A11 (cancel admission): the stay is cancelled, the bed freed for cleaning.
        assert ack_code(his.send(d.other("A11", "P6", known, "V3", "", hours_ago(0.3)))) == "AA"
        assert stay_of("001060034567").status == StayStatus.CANCELLED
        db.session.expire_all()
        assert hospital.bed("K1-102-1").status == BedStatus.CLEANING


def test_the_ack_is_sent_only_after_the_commit(
    listener: Listener, hospital: Hospital, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filer is slowed between its work and the commit: an ACK sent before the commit would arrive while the
    stay is still invisible to another connection."""
    real = mllp.Filer.file

    def slow(self: mllp.Filer, raws: list[bytes], **kwargs: Any) -> tuple[list[str], list[str]]:
        out = real(self, raws, **kwargs)
        time.sleep(0.5)
        return out

    monkeypatch.setattr(mllp.Filer, "file", slow)
    with mllp_client(listener.host, listener.port) as his:
        assert ack_code(his.send(DialectA().admit("C1", NAM, "V1", "K1^P101^K1-101-1", hours_ago(1)))) == "AA"
        assert stay_of(NAM.cccd or "").status == StayStatus.IN_HOUSE


def test_the_reader_follows_python_hl7s_field_rules() -> None:
    """The listener reads fields by walking the parsed message itself (python-hl7's accessors cost most of a
    message's reading): every field, repetition and component it reads must be what `extract_field` gives,
    escapes, sub-components, repetitions and absent parts included."""
    import hl7

    from asm.hospital.his.hl7v2 import Reader

    text = (
        "MSH|^~\\&|HIS|BV|ASM|BV|20261120090000||ADT^A01^ADT_A01|C9|P|2.5\r"
        "EVN|A01|20261120\r"
        "PID|1||BN1^^^BV^MR~001234567890^^^BCA^NI~~X&Y&Z^A||Tr\\F\\an^Nam^V\\S\\an&sub||19800101|M|||"
        "1 Ph\\T\\o Hue^^Ha Noi^^^VNM~second||||||ACC9|001234567890\r"
        "NK1|1|Le^Thi^Ho\\E\\F\\E\\a|SPO^Vo|||CG^Caregiver|20261120|||||||F|19810101\r"
        "NK1|2|A\r"
        "PV1|1|I|K1^P1^B1^^^x&y|||||||||||||||||V\\E\\F\\E\\9"
    )
    message = hl7.parse(text)
    reader = Reader(message)

    def library(segment: str, seg_no: int, fld: int, rep: int, comp: int) -> str:
        try:
            value = message.extract_field(segment, seg_no, fld, rep, comp)
        except (KeyError, IndexError):
            return ""
        return message.unescape(str(value)).strip() if value else ""

    def library_repetitions(segment: str, seg_no: int, fld: int) -> int:
        n = 0
        while n < 20:
            try:
                message.extract_field(segment, seg_no, fld, n + 1, 1)
            except (KeyError, IndexError):
                break
            n += 1
        return n

    for segment in ("MSH", "EVN", "PID", "NK1", "PV1", "ZZZ"):
        for seg_no in (1, 2, 3):
            for fld in range(1, 25):
                assert reader.repetitions(segment, fld, seg_no) == library_repetitions(segment, seg_no, fld)
                for rep in (1, 2, 3, 4):
                    for comp in (1, 2, 3, 5, 6):
                        expected = library(segment, seg_no, fld, rep, comp)
                        assert reader.get(segment, fld, rep, comp, seg_no) == expected, (segment, seg_no, fld, rep)


# What a HIS's ADT message carries beside the segments read (HL7 v2.5 chapter 3's ADT_A01 structure), between them.
EXTRA_SEGMENTS = {
    "EVN": ["PD1|||Bệnh viện Thử^^BV01"],
    "PID": ["PV2|||^Sốt cao"],
    "PV1": [
        "OBX|1|NM|8302-2^Chiều cao^LN||170|cm|||||F",
        "OBX|2|NM|29463-7^Cân nặng^LN||65|kg|||||F",
        "AL1|1|DA|^Penicillin|SV",
        "DG1|1||A09^Tiêu chảy^I10||20261120|A",
        "IN1|1|BHYT|79|Bảo hiểm xã hội||||||||||||||||||||||||||||||||||||||HS4010123456789",
        "ZBV|1|thông tin riêng của HIS",
    ],
}


def with_extra_segments(message: str, sep: str) -> str:
    lines = []
    for line in message.split(sep):
        lines.append(line)
        lines += EXTRA_SEGMENTS.get(line[:3], [])
    return sep.join(lines)


@pytest.mark.parametrize("dialect", [DialectA(), DialectB()], ids=["cccd-in-pid3", "cccd-in-pid19"])
def test_the_segments_not_read_change_nothing_and_are_kept(
    listener: Listener, hospital: Hospital, dialect: DialectA
) -> None:
    """Only the segments read are parsed (MSH, EVN, PID, PV1, NK1): a message carrying PD1, PV2, OBX, AL1, DG1, IN1
    and a Z-segment translates to the same events and ACK as without them, files the same stay, and is kept whole."""
    from asm.hospital.his import hl7v2

    plain = dialect.admit("X1", NAM, "VX1", "K1^P101^K1-101-1", hours_ago(2), carers=(HOA,))
    full = with_extra_segments(plain, dialect.sep)
    assert full.count(dialect.sep) == plain.count(dialect.sep) + 8
    kept, read = (hl7v2.translate(hl7v2.text_of(m.encode()), establishment_id=1) for m in (plain, full))
    assert (read.events, read.refusal, read.kind, read.version) == (kept.events, kept.refusal, kept.kind, kept.version)
    assert read.events[0].type == "admission" and len(read.events) == 2  # the patient and the carer
    assert read.message is not None and {str(segment[0]) for segment in read.message} == hl7v2.READ
    msa = [next(s for s in hl7v2.ack(t, "AA", facility="BV").split("\r") if s.startswith("MSA")) for t in (kept, read)]
    assert msa[0] == msa[1]
    with mllp_client(listener.host, listener.port) as his:
        assert ack_code(his.send(full)) == "AA"
    assert stay_of(NAM.cccd or "").role == "patient" and stay_of(HOA.cccd).role == "carer"
    stored = db.session.scalar(select(HisMessage.raw).where(HisMessage.key == "X1"))
    assert stored is not None and "OBX|2|NM|29463-7" in stored and "ZBV|1|" in stored
