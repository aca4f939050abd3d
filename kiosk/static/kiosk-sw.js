// The kiosk's service worker: keeps a copy of the kiosk screen (its page, script and style) so that a kiosk
// reloaded or restarted while the server is unreachable still opens its screen, shows the filings waiting in
// localStorage and sends them by itself when the server answers again (see docs/KIOSK.md). With it, a copy of what
// reads a new card on the device (the CCCD parser, the wedge rules, the QR reader and zxing-wasm with its .wasm;
// docs/OFFLINE.md), so that the screen opened from the copy still reads cards. Network first: a reachable server
// always serves these fresh, and the copy is renewed with them. Nothing else is cached: PINs and filings always go
// to the server.
"use strict";

const CACHE = "asm-kiosk-shell-v3";
// Relative to this script, served at /kiosk/sw.js.
const SHELL = ["./", "static/kiosk.js", "static/kiosk.css", "../static/offline/queue.js"]; // queue.js: the sealed queue
const READER = [
  "static/wedge.js",
  "../static/idcard/cccd.js",
  "../static/idcard/rules.js",
  "../static/idcard/scanner.js",
  "../vendor/zxing-wasm/es/reader/index.js",
  "../vendor/zxing-wasm/es/share.js",
  "../vendor/zxing-wasm/reader/zxing_reader.wasm",
];
const fresh = (path) => new Request(path, { credentials: "same-origin", cache: "no-store" });

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      // The screen must be kept; the reader is kept where it can be (without it the screen reads through the server).
      .then((cache) => cache.addAll(SHELL.map(fresh)).then(() => Promise.allSettled(READER.map((path) => cache.add(fresh(path))))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

const SHELL_URLS = new Set([...SHELL, ...READER].map((path) => new URL(path, self.location.href).href));

const NETWORK_WAIT_MS = 8000; // weak signal: a server that has not answered by then is treated as away

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  url.search = "";
  const key = url.href;
  if (!SHELL_URLS.has(key)) return;
  event.respondWith(fromNetworkElseCopy(request, key));
});

async function fromNetworkElseCopy(request, key) {
  const cache = await caches.open(CACHE);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), NETWORK_WAIT_MS);
  try {
    // Front-end libraries (/vendor/) change only with their version: the browser's HTTP cache may answer for them.
    const response = await fetch(request, { cache: key.includes("/vendor/") ? "default" : "no-store", signal: abort.signal });
    // Only a real kiosk screen is kept: a redirect to pairing (revoked device) or an error is not.
    if (response.ok && !response.redirected) {
      await cache.put(key, response.clone());
      return response;
    }
    // A proxy in front answers 502/503/504 while the app is down: the copy serves better than its error page.
    if (response.status >= 500) return (await cache.match(key)) || response;
    return response;
  } catch (e) {
    return (await cache.match(key)) || Response.error();
  } finally {
    clearTimeout(timer);
  }
}
