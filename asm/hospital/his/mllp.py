"""The HL7 v2 listener: `flask hospital mllp --establishment CODE --host H --port P` (its own process).

MLLP framing (a block is <VT> message <FS><CR>) and the connections are python-hl7's asyncio server
(`hl7.mllp.start_hl7_server`); each message is translated by asm/hospital/his/hl7v2.py and filed by one worker
thread that holds the database: the messages waiting from every connection are filed together, one batch and one
commit for all (`inbox.file_units`, each message all or nothing), and each ACK is written only **after** that
commit. So eight connections cost about what one costs per transaction, and an ACK always means "stored". While
fewer messages than open connections are gathered, a group waits up to `MLLP_GROUP_WAIT_MS` for the next one (each
connection sends its next message when its ACK arrives, so they come back together; without the wait, groups of
one and seven alternated), four times that at most in all.

The command runs `MLLP_PROCESSES` such listeners (`serve`), forked after the port is bound and sharing it, each with
the connections it accepted and its own filer: one files while another waits for PostgreSQL. A connection's
messages stay in one process, in order; the command restarts a listener that dies.

What it survives:
- a broken frame: bytes outside <VT>...<FS><CR> are dropped (a block is read from its last <VT>); a block over
  `MLLP_MAX_MESSAGE_BYTES` is answered AR; text that is not HL7 or not UTF-8 is answered AR and kept for the
  operations page;
- a half-open connection: TCP keepalive on every socket, and a connection silent for `MLLP_IDLE_TIMEOUT_S` is
  closed; a client gone before its ACK loses nothing (it resends; the control ID answers the stored ACK);
- a database restart: a failed transaction is rolled back and the same messages are filed again on a new
  connection, for up to `MLLP_DB_RETRY_S`, before being answered AR (nothing stored: the sender resends). A commit
  whose answer was lost is recognised by the control IDs it stored: nothing is applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import signal
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask
from hl7.mllp import HL7StreamProtocol, HL7StreamReader, start_hl7_server
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError

from asm.clock import utcnow
from asm.common import Actor
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital.his import hl7v2, inbox
from asm.hospital.models import MessageStatus

log = logging.getLogger("asm.hospital.mllp")

START, END = b"\x0b", b"\x1c\x0d"
ACCEPT_YIELD_S = 0.002  # a process sharing the port waits this long per connection it serves before accepting
ACTOR = Actor(label="HIS: HL7 v2 (MLLP)", kind="system")
UNAVAILABLE = hl7v2.Refusal("AR", "unavailable", "The database is unavailable: send the message again later", "207")


Translated = tuple[str, hl7v2.Translation]  # a message's text and translation


@dataclass
class Pending:
    raw: bytes
    answer: asyncio.Future[str]  # the event loop's: the filer answers a whole group with one call into the loop
    translated: Translated | None


def refusal_of(error: dict[str, Any] | None) -> hl7v2.Refusal:
    """A refused event of the batch as an HL7 error: our code, the fields' messages, the HL7 code and location."""
    error = error or {}
    code = str(error.get("code", "refused"))
    fields = error.get("fields") or {}
    details = "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in fields.items())
    message = str(error.get("message", "")) + (f" ({details})" if details and details not in str(error) else "")
    if code in ("bed_unknown", "location_unknown", "location_mismatch", "location_missing", "ward_full"):
        return hl7v2.Refusal("AE", code, details or message, "103", "PV1^1^3")
    if code in ("bed_occupied", "carers_full"):
        return hl7v2.Refusal("AE", code, message, "206", "PV1^1^3" if code == "bed_occupied" else "NK1")
    if code in ("admission_unknown", "admission_exists", "admission_closed", "not_checked_out"):
        return hl7v2.Refusal("AE", code, message, "204", "PV1^1^19")
    if any(name.startswith("patient") for name in fields):
        return hl7v2.Refusal("AE", code, message, "102", "PID")
    if any(name.startswith("carer") for name in fields):
        return hl7v2.Refusal("AE", code, message, "102", "NK1")
    return hl7v2.Refusal("AE", code, message, "207")


