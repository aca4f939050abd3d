// The offline queue of a kiosk or a desk tablet (docs/OFFLINE.md): filings kept in IndexedDB, sealed to the
// public key the server gave the device, sent in order when the server answers, each with its Idempotency-Key,
// and removed only after the server's acknowledgement. Also the offline staff PIN (PBKDF2) and the small rules
// the pages share (deadline, "offline too long"). ES module, no dependencies; runs in the browser and in node 20
// (WebCrypto), where tests/js/offline.test.js drives it with an in-memory store.
//
// Sealing: ECDH-ES on P-256 with a fresh key pair per filing, HKDF-SHA256 (info "asm-offline-v1"), AES-256-GCM
// with the Idempotency-Key as associated data. The device keeps only the public key: it cannot read back what it
// sealed, and neither can whoever takes its storage. The server opens the envelope (asm/offline.py).

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();
const dec = new TextDecoder();
export const INFO = "asm-offline-v1";
const P256 = { name: "ECDH", namedCurve: "P-256" };

export function b64url(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
export function unb64url(text) {
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

async function aesKey(privateKey, publicKey, usage) {
  const shared = await subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256);
  const hkdf = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: enc.encode(INFO) },
    hkdf,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

/** Seal a text (a filing's JSON) to the device's public key (a JWK from the server). */
export async function seal(publicJwk, text, aad) {
  const { kty, crv, x, y } = publicJwk;
  const server = await subtle.importKey("jwk", { kty, crv, x, y, ext: true }, P256, false, []);
  const mine = await subtle.generateKey(P256, true, ["deriveBits"]);
  const key = await aesKey(mine.privateKey, server, "encrypt");
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const ct = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode(aad) }, key, enc.encode(text));
  const epk = await subtle.exportKey("jwk", mine.publicKey);
  return { sealed: { v: 1, epk: { x: epk.x, y: epk.y }, iv: b64url(iv), ct: b64url(ct) } };
}

/** The server's side (asm/offline.py), for the tests: open an envelope with the private key. */
export async function openSealed(privateJwk, envelope, aad) {
  const { sealed } = envelope;
  const own = await subtle.importKey("jwk", privateJwk, P256, false, ["deriveBits"]);
  const peer = await subtle.importKey("jwk", { kty: "EC", crv: "P-256", ...sealed.epk, ext: true }, P256, false, []);
  const key = await aesKey(own, peer, "decrypt");
  const plain = await subtle.decrypt({ name: "AES-GCM", iv: unb64url(sealed.iv), additionalData: enc.encode(aad) }, key, unb64url(sealed.ct));
  return dec.decode(plain);
}

// ---------------------------------------------------------------- the deadline (asm/stays/rules.py)
const vnParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
const VN_OFFSET_MS = 7 * 3600 * 1000; // Vietnam keeps UTC+7 all year

/** Before the evening cut-off on the day of arrival; arrivals from the cut-off on, before the morning deadline of
 * the next day (Vietnam time). `rule` = {evening: "23:00", morning: "08:00"}; answers epoch milliseconds. */
export function deadlineFor(arrivedMs, rule = { evening: "23:00", morning: "08:00" }) {
  const p = Object.fromEntries(vnParts.formatToParts(new Date(arrivedMs)).map(({ type, value }) => [type, value]));
  const minutes = Number(p.hour) * 60 + Number(p.minute);
  const [eh, em] = rule.evening.split(":").map(Number);
  const [mh, mm] = rule.morning.split(":").map(Number);
  const day = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) - VN_OFFSET_MS; // 00:00 there
  if (minutes < eh * 60 + em) return day + (eh * 60 + em) * 60000;
  return day + 24 * 3600000 + (mh * 60 + mm) * 60000;
}

/** A device that has not reached its server for longer than the setting warns staff loudly. */
export function offlineTooLong(lastContactMs, nowMs, minutes) {
  return lastContactMs !== null && lastContactMs !== undefined && nowMs - lastContactMs > minutes * 60000;
}

