// The offline queue (asm/static/offline/queue.js) with node's WebCrypto and an in-memory store: sealing round
// trip, order, removal only after the acknowledgement, back-off, the deadline rule, the offline PIN.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pbkdf2Sync, createHmac } from "node:crypto";

import {
  Queue, memoryStore, seal, openSealed, deadlineFor, offlineTooLong, outcomeOf, checkPinOffline, b64url, KEEP_REFUSED_MS,
} from "../../asm/static/offline/queue.js";

const NAME = "Nguyễn Thị Hoa";
const NUMBER = "001303001829";

async function keyPair() {
  const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  return { publicJwk: await crypto.subtle.exportKey("jwk", pair.publicKey), privateJwk: await crypto.subtle.exportKey("jwk", pair.privateKey) };
}

const body = (n) => JSON.stringify({ flow: "hotel_check_in", guests: [{ qr: `${NUMBER}||${NAME} ${n}|21032003|Nữ|x|01012021` }], scanned_at_ms: 1000 + n });

test("sealing: round trip, nothing readable, bound to its Idempotency-Key", async () => {
  const { publicJwk, privateJwk } = await keyPair();
  const envelope = await seal(publicJwk, body(1), "key-1");
  const text = JSON.stringify(envelope);
  assert.ok(!text.includes(NUMBER) && !text.includes("Hoa") && !text.includes("Nguy"));
  assert.equal(await openSealed(privateJwk, envelope, "key-1"), body(1));
  await assert.rejects(openSealed(privateJwk, envelope, "key-2")); // moved to another key: refused
  const other = await keyPair();
  await assert.rejects(openSealed(other.privateJwk, envelope, "key-1")); // another device's key: refused
  const twice = await seal(publicJwk, body(1), "key-1");
  assert.notEqual(twice.sealed.ct, envelope.sealed.ct); // a fresh key pair and IV every time
});

test("the store holds no name or ID number, only sealed envelopes and what the clerk may read", async () => {
  const { publicJwk } = await keyPair();
  const store = memoryStore();
  const queue = new Queue(store, { publicKey: publicJwk });
  await queue.add({ key: "a", body: body(1), kind: "check_in", arrivedMs: 0, deadlineMs: 5, note: { room: "101" } });
  const dump = JSON.stringify([...store.items.values()]);
  assert.ok(!dump.includes(NUMBER) && !dump.includes("Hoa"));
  assert.ok(dump.includes("101"));
});

test("sent in order, removed only after the acknowledgement, nothing after a filing still waiting", async () => {
  const { publicJwk, privateJwk } = await keyPair();
  let now = 1_000_000;
  const queue = new Queue(memoryStore(), { publicKey: publicJwk, now: () => now, random: () => 0 });
  for (const n of [1, 2, 3]) await queue.add({ key: `k${n}`, body: body(n), kind: "check_in", arrivedMs: n, deadlineMs: 100 - n });
  assert.deepEqual(await queue.summary().then((s) => [s.waiting, s.oldestDeadline]), [3, 97]);

  const sent = [];
  let serverUp = false;
  const send = async (item) => {
    sent.push(item.key);
    if (!serverUp) return { retry: true };
    const opened = JSON.parse(await openSealed(privateJwk, JSON.parse(item.envelope), item.key));
    assert.equal(opened.scanned_at_ms, 1000 + Number(item.key.slice(1)));
    return { ok: true };
  };
  await queue.flush(send);
  assert.deepEqual(sent, ["k1"]); // the first is not answered: the others wait behind it
  assert.equal((await queue.items()).length, 3);
  assert.deepEqual((await queue.items()).map((i) => i.waited), [true, true, true]); // all sent as "waited offline"
  const head = (await queue.items())[0];
  assert.equal(head.attempts, 1);
  assert.equal(head.nextAt, now + 2000);
  await queue.flush(send); // not due yet
  assert.deepEqual(sent, ["k1"]);
  now += 2001;
  await queue.flush(send);
  assert.equal((await queue.items())[0].nextAt, now + 4000); // doubled
  serverUp = true;
  await queue.wake();
  sent.length = 0;
  await queue.flush(send);
  assert.deepEqual(sent, ["k1", "k2", "k3"]);
  assert.equal((await queue.items()).length, 0);
});