class Filer:
    """Files groups of HL7 messages for one hospital and answers each with its ACK (used by the listener's worker
    thread, and by the operations page's replay). Needs an app context."""

    def __init__(self, establishment_code: str, *, cccd_systems: tuple[str, ...] = ("urn:vn:cccd",)) -> None:
        self.code = establishment_code
        self.cccd_systems = cccd_systems
        self._est_id: int | None = None

    def establishment_id(self) -> int:
        """The hospital's id (its code is looked up once: an id does not change)."""
        if self._est_id is None:
            est_id = db.session.scalar(select(Establishment.id).where(Establishment.code == self.code))
            if est_id is None:
                raise LookupError(f"no establishment {self.code!r}")
            self._est_id = est_id
        return self._est_id

    def establishment(self) -> Establishment:
        est = db.session.get(Establishment, self.establishment_id())
        if est is None:
            raise LookupError(f"no establishment {self.code!r}")
        return est

    def translate(self, raw: bytes) -> Translated:
        """A message as text and as the hospital's events (pure: no database once the hospital's id is known; the
        listener translates each message as it arrives, while the filer waits for the rest of its group)."""
        try:
            text = hl7v2.text_of(raw)
        except UnicodeDecodeError:
            bad = hl7v2.Translation(control_id="", kind="?", version="", message=None)
            bad.refusal = hl7v2.Refusal("AR", "encoding_invalid", "The message is not UTF-8", "102", "MSH^1^18")
            return raw.decode("utf-8", errors="replace"), bad
        translation = hl7v2.translate(text, establishment_id=self.establishment_id(), cccd_systems=self.cccd_systems)
        if translation.refusal is None:  # most are applied: their ACK is ready before the transaction
            translation.accepted = hl7v2.ack(translation, "AA", facility=self.code)
        return text, translation

    def file(self, raws: list[bytes], *, translated: list[Translated] | None = None) -> tuple[list[str], list[str]]:
        """Answers (ACK texts) and statuses for the messages (`translated`: their translations, when already
        made); flushed, not committed: the caller commits, then sends the answers."""
        est_id = self.establishment_id()
        now = utcnow()
        if translated is None:
            translated = [self.translate(raw) for raw in raws]
        texts = [text for text, _t in translated]
        translations = [t for _text, t in translated]
        keys = [t.control_id or hl7v2.digest(text) for t, text in zip(translations, texts, strict=True)]
        # The hospital as it is now (its status with the police, its carer settings) and the messages already kept,
        # in one query.
        est, seen = inbox.stored_at(est_id, "hl7", sorted(set(keys)))
        if est is None:
            raise LookupError(f"no establishment {self.code!r}")
        answers: list[str | None] = [None] * len(raws)
        statuses = [""] * len(raws)
        refusals: dict[int, hl7v2.Refusal] = {}
        first: dict[str, int] = {}
        units: list[list[Any]] = []
        unit_of: dict[int, int] = {}
        for i, t in enumerate(translations):
            if keys[i] in first:
                continue
            first[keys[i]] = i
            kept = seen.get(keys[i])
            if kept is not None and t.control_id and kept.status in (MessageStatus.APPLIED, MessageStatus.IGNORED):
                answers[i], statuses[i] = kept.answer, "duplicate"
            elif t.refusal is not None:
                refusals[i] = t.refusal
                statuses[i] = MessageStatus.REJECTED if t.refusal.ack == "AR" else MessageStatus.REFUSED
                answers[i] = hl7v2.ack(t, t.refusal.ack, facility=self.code, refusal=t.refusal)
            elif t.ignored or not t.events:
                statuses[i] = MessageStatus.IGNORED
                answers[i] = t.accepted or hl7v2.ack(t, "AA", facility=self.code)
            else:
                unit_of[i] = len(units)
                units.append(t.events)
        results = inbox.file_units(est, units, actor=ACTOR, now=now) if units else []
        for i, u in unit_of.items():
            result = results[u]
            if result.status == "refused":
                refusals[i] = refusal_of(result.error)
                statuses[i] = MessageStatus.REFUSED
                answers[i] = hl7v2.ack(translations[i], "AE", facility=self.code, refusal=refusals[i])
            else:
                statuses[i] = MessageStatus.APPLIED
                answers[i] = translations[i].accepted or hl7v2.ack(translations[i], "AA", facility=self.code)
        received = []
        for key, i in first.items():
            refusal = refusals.get(i)
            received.append(
                inbox.Received(
                    key,
                    kind=translations[i].kind,
                    status=statuses[i] if statuses[i] != "duplicate" else MessageStatus.APPLIED,
                    raw=texts[i],
                    answer=answers[i] or "",
                    error_code=refusal.code if refusal else None,
                    error_message=refusal.message if refusal else None,
                    existing=seen.get(key),
                )
            )
        inbox.keep_all(est_id, "hl7", received, now=now)
        for i, key in enumerate(keys):
            if answers[i] is None:
                answers[i], statuses[i] = answers[first[key]], statuses[first[key]]
        db.session.flush()
        return [a or "" for a in answers], statuses

    def file_and_commit(
        self, raws: list[bytes], *, retry_s: float = 60.0, translated: list[Translated] | None = None
    ) -> list[str]:
        """`file`, committed; a lost connection (a database restart) is waited out for `retry_s` and the same
        messages filed again. Past that, every message is answered AR and nothing is stored."""
        deadline = time.monotonic() + retry_s
        pause = 0.05
        conflicts = 0
        if translated is None:
            translated = [self.translate(raw) for raw in raws]
        while True:
            try:
                answers, _statuses = self.file(raws, translated=translated)
                db.session.commit()
                return answers
            except IntegrityError:  # another process stored the same control ID or filled the same bed: again
                rollback()
                conflicts += 1
                if conflicts > 5:
                    raise
            except DBAPIError as exc:
                rollback()
                if time.monotonic() > deadline:
                    log.error("database unavailable for %.0f s, answering AR: %s", retry_s, exc)
                    empty = hl7v2.Translation(control_id="", kind="?", version="", message=None)
                    return [
                        self._unavailable(raw) or hl7v2.ack(empty, "AR", facility=self.code, refusal=UNAVAILABLE)
                        for raw in raws
                    ]
                log.warning("database error, filing again: %s", exc.__class__.__name__)
                time.sleep(pause)
                pause = min(pause * 2, 1.0)

    def _unavailable(self, raw: bytes) -> str:
        try:
            t = hl7v2.translate(hl7v2.text_of(raw), establishment_id=0)
        except UnicodeDecodeError:
            return ""
        return hl7v2.ack(t, "AR", facility=self.code, refusal=UNAVAILABLE)


