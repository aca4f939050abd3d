// The desk's check-in page reads cards on the device (docs/OFFLINE.md): the text of a USB scanner or a paste in the
// scan field, the tablet's camera (zxing-wasm) and a photo are parsed here with the server's rules (idcard/cccd.js)
// and fill a guest block at once, with no server round trip. The form's fields are checked again by the server
// when the clerk files (asm.people.services.validate_person), as typed fields always are.
//
// Fallbacks: if this module cannot load, nothing here runs and htmx sends the scan field and the photo to the
// server (/quet, /quet-anh) as before; if zxing-wasm cannot load, the camera button stays hidden and a photo goes
// to the server; a photo in which the device finds no code goes to the server too (its second pass may find it).

import { CardError, parseQrText, vietnamToday } from "./idcard/cccd.js";

const config = JSON.parse(document.getElementById("scan-config").textContent);
const $ = (id) => document.getElementById(id);
const scanForm = $("scan-form");
const scanText = $("scan-text");
const scanResult = $("scan-result");
const guests = $("guests");
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
window.deskMetrics = []; // scan-to-filled-block times, read by the browser tests and the bench

// ---------------------------------------------------------------- a guest block from the server's markup

const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");

function guestBlock(card) {
  const key = newKey();
  const holder = document.createElement("template");
  // The template is the server's own markup (no guest data in it); only its block key is replaced.
  holder.innerHTML = config.guestBlock.replaceAll(config.templateKey, key);
  const block = holder.content.firstElementChild;
  const values = {
    doc_type: "cccd",
    doc_number: card.id_number,
    nationality: "VNM",
    full_name: card.full_name,
    birth_date: card.birth_date,
    sex: card.sex,
    address: card.address,
    old_id_number: card.old_id_number || "",
    id_issue_date: card.issue_date || "",
    card_extra: card.extra_fields.join("|"),
  };
  for (const [name, value] of Object.entries(values)) {
    const field = block.querySelector(`[name="guests-${key}-${name}"]`);
    if (field) field.value = value;
  }
  return block;
}

function showMessage(text, code) {
  const box = document.createElement("div");
  box.className = "flash error";
  box.setAttribute("role", "alert");
  box.dataset.code = code;
  box.textContent = text;
  scanResult.replaceChildren(box);
}

function showError(exc) {
  const box = document.createElement("div");
  box.className = "flash error";
  box.setAttribute("role", "alert");
  box.dataset.code = exc.code;
  const label = document.createElement("strong");
  label.textContent = config.texts.unreadable + ":";
  box.append(label, " ", exc.messageFor(config.locale));
  scanResult.replaceChildren(box);
}

/** Parse one text on the device; a guest block is added, or the refusal shown. Returns the card or null. */
function accept(text, source, t0) {
  let card;
  try {
    card = parseQrText(text, { today: vietnamToday() });
  } catch (exc) {
    if (!(exc instanceof CardError)) throw exc;
    showError(exc);
    return null;
  }
  // The same card twice in one group is refused here, at the scan, where the clerk is looking (issue 17).
  const listed = [...guests.querySelectorAll('input[name$="-doc_number"]')].map((f) => f.value.trim());
  if (listed.includes(card.id_number)) {
    showMessage(config.texts.duplicate.replace("%(n)s", String(listed.indexOf(card.id_number) + 1)), "duplicate_guest");
    return null;
  }
  const block = guestBlock(card);
  guests.append(block);
  if (window.htmx) window.htmx.process(block); // the number field's look-up of past guests
  scanResult.replaceChildren();
  window.deskMetrics.push({ source, path: "device", ms: Math.round(performance.now() - t0) });
  markReturning(block, text);
  return card;
}

/** Several codes in one image: the first that parses; else the first refusal is shown. */
function acceptFirst(texts, source, t0) {
  for (const text of texts) {
    try {
      const card = parseQrText(text, { today: vietnamToday() });
      if (card) return accept(text, source, t0);
    } catch (exc) {
      if (!(exc instanceof CardError)) throw exc;
    }
  }
  return accept(texts[0], source, t0); // shows why the first one was refused
}