test("a send that throws keeps the filing; a refusal and a conflict are kept for staff and do not block", async () => {
  const { publicJwk } = await keyPair();
  let now = 0;
  const queue = new Queue(memoryStore(), { publicKey: publicJwk, now: () => now });
  for (const n of [1, 2, 3, 4]) await queue.add({ key: `k${n}`, body: body(n), kind: "check_in", arrivedMs: n, deadlineMs: n, note: { room: String(n) } });
  const answers = { k1: { rejected: true, code: "validation_error" }, k2: { conflict: true, code: "already_checked_out", note: { at: 7 } }, k3: { ok: true } };
  const send = async (item) => {
    if (item.key === "k4") throw new TypeError("Failed to fetch");
    return answers[item.key];
  };
  await queue.flush(send, { force: true });
  const byKey = Object.fromEntries((await queue.items()).map((i) => [i.key, i]));
  assert.equal(byKey.k1.state, "rejected");
  assert.equal(byKey.k2.state, "conflict");
  assert.deepEqual(byKey.k2.note, { room: "2", at: 7 });
  assert.equal(byKey.k3, undefined);
  assert.equal(byKey.k4.state, "pending");
  const summary = await queue.summary();
  assert.equal(summary.waiting, 1);
  assert.equal(summary.conflicts.length, 1);
  now = KEEP_REFUSED_MS + 10;
  await queue.flush(async () => ({ retry: true }));
  assert.deepEqual((await queue.items()).map((i) => i.key), ["k4"]);
});

test("one flush at a time: a second call joins the first (no filing sent twice at once)", async () => {
  const { publicJwk } = await keyPair();
  const queue = new Queue(memoryStore(), { publicKey: publicJwk });
  await queue.add({ key: "only", body: body(1), kind: "check_in" });
  let calls = 0;
  const send = async () => {
    calls += 1;
    await new Promise((r) => setTimeout(r, 20));
    return { ok: true };
  };
  await Promise.all([queue.flush(send), queue.flush(send)]);
  assert.equal(calls, 1);
});

test("answers sorted into ok, retry, rejected, conflict", () => {
  assert.ok(outcomeOf(201, {}).ok);
  assert.ok(outcomeOf(0, {}).retry); // a redirect to the login page, fetched with redirect: "manual"
  assert.ok(outcomeOf(503, {}).retry);
  assert.ok(outcomeOf(409, { error: { code: "idempotency_in_progress" } }).retry);
  assert.ok(outcomeOf(400, { error: { code: "csrf" } }).retry);
  assert.equal(outcomeOf(409, { error: { code: "already_in_house" } }).conflict, true);
  assert.equal(outcomeOf(409, { error: { code: "conflict", conflict: "already_checked_out" } }).code, "already_checked_out");
  assert.equal(outcomeOf(422, { error: { code: "validation_error" } }).rejected, true);
});

test("the deadline: before 23:00 the same day, from 23:00 08:00 next day (Vietnam time)", () => {
  const vn = (s) => Date.parse(s + "+07:00");
  assert.equal(deadlineFor(vn("2026-11-20T22:58:00")), vn("2026-11-20T23:00:00"));
  assert.equal(deadlineFor(vn("2026-11-20T23:00:00")), vn("2026-11-21T08:00:00"));
  assert.equal(deadlineFor(vn("2026-11-20T00:10:00")), vn("2026-11-20T23:00:00"));
  assert.equal(deadlineFor(vn("2026-12-31T23:30:00")), vn("2027-01-01T08:00:00"));
  assert.equal(deadlineFor(vn("2026-11-20T21:00:00"), { evening: "22:00", morning: "07:30" }), vn("2026-11-20T22:00:00"));
});

test("offline too long", () => {
  assert.equal(offlineTooLong(null, 10 ** 9, 30), false);
  assert.equal(offlineTooLong(0, 30 * 60000, 30), false);
  assert.equal(offlineTooLong(0, 30 * 60000 + 1, 30), true);
});

test("the staff PIN offline: the server's PBKDF2, the approval it can check, the lockout, the time limit", async () => {
  const salt = Buffer.from("0123456789abcdef");
  const derived = pbkdf2Sync("2468", salt, 1000, 64, "sha256"); // what asm/offline.py pin_material makes
  const material = { salt: b64url(salt), iterations: 1000, verifier: b64url(derived.subarray(0, 32)), validUntilMs: 1_000_000, maxFailures: 5, lockMs: 300_000 };
  const ok = await checkPinOffline(material, null, "2468", "visit-key", 0);
  assert.equal(ok.ok, true);
  const expected = createHmac("sha256", derived.subarray(32)).update("visit-key").digest();
  assert.equal(ok.approval, "offline." + b64url(expected)); // what the server checks (asm/offline.py proof_valid)

  let lock = null;
  for (let left = 4; left >= 1; left--) {
    const wrong = await checkPinOffline(material, lock, "0000", "k", 0);
    assert.equal(wrong.left, left);
    lock = wrong.lock;
  }
  const locked = await checkPinOffline(material, lock, "0000", "k", 0);
  assert.equal(locked.locked, true);
  const still = await checkPinOffline(material, locked.lock, "2468", "k", 1000); // even the right PIN
  assert.equal(still.locked, true);
  assert.equal((await checkPinOffline(material, locked.lock, "2468", "k", 299_999)).locked, true);
  assert.equal((await checkPinOffline(material, locked.lock, "2468", "k", 300_001)).ok, true); // the lock is over
  assert.equal((await checkPinOffline(material, null, "2468", "k", 1_000_001)).expired, true); // held too long
});