def rollback() -> None:
    with contextlib.suppress(Exception):
        db.session.rollback()


class Listener:
    """One hospital's MLLP endpoint. `serve_forever()` runs until SIGINT/SIGTERM; `start()`/`stop()` run it in a
    thread (tests, the bench)."""

    def __init__(
        self,
        app: Flask,
        establishment_code: str,
        *,
        host: str = "127.0.0.1",
        port: int = 2575,
        sock: socket.socket | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.sock = sock  # a listening socket shared with other processes (`serve`), else one bound here
        config = app.config
        self.max_message = int(config["MLLP_MAX_MESSAGE_BYTES"])
        self.idle_timeout = float(config["MLLP_IDLE_TIMEOUT_S"])
        self.retry_s = float(config["MLLP_DB_RETRY_S"])
        self.group_max = int(config["MLLP_GROUP_MAX"])
        self.group_wait = float(config["MLLP_GROUP_WAIT_MS"]) / 1000
        self.filer = Filer(establishment_code, cccd_systems=tuple(config["HIS_FHIR_CCCD_SYSTEMS"]))
        self.queue: queue.Queue[Pending | None] = queue.Queue()
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self.connections = 0

    # -- running

    def serve_forever(self, *, signals: bool = True) -> None:
        with self.app.app_context():
            self.filer.establishment()  # refuse to start for an unknown hospital
            db.session.remove()
        asyncio.run(self._main(signals))

    def start(self) -> tuple[str, int]:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"signals": False}, daemon=True)
        self._thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the MLLP listener did not start")
        return self.host, self.port

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=30)

    async def _main(self, signals: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        if signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._loop.add_signal_handler(sig, self._stopping.set)
        if self.sock is not None:  # one of `serve`'s processes: accept in turn with the others
            self.port = self.sock.getsockname()[1]
            accepting = asyncio.create_task(self._accept_shared(self.sock))
            server = None
        else:
            server = await start_hl7_server(self._client, self.host, self.port, limit=self.max_message)
            self.port = server.sockets[0].getsockname()[1]
        self._worker = threading.Thread(target=self._work, name="mllp-filer", daemon=True)
        self._worker.start()
        log.info("MLLP listener for %s on %s:%s", self.filer.code, self.host, self.port)
        self.ready.set()
        if server is None:
            await self._stopping.wait()
            accepting.cancel()
        else:
            async with server:
                await self._stopping.wait()
                server.close()
        self.queue.put(None)
        await asyncio.get_running_loop().run_in_executor(None, self._worker.join, 30)

    # -- connections (the event loop)

    async def _accept_shared(self, sock: socket.socket) -> None:
        """Accept from the listening socket the processes share, as python-hl7's server would (its reader and
        protocol), but let the others go first in proportion to the connections this one serves already: every
        process wakes for each new connection and the first to accept takes it, so a HIS's connections, opened
        together, would otherwise be split by chance (eight between two: 6/2 or worse more than one time in four)."""
        loop = asyncio.get_running_loop()
        sock.setblocking(False)

        def protocol() -> HL7StreamProtocol:
            return HL7StreamProtocol(HL7StreamReader(limit=self.max_message), self._client)

        while True:
            if self.connections:
                await asyncio.sleep(ACCEPT_YIELD_S * min(self.connections, 8))
            try:
                conn, _address = await loop.sock_accept(sock)
            except OSError as exc:  # too many open files, a connection reset before it was accepted
                log.warning("accept failed: %s", exc)
                await asyncio.sleep(0.1)
                continue
            await loop.connect_accepted_socket(protocol, conn)
            await asyncio.sleep(0)  # its connection task starts and counts itself

    async def _client(self, reader: asyncio.StreamReader, writer: Any) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.connections += 1
        try:
            while True:
                try:
                    async with asyncio.timeout(self.idle_timeout):  # no task per message, unlike wait_for
                        block = await read_block(reader)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    break  # silent too long (half-open), or closed by the client
                except ValueError:  # over the size limit: dropped up to its end
                    empty = hl7v2.Translation(control_id="", kind="?", version="", message=None)
                    too_big = hl7v2.Refusal("AR", "message_too_large", f"Over {self.max_message} bytes", "100")
                    writer.writeblock(hl7v2.ack(empty, "AR", facility=self.filer.code, refusal=too_big).encode())
                    await writer.drain()
                    continue
                if block is None:
                    continue
                # Translated here, as it arrives: the filer is waiting for the rest of the group meanwhile (a
                # translation that fails is made again by the filer, which answers AR for what it cannot file).
                try:
                    translated: Translated | None = self.filer.translate(block)
                except Exception:
                    log.exception("translating a message failed")
                    translated = None
                pending = Pending(block, asyncio.get_running_loop().create_future(), translated)
                self.queue.put(pending)
                answer = await pending.answer
                writer.writeblock(answer.encode("utf-8"))
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.connections -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    # -- the filer (one thread holds the database)

    def _work(self) -> None:
        with self.app.app_context():
            while True:
                item = self.queue.get()
                if item is None:
                    break
                group = [item]
                stop = False
                # Every open connection may have a message on its way (each waits for its ACK before the next):
                # wait a moment for each next one, so that they share this transaction rather than each its own.
                limit = time.monotonic() + 4 * self.group_wait
                while len(group) < self.group_max:
                    wait = min(self.group_wait, limit - time.monotonic()) if len(group) < self.connections else 0.0
                    try:
                        more = self.queue.get(timeout=wait) if wait > 0 else self.queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    group.append(more)
                try:
                    made = [p.translated for p in group]
                    answers = self.filer.file_and_commit(
                        [p.raw for p in group],
                        retry_s=self.retry_s,
                        translated=None if None in made else [t for t in made if t is not None],
                    )
                except Exception:
                    log.exception("filing failed")
                    rollback()
                    empty = hl7v2.Translation(control_id="", kind="?", version="", message=None)
                    answers = [hl7v2.ack(empty, "AR", facility=self.filer.code, refusal=UNAVAILABLE)] * len(group)
                assert self._loop is not None
                with contextlib.suppress(RuntimeError):  # the loop is closed: no connection waits any more
                    self._loop.call_soon_threadsafe(deliver, group, answers)
                db.session.remove()
                if stop:
                    break


def deliver(group: list[Pending], answers: list[str]) -> None:
    """The answers of a group committed, to their connections (in the event loop; a connection gone has none)."""
    for p, answer in zip(group, answers, strict=True):
        if not p.answer.done():
            p.answer.set_result(answer)


async def read_block(reader: asyncio.StreamReader) -> bytes | None:
    """The next MLLP block's content, or None for bytes that are not one (dropped). ValueError: over the limit."""
    try:
        data = await reader.readuntil(END)
    except asyncio.LimitOverrunError as exc:
        await reader.readexactly(exc.consumed)  # drop what was read; the rest up to <FS><CR> has no <VT>
        raise ValueError("message too large") from None
    start = data.rfind(START)
    if start < 0:
        log.warning("dropped %d bytes outside an MLLP block", len(data))
        return None
    return data[start + 1 : -len(END)]


def serve(app: Flask, establishment_code: str, *, host: str, port: int, processes: int) -> None:
    """The command's server: one listener, or `processes` listeners in processes of their own sharing one listening
    socket, bound before they are forked (each connection goes to whichever accepts it first). Each process files
    the groups of its own connections: while one waits for PostgreSQL another translates and files, so a hospital
    with many connections uses more than one core (docs/PERFORMANCE.md). The parent only watches: SIGTERM or SIGINT
    stops every listener (each finishes its group and answers it), and a listener that dies is started again."""
    if processes <= 1:
        Listener(app, establishment_code, host=host, port=port).serve_forever()
        return
    sock = socket.create_server((host, port), backlog=128)
    with app.app_context():
        db.engine.dispose()  # no pooled connection may be shared by the forked processes
    children: dict[int, int] = {}  # pid -> slot
    stopping = threading.Event()

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # the listener: its own signal handlers, its own database connections
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                Listener(app, establishment_code, host=host, port=port, sock=sock).serve_forever()
            except BaseException:
                log.exception("MLLP listener %d failed", slot)
                code = 1
            finally:
                os._exit(code)
        children[pid] = slot

    def stop(signum: int, _frame: Any) -> None:
        stopping.set()
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for first in range(processes):
        spawn(first)
    log.info("MLLP listener for %s on %s:%s: %d processes", establishment_code, host, port, processes)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        ended = children.pop(pid) if pid in children else None
        if ended is not None and not stopping.is_set():
            log.error("MLLP listener %d (pid %d) ended (status %d): started again", ended, pid, status)
            time.sleep(1)
            if not stopping.is_set():
                spawn(ended)
    sock.close()