// ---------------------------------------------------------------- stores
/** IndexedDB, one object store keyed by the Idempotency-Key. */
export function idbStore(name) {
  const opened = new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("items", { keyPath: "key" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const run = (mode, work) =>
    opened.then(
      (db) =>
        new Promise((resolve, reject) => {
          const tx = db.transaction("items", mode);
          const result = work(tx.objectStore("items"));
          tx.oncomplete = () => resolve(result.result);
          tx.onerror = tx.onabort = () => reject(tx.error);
        }),
    );
  return {
    all: () => run("readonly", (s) => s.getAll()),
    put: (item) => run("readwrite", (s) => s.put(item)),
    delete: (key) => run("readwrite", (s) => s.delete(key)),
  };
}

/** The same in memory, for the tests. */
export function memoryStore() {
  const items = new Map();
  return {
    items,
    all: async () => [...items.values()].map((v) => structuredClone(v)),
    put: async (item) => void items.set(item.key, structuredClone(item)),
    delete: async (key) => void items.delete(key),
  };
}

// ---------------------------------------------------------------- the queue
const RETRY_MAX_MS = 60000;
export const KEEP_REFUSED_MS = 7 * 24 * 3600 * 1000;

/**
 * Items: {key, seq, envelope (the sealed JSON, as sent), kind, arrivedMs, deadlineMs, createdAt, state
 * ("pending" | "rejected" | "conflict"), attempts, nextAt, waited (it, or one before it, found no server: sent
 * with X-Waited-Offline), code, note}. Only `envelope` says who the guest is,
 * and it is sealed; `note` holds what the clerk may read without the server (a room, a masked number).
 */
export class Queue {
  constructor(store, { publicKey, now = () => Date.now(), random = Math.random } = {}) {
    this.store = store;
    this.publicKey = publicKey;
    this.now = now;
    this.random = random;
    this.busy = null;
  }

  async items() {
    const items = await this.store.all();
    return items.sort((a, b) => a.seq - b.seq);
  }

  /** Keep a filing before its first try: `body` is its JSON text, sealed here with the key as associated data. */
  async add({ key, body, kind, arrivedMs, deadlineMs, note = {} }) {
    if (!this.publicKey) throw new Error("no key to seal with");
    const items = await this.items();
    const old = items.find((i) => i.key === key);
    const seq = old ? old.seq : items.reduce((n, i) => Math.max(n, i.seq), 0) + 1;
    const envelope = JSON.stringify(await seal(this.publicKey, body, key));
    const item = { key, seq, envelope, kind, arrivedMs, deadlineMs, note, createdAt: this.now(), state: "pending", attempts: 0, nextAt: 0, waited: false };
    await this.store.put(item);
    return item;
  }

  async remove(key) {
    await this.store.delete(key);
  }

  async summary() {
    const items = await this.items();
    const pending = items.filter((i) => i.state === "pending");
    const deadlines = pending.map((i) => i.deadlineMs).filter((d) => typeof d === "number");
    return {
      waiting: pending.length,
      oldestDeadline: deadlines.length ? Math.min(...deadlines) : null,
      rejected: items.filter((i) => i.state === "rejected"),
      conflicts: items.filter((i) => i.state === "conflict"),
    };
  }

  /** Make every waiting filing due now (the browser says it is online again). */
  async wake() {
    for (const item of await this.items()) if (item.state === "pending" && item.nextAt) await this.store.put({ ...item, nextAt: 0 });
  }

  /**
   * Send the waiting filings in the order they were made, one at a time. `send(item)` answers {ok}, {retry},
   * {rejected, code} or {conflict, code, note}. ok: the server acknowledged: removed. retry: no answer, busy:
   * kept, back-off, and nothing after it is sent (order). rejected / conflict: kept, marked, shown to staff (the
   * next ones go on). Refused and conflicting ones are dropped after KEEP_REFUSED_MS. Answers what was sent.
   */
  flush(send, { force = false } = {}) {
    if (!this.busy) this.busy = this._flush(send, force).finally(() => (this.busy = null));
    return this.busy;
  }

  async _flush(send, force) {
    const done = [];
    const items = await this.items();
    for (const [index, item] of items.entries()) {
      if (item.state !== "pending") {
        if (this.now() - item.createdAt > KEEP_REFUSED_MS) await this.remove(item.key);
        continue;
      }
      if (!force && (item.nextAt || 0) > this.now()) break;
      let outcome;
      try {
        outcome = await send(item);
      } catch (e) {
        outcome = { retry: true };
      }
      if (outcome.ok) {
        await this.remove(item.key);
        done.push({ key: item.key, ...outcome });
        continue;
      }
      if (outcome.rejected || outcome.conflict) {
        const state = outcome.conflict ? "conflict" : "rejected";
        await this.store.put({ ...item, state, code: outcome.code || "", note: { ...item.note, ...(outcome.note || {}) } });
        done.push({ key: item.key, ...outcome });
        continue;
      }
      const attempts = (item.attempts || 0) + 1;
      const delay = Math.min(RETRY_MAX_MS, 2000 * 2 ** (attempts - 1)) + this.random() * 500;
      await this.store.put({ ...item, attempts, nextAt: this.now() + delay, waited: true });
      // In order: nothing after a filing that is still waiting; they all wait for the server too.
      for (const later of items.slice(index + 1)) {
        if (later.state === "pending" && !later.waited) await this.store.put({ ...later, waited: true });
      }
      break;
    }
    return done;
  }

  async nextDue() {
    const head = (await this.items()).find((i) => i.state === "pending");
    return head ? head.nextAt || 0 : null;
  }
}

/** Classify a server answer to a queued filing (both the kiosk's /kiosk/api/nop and the desk's /ngoai-tuyen/nop). */
export function outcomeOf(status, body) {
  const code = (body && body.error && body.error.code) || "";
  if (status >= 200 && status < 300) return { ok: true, body };
  if (code === "conflict") return { conflict: true, code: body.error.conflict || code, note: body.error.note || {} };
  if (code === "already_in_house") return { conflict: true, code };
  if (status === 0 || status >= 500 || [401, 403, 408, 409, 429].includes(status) || code === "csrf") return { retry: true, code };
  return { rejected: true, code: code || String(status) };
}

// ---------------------------------------------------------------- the staff PIN, offline
/** PBKDF2-HMAC-SHA256 of the PIN, 512 bits: the first half is compared with the verifier the device holds, the
 * second signs the approval (asm/offline.py pin_material). */
export async function pinBits(pin, saltB64, iterations) {
  const base = await subtle.importKey("raw", enc.encode(pin), "PBKDF2", false, ["deriveBits"]);
  const bits = await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: unb64url(saltB64), iterations }, base, 512);
  return new Uint8Array(bits);
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * Check a PIN against the verifier (`material` from the server: salt, iterations, verifier, validUntilMs,
 * maxFailures, lockMs) with the usual lockout, kept in `lock` ({failures, lockedUntil}, stored by the caller).
 * Answers {ok, approval} (the approval for the filing with Idempotency-Key `key`), {expired}, {locked, until}
 * or {wrong, left}, and the new lock state.
 */
export async function checkPinOffline(material, lock, pin, key, nowMs) {
  const state = { failures: 0, lockedUntil: 0, ...(lock || {}) };
  if (!material || nowMs > material.validUntilMs) return { expired: true, lock: state };
  if (state.lockedUntil > nowMs) return { locked: true, until: state.lockedUntil, lock: state };
  const bits = await pinBits(pin, material.salt, material.iterations);
  if (sameBytes(bits.slice(0, 32), unb64url(material.verifier))) {
    const hmacKey = await subtle.importKey("raw", bits.slice(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const proof = await subtle.sign("HMAC", hmacKey, enc.encode(key));
    return { ok: true, approval: "offline." + b64url(proof), lock: { failures: 0, lockedUntil: 0 } };
  }
  state.failures += 1;
  if (state.failures >= material.maxFailures) {
    return { locked: true, until: nowMs + material.lockMs, lock: { failures: 0, lockedUntil: nowMs + material.lockMs } };
  }
  return { wrong: true, left: material.maxFailures - state.failures, lock: state };
}