// A returning guest is worth a badge; the server knows the establishment's past guests. Asked after the block is
// shown, and skipped quietly when the server is out of reach.
async function markReturning(block, text) {
  try {
    const body = new FormData();
    body.set("text", text);
    const response = await fetch(config.urls.scan, { method: "POST", body, headers: { "X-CSRFToken": csrf(), "HX-Request": "true" } });
    if (!response.ok) return;
    const answer = document.createElement("template");
    answer.innerHTML = await response.text();
    const badge = answer.content.querySelector("legend .badge.info");
    if (badge && block.isConnected) block.querySelector("legend").append(" ", badge);
  } catch (e) {
    /* offline: no badge */
  }
}

// ---------------------------------------------------------------- the scan field (USB scanner, paste)

/** A passport's MRZ (letters, digits and < with a "<<"), not a card's QR (which holds "|"). */
function looksLikeMrz(text) {
  const compact = text.replace(/\s/g, "");
  return /^[A-Za-z0-9<]+$/.test(compact) && compact.includes("<<");
}

// Capture phase: runs before htmx's own listener on the form, which then never sends the text to the server.
document.addEventListener(
  "submit",
  (event) => {
    if (event.target !== scanForm) return;
    // A passport's machine-readable zone (a reader types it line by line: asm/static/app.js keeps the lines until
    // the zone is whole) is read by the server: this page parses card QR codes only.
    if (looksLikeMrz(scanText.value)) return;
    event.preventDefault();
    event.stopPropagation();
    const t0 = performance.now();
    if (accept(scanText.value, "scan", t0)) {
      scanForm.reset();
      scanText.focus();
    }
  },
  true,
);
document.body.dataset.parser = "device";

// ---------------------------------------------------------------- the camera and photos (zxing-wasm)

let reader = null;
let grab = null;
let camera = null; // {stream, timer, busy, stopped}

async function startCamera() {
  if (camera) return;
  const session = { stream: null, timer: null, busy: false, stopped: false };
  camera = session;
  try {
    session.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: false,
    });
  } catch (e) {
    camera = null;
    const box = document.createElement("div");
    box.className = "flash error";
    box.textContent = config.texts.camera_unavailable;
    scanResult.replaceChildren(box);
    return;
  }
  if (session.stopped) {
    session.stream.getTracks().forEach((t) => t.stop());
    return;
  }
  const video = $("camera-video");
  video.srcObject = session.stream;
  $("desk-camera").hidden = false;
  session.timer = setInterval(async () => {
    if (session.busy || session.stopped) return;
    const t0 = performance.now();
    const image = grab(video);
    if (!image) return;
    session.busy = true;
    try {
      const texts = await reader.read(image);
      if (texts.length && !session.stopped && acceptFirst(texts, "camera", t0)) stopCamera();
    } catch (e) {
      /* a lost frame: the next one tries again */
    } finally {
      session.busy = false;
    }
  }, 100);
}

function stopCamera() {
  if (!camera) return;
  camera.stopped = true;
  clearInterval(camera.timer);
  if (camera.stream) camera.stream.getTracks().forEach((t) => t.stop());
  $("camera-video").srcObject = null;
  $("desk-camera").hidden = true;
  camera = null;
  scanText.focus();
}

// A photo: decoded here first; when the device finds no code, htmx sends it to the server (its fallback pass).
const photoForm = $("photo-form");
document.addEventListener(
  "change",
  async (event) => {
    const input = event.target;
    if (!reader || !(input instanceof HTMLInputElement) || input.form !== photoForm || !input.files.length) return;
    event.stopPropagation(); // htmx's listener on the form waits
    const t0 = performance.now();
    const texts = await reader.read(input.files[0]).catch(() => []);
    if (texts.length) {
      acceptFirst(texts, "photo", t0);
      photoForm.reset();
    } else if (window.htmx) window.htmx.trigger(photoForm, "change");
  },
  true,
);

import(config.urls.scanner)
  .then(async (scanner) => {
    reader = await scanner.loadReader({ moduleUrl: config.urls.zxing, wasmUrl: config.urls.zxingWasm });
    grab = scanner.frameGrabber();
    document.body.dataset.reader = "device";
    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      $("camera-button").hidden = false;
      $("camera-button").addEventListener("click", startCamera);
      $("camera-stop").addEventListener("click", stopCamera);
    }
  })
  .catch(() => (document.body.dataset.reader = "server"));
