// The offline desk (docs/OFFLINE.md): check in from a scanned or pasted card and check out the guests this device
// knows, while the server answers or not. Every filing goes into the sealed queue (queue.js) first and is sent from
// there, in order, to /co-so/<code>/ngoai-tuyen/nop. The device keeps, in clear, only what the clerk needs to
// pick a guest with no server: the room, the masked document number and the arrival time.
import * as Q from "./queue.js";

const config = JSON.parse(document.getElementById("desk-config").textContent);
const T = config.texts;
const $ = (id) => document.getElementById(id);
const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
const tag = `${config.establishment}:${config.user}`;
const OFFSET_KEY = "asm-desk-clock-v1:" + tag;
const CONTACT_KEY = "asm-desk-contact-v1:" + tag;
const queue = new Q.Queue(Q.idbStore("asm-desk-queue-v1:" + tag), { publicKey: config.sealKey });
const known = Q.idbStore("asm-desk-known-v1:" + tag); // {key: stay id, masked, room, arrivedMs}
const names = new Map(); // stay id -> name, from the server's last answer: in memory only
let parser = null;
let guest = null; // the card just read: {qr, card}
let offset = Number(localStorage.getItem(OFFSET_KEY)) || 0;

const clockParts = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
});
function dateTime(ms) {
  const p = Object.fromEntries(clockParts.formatToParts(new Date(ms)).map(({ type, value }) => [type, value]));
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}
const newKey = () => crypto.randomUUID();
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

// ---------------------------------------------------------------- the server, when it answers
async function refresh() {
  const t0 = Date.now();
  let response;
  try {
    response = await fetch(config.urls.data, { headers: { Accept: "application/json" }, cache: "no-store", redirect: "manual" });
  } catch (e) {
    return connection(false);
  }
  if (!response.ok) return connection(false);
  const t1 = Date.now();
  const body = await response.json();
  offset = Math.round(body.now_ms - (t0 + t1) / 2);
  localStorage.setItem(OFFSET_KEY, String(offset));
  document.querySelector('meta[name="csrf-token"]').content = body.csrf;
  names.clear();
  const keep = new Set();
  for (const s of body.inHouse) {
    names.set(s.stay, s.name);
    keep.add(String(s.stay));
    await known.put({ key: String(s.stay), masked: s.masked, room: s.room, arrivedMs: s.arrivedMs });
  }
  for (const old of await known.all()) if (!keep.has(old.key)) await known.delete(old.key);
  connection(true);
  return true;
}

function connection(up) {
  if (up) localStorage.setItem(CONTACT_KEY, String(Date.now()));
  document.body.dataset.server = up ? "up" : "down";
  $("connection").hidden = up;
  $("connection").textContent = up ? "" : T.offline;
  checkOffline();
  return up;
}

function checkOffline() {
  const since = Number(localStorage.getItem(CONTACT_KEY)) || null;
  const tooLong = Q.offlineTooLong(since, Date.now(), config.offlineWarnMinutes);
  const text = tooLong ? fmt(T.offline_long, { m: Math.floor((Date.now() - since) / 60000) }) : "";
  if ($("offline-alert").textContent !== text) $("offline-alert").textContent = text;
  $("offline-alert").hidden = !tooLong;
}

