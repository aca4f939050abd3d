// The kiosk screen: scan (camera, keyboard-wedge or serial scanner, photo, manual entry) -> confirm -> details
// -> file -> receipt. Filings wait in localStorage until the server acknowledges them (see docs/KIOSK.md).
// Codes are decoded (zxing-wasm) and parsed (asm/static/idcard/cccd.js) on the device, with the server's decoding
// and parsing as the fallback (docs/OFFLINE.md). Every text shown comes translated from the server (#kiosk-texts).
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("kiosk-config").textContent);
  const T = JSON.parse(document.getElementById("kiosk-texts").textContent);
  const $ = (id) => document.getElementById(id);
  const QUEUE_KEY = "asm-kiosk-queue-v1:" + config.device; // the old plain queue: moved into the sealed one at load
  const PIN_KEY = "asm-kiosk-pin-v1:" + config.device; // the staff PIN's offline verifier (not the PIN)
  const PIN_LOCK_KEY = "asm-kiosk-pin-lock-v1:" + config.device;
  const CONTACT_KEY = "asm-kiosk-contact-v1:" + config.device; // when the server last answered
  const OFFSET_KEY = "asm-kiosk-clock-v1";
  const FRAME_EVERY_MS = 250; // about 4 frames a second to the server
  const FRAME_MAX_WIDTH = 960; // downscaled before upload
  const DEVICE_FRAME_EVERY_MS = 100; // decoded on the device: the next frame as soon as the last one is done
  const PASSPORT_EVERY_MISSES = 5; // frames without a QR code between two sent to the server for a passport's MRZ
  const WEDGE_GAP_MS = 1500; // a pause longer than this starts a new scan

  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
  const localTime = (iso) =>
    iso ? new Date(iso).toLocaleString(config.locale === "en" ? "en-GB" : "vi-VN", { timeZone: "Asia/Ho_Chi_Minh" }) : "";
  // A passport reader sends the MRZ line by line (Enter after each): lines are kept until the zone is whole
  // (2 × 44, 2 × 36 or 3 × 30 characters), then read as one text.
  const MRZ_LINE = /^[A-Za-z0-9<]{30,44}$/;
  let mrzLines = [];
  function mrzComplete(line) {
    if (!(MRZ_LINE.test(line) && line.includes("<"))) {
      mrzLines = [];
      return null;
    }
    if (mrzLines.length && mrzLines[0].length !== line.length) mrzLines = [];
    mrzLines.push(line);
    const width = line.length;
    if ((mrzLines.length === 2 && (width === 44 || width === 36)) || (mrzLines.length === 3 && width === 30)) {
      const text = mrzLines.join("\n");
      mrzLines = [];
      return text;
    }
    return "";
  }
  const newKey = () =>
    window.crypto && crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2);
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  window.kioskMetrics = []; // scan-to-filled-form times, read by the browser test

  // ---------------------------------------------------------------- state of the guest at the screen
  let state;
  function freshState() {
    return {
      step: "start",
      flow: null,
      people: [], // {qr} or {manual}, plus the display fields
      scannedAt: null, // the kiosk's clock when the first code was read
      key: newKey(), // the idempotency key of this visit's filing
      approval: null,
      afterPin: null,
    };
  }

  // ---------------------------------------------------------------- clock
  let clockOffset = 0;
  try {
    clockOffset = JSON.parse(localStorage.getItem(OFFSET_KEY) || "{}").offset || 0;
  } catch (e) {
    clockOffset = 0;
  }
  async function syncClock() {
    const t0 = Date.now();
    try {
      const response = await fetch(config.urls.clock, { headers: { Accept: "application/json" }, cache: "no-store" });
      const t1 = Date.now();
      if (!response.ok) return;
      const body = await response.json();
      clockOffset = Math.round(body.now_ms - (t0 + t1) / 2);
      localStorage.setItem(OFFSET_KEY, JSON.stringify({ offset: clockOffset, at: t1 }));
      markContact();
      if (body.offlinePin) localStorage.setItem(PIN_KEY, JSON.stringify(body.offlinePin));
      // A screen opened from the service worker's copy may hold the token of a session that has ended.
      if (body.csrf) document.querySelector('meta[name="csrf-token"]').content = body.csrf;
    } catch (e) {
      /* offline: keep the last measured offset */
    }
  }

  // ---------------------------------------------------------------- reading on the device
  // The guest's card is parsed (cccd.js, wedge.js) and its QR decoded (zxing-wasm) in the browser, so that a new
  // guest is read with no server in reach; the server parses the QR text again when the filing arrives, and trusts
  // nothing else the page says about the person. A part that cannot load keeps its server path: /doc-ma for
  // texts, /giai-ma for images.
  const onDevice = { parser: null, wedge: null, reader: null, grab: null };
  const parserLoaded = Promise.all([import(config.urls.cccd), import(config.urls.wedge)]).then(
    ([parser, wedgeRules]) => {
      onDevice.parser = parser;
      onDevice.wedge = wedgeRules;
      document.body.dataset.parser = "device";
    },
    () => (document.body.dataset.parser = "server"),
  );
  const readerLoaded = parserLoaded
    .then(() => (onDevice.parser ? import(config.urls.scanner) : Promise.reject(new Error("no parser"))))
    .then(async (scanner) => {
      onDevice.reader = await scanner.loadReader({ moduleUrl: config.urls.zxing, wasmUrl: config.urls.zxingWasm });
      onDevice.grab = scanner.frameGrabber();
      document.body.dataset.reader = "device";
    })
    .catch(() => (document.body.dataset.reader = "server"));

  // dd/mm/yyyy HH:MM in Vietnam time, the same numbers in every language: the server's format (asm/clock.py).
  const clockParts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Ho_Chi_Minh", day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const dateTime = (when) => {
    const part = Object.fromEntries(clockParts.formatToParts(when).map(({ type, value }) => [type, value]));
    return `${part.day}/${part.month}/${part.year} ${part.hour}:${part.minute}`;
  };
  const isAscii = (text) => /^[\x00-\x7f]*$/.test(text);
  const dmy = (iso) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

  // What the server's /doc-ma answers, from the device's own parse: {card} for the confirmation (no address, the
  // number masked) or {error}. A keyboard-wedge scan that the parser refuses, or whose name and address are plain
  // ASCII, is checked for the traces of a mis-set scanner (wedge.js, as kiosk/wedge.py).
  function readOnDevice(text, source) {
    const { parser } = onDevice;
    let card = null;
    let refused = null;
    try {
      card = parser.parseQrText(text, { today: parser.vietnamToday(Date.now() + clockOffset) });
    } catch (exc) {
      if (!(exc instanceof parser.CardError)) throw exc;
      refused = exc;
    }
    const suspect = source === "wedge" && (refused || (isAscii(card.full_name) && isAscii(card.address)));
    const garbling = suspect ? onDevice.wedge.diagnose(text) : null;
    if (garbling) return { error: { code: garbling.code, message: fmt(T["wedge_" + garbling.code], garbling), staff: true } };
    if (refused) return { error: { code: refused.code, message: refused.messageFor(config.locale) } };
    return {
      card: { full_name: card.full_name, birth_date: dmy(card.birth_date), sex: card.sex, doc_masked: parser.mask(card.id_number) },
    };
  }

  // Codes found in one image: the first that parses is the guest; else the first refusal is shown.
  function acceptTexts(texts, source, t0, capturedAt, frame) {
    let refusal = null;
    for (const text of texts) {
      const read = readOnDevice(text, source);
      if (read.card) {
        addPerson({ qr: text, source, t0, path: "device", frame, ...read.card }, capturedAt);
        return true;
      }
      refusal = refusal || read.error;
    }
    message("scan-error", refusal.message);
    return false;
  }

  // ---------------------------------------------------------------- steps
  function show(step) {
    state.step = step;
    document.querySelectorAll("main > .step").forEach((el) => {
      el.hidden = el.id !== "step-" + step;
    });
    if (step === "scan") startCamera();
    else stopCamera();
    if (step === "pin") $("pin").focus();
    else if (step === "manual") document.querySelector("#manual-form [name=doc_number]").focus();
    else focusWedge();
  }

  function reset() {
    stopCamera();
    state = freshState();
    $("people").innerHTML = "";
    $("receipt-people").innerHTML = "";
    $("manual-form").reset();
    $("pin").value = "";
    $("room").value = "";
    $("nights").value = "1";
    $("reason").selectedIndex = 0;
    if (!config.guestPicksRoom) $("room-label").hidden = true;
    for (const id of ["scan-error", "manual-error", "confirm-error", "details-error", "pin-error"]) message(id, null);
    $("receipt-no").textContent = "—";
    show("start");
  }

  function message(id, text, staff) {
    const el = $(id);
    el.textContent = text || "";
    el.hidden = !text;
    el.classList.toggle("staff", Boolean(staff));
  }

  const groupFlow = () => state.flow === "hotel_check_in";

  function chooseFlow(flow) {
    state.flow = flow;
    show("scan");
  }

  // ---------------------------------------------------------------- a person read
  function addPerson(entry, capturedAt) {
    const same = state.people.find((p) => (entry.qr ? p.qr === entry.qr : p.manual && p.manual.doc_number === entry.manual.doc_number));
    if (same) {
      show("confirm");
      message("confirm-error", T.duplicate);
      return;
    }
    if (!state.flow) state.flow = document.querySelector("[data-flow]").dataset.flow;
    if (!groupFlow()) state.people = [];
    if (state.scannedAt === null) state.scannedAt = capturedAt || Date.now();
    state.people.push(entry);
    renderPeople($("people"), state.people, true);
    $("add-person").hidden = !groupFlow();
    message("scan-error", null);
    message("confirm-error", null);
    show("confirm");
    if (capturedAt) {
      const ms = Math.round(performance.now() - entry.t0);
      window.kioskMetrics.push({ source: entry.source, path: entry.path, frame: entry.frame, ms });
    }
  }

  function renderPeople(list, people, removable) {
    list.innerHTML = "";
    people.forEach((p, i) => {
      const li = document.createElement("li");
      li.className = "person";
      const name = document.createElement("strong");
      name.className = "name";
      name.textContent = p.full_name;
      const facts = document.createElement("span");
      facts.className = "facts";
      const birth = document.createElement("span");
      birth.className = "birth";
      birth.textContent = p.birth_date;
      const doc = document.createElement("span");
      doc.className = "doc";
      doc.textContent = p.doc_masked;
      // Only the facts there are, one " · " between two (a receipt's people carry no birth date or sex).
      const parts = [p.birth_date ? birth : null, p.sex ? T["sex_" + p.sex] : null, p.doc_masked ? doc : null].filter(Boolean);
      parts.forEach((part, n) => facts.append(...(n ? [" · ", part] : [part])));
      if (p.nationality && p.nationality !== "VNM") facts.append(" · " + p.nationality);
      li.append(name, facts);
      if (p.declaration_deadline_at) {
        const declaration = document.createElement("span");
        declaration.className = "declaration";
        declaration.textContent = fmt(T.declaration, { t: localTime(p.declaration_deadline_at) });
        li.append(declaration);
      }
      if (p.manual) {
        const note = document.createElement("span");
        note.className = "note";
        note.textContent = T.manual;
        li.append(note);
      }
      if (removable && people.length > 1) {
        const remove = document.createElement("button");
        remove.className = "ghost";
        remove.textContent = "✕";
        remove.setAttribute("aria-label", "✕ " + p.full_name);
        remove.addEventListener("click", () => {
          state.people.splice(i, 1);
          renderPeople(list, state.people, true);
        });
        li.append(remove);
      }
      list.append(li);
    });
  }

  function fromServer(body, source, t0) {
    return { qr: body.qr, source, t0, path: "server", ...body.card };
  }

  async function postJSON(url, body, headers) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf(), ...(headers || {}) },
      body: typeof body === "string" ? body : JSON.stringify(body),
      cache: "no-store",
    });
  }

  async function readText(text, source) {
    const t0 = performance.now();
    const capturedAt = Date.now();
    await parserLoaded;
    if (onDevice.parser) {
      const read = readOnDevice(text, source);
      if (read.card) addPerson({ qr: text, source, t0, path: "device", ...read.card }, capturedAt);
      else {
        if (state.step !== "scan") show("scan");
        message("scan-error", read.error.message, read.error.staff);
      }
      return;
    }
    let response;
    try {
      response = await postJSON(config.urls.text, { text, source });
    } catch (e) {
      message("scan-error", T.network);
      return;
    }
    const body = await response.json();
    if (response.ok) addPerson(fromServer(body, source, t0), capturedAt);
    else {
      if (state.step !== "scan") show("scan");
      message("scan-error", body.error.message, body.error.staff);
    }
  }

  async function readImage(blob, frame, t0, capturedAt, size) {
    const url = config.urls.image + (frame ? "?khung=1" : "");
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": blob.type || "application/octet-stream", Accept: "application/json", "X-CSRFToken": csrf() },
      body: blob,
      cache: "no-store",
    });
    const body = await response.json();
    if (response.ok) {
      addPerson({ ...fromServer(body, frame ? "camera" : "photo", t0), frame: size }, capturedAt);
      return true;
    }
    if (!(frame && body.error && body.error.code === "no_code_found")) message("scan-error", body.error.message);
    return false;
  }

  // ---------------------------------------------------------------- camera
  let camera = null; // {stream, timer, busy}
  async function startCamera() {
    if (camera || !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
      if (!camera) $("camera-status").textContent = T.camera_unavailable;
      return;
    }
    const session = { stream: null, timer: null, busy: false, stopped: false };
    camera = session;
    try {
      session.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
    } catch (e) {
      camera = null;
      $("camera-status").textContent = T.camera_unavailable;
      return;
    }
    if (session.stopped) {
      session.stream.getTracks().forEach((t) => t.stop());
      return;
    }
    const video = $("camera-video");
    video.srcObject = session.stream;
    $("camera-status").textContent = T.camera_looking;
    await readerLoaded;
    if (session.stopped) return;
    if (onDevice.reader) {
      session.timer = setInterval(() => grabOnDevice(session, video), DEVICE_FRAME_EVERY_MS);
      return;
    }
    const canvas = document.createElement("canvas");
    session.timer = setInterval(() => grabFrame(session, video, canvas), FRAME_EVERY_MS);
  }

  // One camera frame at full size (1280×720), decoded and parsed in the browser; the next one starts when it is done.
  async function grabOnDevice(session, video) {
    if (session.busy || session.stopped) return;
    const t0 = performance.now();
    const capturedAt = Date.now();
    const image = onDevice.grab(video);
    if (!image) return;
    session.busy = true;
    try {
      const texts = await onDevice.reader.read(image);
      const frame = `${image.width}x${image.height}`;
      if (texts.length && !session.stopped && acceptTexts(texts, "camera", t0, capturedAt, frame)) stopCamera();
      else if (!texts.length) passportFrame(session, video);
    } catch (e) {
      /* a lost frame: the next one tries again */
    } finally {
      session.busy = false;
    }
  }

  // A frame with no QR code may hold a passport's data page: every few such frames one goes to the server, which
  // reads the machine-readable zone (the device reads card QR codes only). One request at a time.
  function passportFrame(session, video) {
    session.misses = (session.misses || 0) + 1;
    if (session.serverBusy || session.misses % PASSPORT_EVERY_MISSES !== 0) return;
    sendFrame(session, video, document.createElement("canvas"), "serverBusy");
  }

  function grabFrame(session, video, canvas) {
    if (session.busy || session.stopped || !video.videoWidth) return;
    sendFrame(session, video, canvas, "busy");
  }

  // One camera frame, scaled down and JPEG-encoded, to the server's image reader; `flag` names the session's
  // one-request-at-a-time mark (the QR frames' and the passport frames' are apart). A lost frame or no server:
  // the next frame tries again.
  function sendFrame(session, video, canvas, flag) {
    session[flag] = true;
    const t0 = performance.now();
    const capturedAt = Date.now();
    const scale = Math.min(1, FRAME_MAX_WIDTH / video.videoWidth);
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(
      async (blob) => {
        try {
          const size = `${canvas.width}x${canvas.height}`;
          if (blob && !session.stopped && (await readImage(blob, true, t0, capturedAt, size))) stopCamera();
        } catch (e) {
          /* a lost frame, or the server away */
        } finally {
          session[flag] = false;
        }
      },
      "image/jpeg",
      0.85,
    );
  }

  function stopCamera() {
    if (!camera) return;
    camera.stopped = true;
    clearInterval(camera.timer);
    if (camera.stream) camera.stream.getTracks().forEach((t) => t.stop());
    $("camera-video").srcObject = null;
    camera = null;
  }

  // ---------------------------------------------------------------- keyboard-wedge scanner
  // The scanner types the code's text and Enter, wherever the page's focus is: keys that reach no text field are
  // steered into the hidden #wedge field (inputmode=none, so no on-screen keyboard opens).
  const wedge = $("wedge");
  let lastKeyAt = 0;
  const isTextField = (el) =>
    el && el !== wedge && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" || (el.tagName === "INPUT" && el.type !== "file"));
  const wedgeActive = () => document.querySelector(`#step-${state.step}[data-wedge]`) !== null;
  function focusWedge() {
    if (wedgeActive() && !isTextField(document.activeElement)) wedge.focus({ preventScroll: true });
  }
  document.addEventListener(
    "keydown",
    (event) => {
      if (!wedgeActive() || isTextField(event.target)) return;
      if (event.target !== wedge) wedge.focus({ preventScroll: true });
      if (event.key === "Enter") {
        event.preventDefault();
        const text = wedge.value;
        wedge.value = "";
        const mrz = mrzComplete(text.trim());
        if (mrz) readText(mrz, "wedge");
        else if (mrz === null && text.replace(/\s/g, "").length >= 10) readText(text, "wedge");
        return;
      }
      const now = Date.now();
      if (now - lastKeyAt > WEDGE_GAP_MS) {
        wedge.value = "";
        mrzLines = [];
      }
      lastKeyAt = now;
    },
    true,
  );
  wedge.addEventListener("beforeinput", () => {
    const now = Date.now();
    if (now - lastKeyAt > WEDGE_GAP_MS) wedge.value = "";
    lastKeyAt = now;
  });
  document.addEventListener("click", () => setTimeout(focusWedge, 0));

  // ---------------------------------------------------------------- serial scanner (Web Serial, where offered)
  if ("serial" in navigator) {
    $("serial-button").hidden = false;
    $("serial-button").addEventListener("click", async () => {
      try {
        const port = await navigator.serial.requestPort();
        await port.open({ baudRate: 9600 });
        readSerial(port);
      } catch (e) {
        message("scan-error", T.serial_failed);
      }
    });
  }
  async function readSerial(port) {
    const reader = port.readable.pipeThrough(new TextDecoderStream("utf-8")).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (!wedgeActive()) continue;
        const mrz = mrzComplete(line.trim());
        if (mrz) readText(mrz, "serial");
        else if (mrz === null && line.trim().length >= 10) readText(line, "serial");
      }
    }
  }

  // ---------------------------------------------------------------- photo and manual entry
  $("photo").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const t0 = performance.now();
    const capturedAt = Date.now();
    await readerLoaded;
    if (onDevice.reader) {
      const texts = await onDevice.reader.read(file).catch(() => []);
      if (texts.length) {
        acceptTexts(texts, "photo", t0, capturedAt);
        return;
      }
      // Nothing found on the device: the server's second pass (sharpened, smoothed copies) may still find it.
    }
    try {
      await readImage(file, false, t0, capturedAt);
    } catch (e) {
      message("scan-error", T.network);
    }
  });
  $("manual-button").addEventListener("click", () => show("manual"));
  $("manual-ok").addEventListener("click", () => {
    const form = new FormData($("manual-form"));
    const manual = Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v).trim()]));
    if (!manual.doc_number || !manual.full_name || !manual.birth_date) {
      message("manual-error", T.manual_incomplete);
      return;
    }
    message("manual-error", null);
    const [y, m, d] = manual.birth_date.split("-");
    const masked = "*".repeat(Math.max(manual.doc_number.length - 4, 0)) + manual.doc_number.slice(-4);
    addPerson({ manual, full_name: manual.full_name, birth_date: `${d}/${m}/${y}`, sex: manual.sex, doc_masked: masked });
    $("manual-form").reset();
  });

  // ---------------------------------------------------------------- staff PIN
  function askPin(why, then) {
    state.afterPin = then;
    $("pin-why").textContent = why;
    $("pin").value = "";
    message("pin-error", null);
    show("pin");
  }
  $("pin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const pin = $("pin").value;
    let response = null;
    try {
      response = await postJSON(config.urls.pin, { pin, key: state.key });
    } catch (e) {
      response = null;
    }
    if (response === null || response.status >= 500) {
      // The server is away: the PIN is checked on the device against the verifier it holds (docs/OFFLINE.md).
      $("pin").value = "";
      await pinOffline(pin);
      return;
    }
    markContact();
    const body = await response.json();
    $("pin").value = "";
    if (!response.ok) {
      message("pin-error", body.error.message);
      return;
    }
    approved(body.approval);
  });
  function approved(approval) {
    state.approval = approval;
    const then = state.afterPin;
    state.afterPin = null;
    then();
  }
  function pinMaterial() {
    let stored = null;
    try {
      stored = JSON.parse(localStorage.getItem(PIN_KEY) || "null");
    } catch (e) {
      stored = null;
    }
    const given = config.offlinePin;
    if (!stored) return given;
    if (!given) return stored;
    return stored.validUntilMs >= given.validUntilMs ? stored : given;
  }
  async function pinOffline(pin) {
    const mod = await queueReady;
    if (!mod) {
      message("pin-error", T.pin_needs_network);
      return;
    }
    let lock = null;
    try {
      lock = JSON.parse(localStorage.getItem(PIN_LOCK_KEY) || "null");
    } catch (e) {
      lock = null;
    }
    const check = await mod.checkPinOffline(pinMaterial(), lock, pin, state.key, Date.now());
    localStorage.setItem(PIN_LOCK_KEY, JSON.stringify(check.lock));
    if (check.ok) {
      document.body.dataset.pinChecked = "device";
      approved(check.approval);
    } else if (check.expired) message("pin-error", T.pin_offline_expired);
    else if (check.locked) message("pin-error", fmt(T.pin_locked, { t: dateTime(new Date(check.until)).slice(11) }));
    else message("pin-error", fmt(T.pin_wrong, { n: check.left }));
  }
  $("pin-cancel").addEventListener("click", () => show(state.people.length ? "details" : "start"));

  // ---------------------------------------------------------------- details and filing
  function toDetails() {
    const hotel = state.flow === "hotel_check_in";
    $("hotel-details").hidden = !hotel;
    $("hospital-details").hidden = state.flow === "check_out" || hotel;
    show("details");
  }
  $("confirm-ok").addEventListener("click", () => {
    if (!state.people.length) return;
    if (state.flow === "check_out") askPin(T.why_check_out, submit);
    else toDetails();
  });
  $("add-person").addEventListener("click", () => show("scan"));
  const staffRoom = $("staff-room");
  if (staffRoom)
    staffRoom.addEventListener("click", () =>
      askPin(T.why_room, () => {
        $("room-label").hidden = false;
        staffRoom.hidden = true;
        show("details");
        $("room").focus();
      }),
    );

  function needsApproval() {
    return state.flow === "check_out" || state.people.some((p) => p.manual) || (!config.guestPicksRoom && $("room").value !== "");
  }

  $("submit").addEventListener("click", () => {
    if (needsApproval() && !state.approval) askPin(state.people.some((p) => p.manual) ? T.why_manual : T.why_room, submit);
    else submit();
  });

  function submissionBody() {
    const hotel = state.flow === "hotel_check_in";
    return JSON.stringify({
      flow: state.flow,
      guests: state.people.map((p) => (p.manual ? { manual: p.manual } : { qr: p.qr })),
      room_id: hotel && $("room").value ? Number($("room").value) : null,
      nights: hotel ? Number($("nights").value) : null,
      reason: hotel ? $("reason").value : "",
      scanned_at_ms: state.scannedAt || Date.now(),
      clock_offset_ms: clockOffset,
      approval: state.approval,
    });
  }

  async function submit() {
    const key = state.key;
    const body = submissionBody();
    const arrivedMs = (state.scannedAt || Date.now()) + clockOffset;
    const where = state.flow === "check_out" ? "confirm" : "details";
    $("submit").disabled = true;
    try {
      if (!(await queueReady)) {
        // No sealed store on this browser (no IndexedDB or WebCrypto): sent, never kept.
        const outcome = await sendDirect(key, body);
        if (outcome.ok) showReceipt(outcome.body.result);
        else message(where + "-error", (outcome.body && outcome.body.error && outcome.body.error.message) || T.network);
        return;
      }
      const deadlineMs = state.flow === "check_out" ? null : queueModule.deadlineFor(arrivedMs, config.deadlineRule);
      await queue.add({ key, body, kind: state.flow, arrivedMs, deadlineMs }); // kept, sealed, before the first try
      await renderQueue();
      const done = await queue.flush(sendItem, { force: true });
      const mine = done.find((d) => d.key === key);
      if (mine && mine.ok) showReceipt(mine.body.result);
      else if (mine) {
        await queue.remove(key); // the guest is at the screen to correct it: the same key may be sent again
        show(where);
        message(where + "-error", (mine.body && mine.body.error && mine.body.error.message) || T.network);
      } else showQueued();
    } finally {
      $("submit").disabled = false;
      renderQueue();
      schedule();
    }
  }

  function showReceipt(result) {
    $("receipt-title").hidden = false;
    $("receipt-queued").hidden = true;
    $("receipt-no").textContent = result.receipt_no || "—";
    const local = (iso) => (iso ? dateTime(new Date(iso)) : "");
    $("receipt-time").textContent = local(result.arrived_at || result.departed_at);
    $("receipt-deadline").textContent = local(result.deadline_at);
    $("receipt-deadline").hidden = $("receipt-deadline-label").hidden = !result.deadline_at;
    $("receipt-room").textContent = result.room || "—";
    renderPeople($("receipt-people"), result.people, false);
    show("receipt");
  }

  function showQueued() {
    $("receipt-title").hidden = true;
    $("receipt-queued").hidden = false;
    $("receipt-no").textContent = "—";
    $("receipt-time").textContent = dateTime(new Date(state.scannedAt + clockOffset));
    $("receipt-deadline").hidden = $("receipt-deadline-label").hidden = true;
    $("receipt-room").textContent = $("room").selectedOptions[0] && $("room").value ? $("room").selectedOptions[0].textContent : "—";
    renderPeople($("receipt-people"), state.people, false);
    show("receipt");
  }

  $("print").addEventListener("click", () => window.print());

  // ---------------------------------------------------------------- the queue: nothing is lost
  // asm/static/offline/queue.js: filings sealed to this kiosk's server key in IndexedDB, sent in order, removed
  // only once acknowledged (docs/OFFLINE.md). The plain localStorage queue of earlier versions is moved into it.
  let queueModule = null;
  let queue = null;
  const queueReady = import(config.queueModule)
    .then(async (mod) => {
      if (!(window.indexedDB && window.crypto && crypto.subtle && config.sealKey)) return null;
      queueModule = mod;
      queue = new mod.Queue(mod.idbStore("asm-kiosk-queue-v2:" + config.device), { publicKey: config.sealKey });
      let old = [];
      try {
        old = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
      } catch (e) {
        old = [];
      }
      for (const item of Array.isArray(old) ? old : []) {
        if (item.state !== "pending") continue;
        const parsed = JSON.parse(item.body);
        const arrivedMs = parsed.scanned_at_ms + (parsed.clock_offset_ms || 0);
        await queue.add({ key: item.key, body: item.body, kind: parsed.flow, arrivedMs, deadlineMs: mod.deadlineFor(arrivedMs, config.deadlineRule) });
      }
      localStorage.removeItem(QUEUE_KEY);
      return mod;
    })
    .catch(() => null);

  function lastContact() {
    const value = Number(localStorage.getItem(CONTACT_KEY));
    return value > 0 ? value : null;
  }
  function markContact() {
    localStorage.setItem(CONTACT_KEY, String(Date.now()));
    checkOffline();
  }
  function checkOffline() {
    const alert = $("offline-alert");
    const since = lastContact();
    const tooLong = since !== null && Date.now() - since > config.offlineWarnMinutes * 60000;
    const text = tooLong ? fmt(T.offline_long, { m: Math.floor((Date.now() - since) / 60000) }) : "";
    if (alert.textContent !== text) alert.textContent = text;
    alert.hidden = !tooLong;
  }
  setInterval(checkOffline, 30000);

  async function renderQueue() {
    if (!queue) return;
    const summary = await queue.summary();
    const waiting = summary.waiting;
    const refused = summary.rejected.length + summary.conflicts.length;
    $("queue-status").hidden = waiting === 0;
    $("queue-status").textContent = !waiting
      ? ""
      : summary.oldestDeadline
        ? fmt(T.waiting_deadline, { n: waiting, t: dateTime(new Date(summary.oldestDeadline)) })
        : fmt(T.waiting, { n: waiting });
    $("queue-status").dataset.count = String(waiting);
    $("queue-rejected").hidden = refused === 0;
    $("queue-rejected").textContent = refused ? fmt(T.rejected, { n: refused }) : "";
    checkOffline();
  }

  async function sendDirect(key, body) {
    try {
      const response = await postJSON(config.urls.submit, body, { "Idempotency-Key": key });
      return { ok: response.ok, body: await response.json().catch(() => ({})) };
    } catch (e) {
      return { ok: false, body: {} };
    }
  }

  // One queued filing to the server: the sealed envelope as kept, its key, and whether it waited for the server.
  async function sendItem(item) {
    let response;
    const headers = { "Idempotency-Key": item.key };
    if (item.waited) headers["X-Waited-Offline"] = "1"; // it found no server, or waited behind one that did
    try {
      response = await postJSON(config.urls.submit, item.envelope, headers);
    } catch (e) {
      return { retry: true };
    }
    let body = {};
    try {
      body = await response.json();
    } catch (e) {
      body = {};
    }
    if (response.status < 500) markContact();
    const outcome = queueModule.outcomeOf(response.status, body);
    if (outcome.code === "csrf") await syncClock(); // a stale token (the screen came from the service worker's copy)
    return { ...outcome, body };
  }

  let timer = null;
  async function schedule() {
    clearTimeout(timer);
    if (!queue) return;
    const next = await queue.nextDue();
    if (next === null) return;
    timer = setTimeout(flush, Math.max(0, next - Date.now()));
  }

  async function flush() {
    if (!(await queueReady)) return;
    await queue.flush(sendItem);
    await renderQueue();
    schedule();
  }
  window.addEventListener("online", async () => {
    if (!(await queueReady)) return;
    await queue.wake();
    flush();
  });

  // ---------------------------------------------------------------- idle: the screen clears itself
  let lastActivity = Date.now();
  for (const kind of ["pointerdown", "keydown", "input"]) document.addEventListener(kind, () => (lastActivity = Date.now()), true);
  setInterval(() => {
    if (state.step !== "start" && Date.now() - lastActivity > config.idleSeconds * 1000) reset();
  }, 1000);

  // ---------------------------------------------------------------- wiring
  document.querySelectorAll("[data-flow]").forEach((button) => button.addEventListener("click", () => chooseFlow(button.dataset.flow)));
  document.querySelectorAll('[data-action="reset"]').forEach((button) => button.addEventListener("click", reset));
  document.querySelectorAll('[data-action="back-to-scan"]').forEach((button) => button.addEventListener("click", () => show("scan")));

  // A copy of this screen for a reload while the server is unreachable (kiosk-sw.js).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(config.urls.worker, { scope: config.urls.screen }).catch(() => {});
  }

  state = freshState();
  reset();
  queueReady.then(renderQueue);
  checkOffline();
  syncClock().then(flush);
  setInterval(syncClock, 5 * 60 * 1000);
  document.body.dataset.ready = "1";
})();