// ---------------------------------------------------------------- sending the queue
async function sendItem(item) {
  const headers = { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": item.key };
  if (item.waited) headers["X-Waited-Offline"] = "1"; // it found no server, or waited behind one that did
  let response;
  try {
    response = await fetch(config.urls.submit, { method: "POST", headers, body: item.envelope, cache: "no-store", redirect: "manual" });
  } catch (e) {
    connection(false);
    return { retry: true };
  }
  let body = {};
  try {
    body = await response.json();
  } catch (e) {
    body = {};
  }
  if (response.status > 0 && response.status < 500) connection(true);
  const outcome = Q.outcomeOf(response.status, body);
  if (outcome.code === "csrf") await refresh();
  return { ...outcome, body };
}

let timer = null;
async function flush(force) {
  clearTimeout(timer);
  const done = await queue.flush(sendItem, { force });
  if (done.some((d) => d.ok)) await refresh();
  await render();
  const next = await queue.nextDue();
  if (next !== null) timer = setTimeout(() => flush(false), Math.max(1000, next - Date.now()));
  return done;
}

// ---------------------------------------------------------------- what the clerk sees
async function render() {
  const summary = await queue.summary();
  $("queue-status").textContent = !summary.waiting
    ? ""
    : summary.oldestDeadline
      ? fmt(T.waiting, { n: summary.waiting, t: dateTime(summary.oldestDeadline) })
      : fmt(T.waiting_plain, { n: summary.waiting });
  $("queue-status").dataset.count = String(summary.waiting);

  const list = $("conflicts");
  list.innerHTML = "";
  for (const item of [...summary.conflicts, ...summary.rejected]) {
    const li = document.createElement("li");
    li.dataset.code = item.code;
    const who = [item.note.room, item.note.masked].filter(Boolean).join(" · ");
    const text = item.state === "conflict" ? T["conflict_" + item.code] || T.conflict_not_in_house : T.rejected;
    const span = document.createElement("span");
    span.textContent = fmt(text, { who, t: item.note.at ? dateTime(item.note.at) : "", code: item.code });
    const ok = document.createElement("button");
    ok.type = "button";
    ok.textContent = "OK";
    ok.setAttribute("aria-label", "OK: " + span.textContent);
    ok.addEventListener("click", async () => {
      await queue.remove(item.key);
      render();
    });
    li.append(span, ok);
    list.append(li);
  }

  const pendingOut = new Set(
    (await queue.items()).filter((i) => i.state === "pending" && i.kind === "check_out").map((i) => String(i.note.stay)),
  );
  const rows = $("offline-rows");
  rows.innerHTML = "";
  const guests = (await known.all()).sort((a, b) => (a.room || "~").localeCompare(b.room || "~") || a.arrivedMs - b.arrivedMs);
  for (const g of guests) {
    const tr = document.createElement("tr");
    tr.dataset.stay = g.key;
    const name = names.get(Number(g.key));
    const cells = [g.room || T.no_room, name ? `${name} · ${g.masked}` : g.masked, dateTime(g.arrivedMs)];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const td = document.createElement("td");
    if (pendingOut.has(g.key)) td.textContent = T.pending_out;
    else {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = T.check_out;
      button.setAttribute("aria-label", `${T.check_out}: ${g.room || T.no_room} · ${g.masked}`);
      button.addEventListener("click", () => checkOut(g));
      td.append(button);
    }
    tr.append(td);
    rows.append(tr);
  }
  // Guests checked in on this device whose filing waits: shown (room and masked number), not yet to check out.
  for (const item of await queue.items()) {
    if (item.state !== "pending" || item.kind !== "check_in") continue;
    const tr = document.createElement("tr");
    tr.className = "pending";
    for (const text of [item.note.room || T.no_room, item.note.masked, dateTime(item.arrivedMs), T.pending_in]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    rows.append(tr);
  }
  $("offline-count").textContent = String(rows.children.length);
  checkOffline();
}

// ---------------------------------------------------------------- check-in and check-out
function message(text) {
  $("offline-scan-error").textContent = text || "";
  $("offline-scan-error").hidden = !text;
}

$("offline-scan").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("offline-qr").value;
  guest = null;
  $("offline-guest").hidden = true;
  if (!parser) return message(T.no_parser);
  try {
    const card = parser.parseQrText(text, { today: parser.vietnamToday(Date.now() + offset) });
    guest = { qr: text, card, scannedAt: Date.now() };
  } catch (exc) {
    if (!(exc instanceof parser.CardError)) throw exc;
    return message(exc.messageFor(document.documentElement.lang === "en" ? "en" : "vi"));
  }
  message(null);
  const { card } = guest;
  $("offline-guest-name").textContent = card.full_name;
  const birth = `${card.birth_date.slice(8, 10)}/${card.birth_date.slice(5, 7)}/${card.birth_date.slice(0, 4)}`;
  $("offline-guest-facts").textContent = `${birth} · ${parser.mask(card.id_number)}`;
  $("offline-guest").hidden = false;
  $("offline-file").focus();
});

$("offline-guest").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!guest) return;
  const room = $("offline-room");
  const roomId = room.value ? Number(room.value) : null;
  const arrivedMs = guest.scannedAt + offset;
  const body = JSON.stringify({
    kind: "check_in",
    guests: [{ qr: guest.qr }],
    room_id: roomId,
    reason: $("offline-reason").value,
    nights: Number($("offline-nights").value) || null,
    scanned_at_ms: guest.scannedAt,
    clock_offset_ms: offset,
  });
  const note = { room: roomId ? room.selectedOptions[0].textContent : "", masked: parser.mask(guest.card.id_number) };
  await queue.add({ key: newKey(), body, kind: "check_in", arrivedMs, deadlineMs: Q.deadlineFor(arrivedMs, config.deadlineRule), note });
  message(null);
  $("connection").textContent = fmt(T.queued_in, { name: guest.card.full_name });
  guest = null;
  $("offline-guest").hidden = true;
  $("offline-qr").value = "";
  await render();
  flush(true);
});

async function checkOut(g) {
  const now = Date.now();
  const body = JSON.stringify({ kind: "check_out", stay: Number(g.key), at_ms: now, clock_offset_ms: offset });
  await queue.add({ key: newKey(), body, kind: "check_out", arrivedMs: now + offset, deadlineMs: null, note: { stay: g.key, room: g.room, masked: g.masked } });
  await render();
  flush(true);
}

// ---------------------------------------------------------------- start
window.addEventListener("online", async () => {
  await queue.wake();
  if (await refresh()) flush(true);
});
setInterval(async () => {
  if (await refresh()) flush(false);
}, 60000);
setInterval(checkOffline, 30000);

import(config.urls.cccd)
  .then((mod) => (parser = mod))
  .catch(() => (parser = null));
await render();
if (await refresh()) await flush(true);
await render();
document.body.dataset.ready = "1";
