// The desk's service worker (docs/OFFLINE.md), served at /co-so/<code>/sw.js with the establishment's pages as its
// scope. It keeps a copy of the offline desk (/co-so/<code>/ngoai-tuyen: a page with no personal data) and of
// what it runs (desk.js, queue.js, the card parser), network first. When the server does not answer a visit to
// the in-house list, the check-in page or the offline desk, it opens the offline desk from the copy. Pages with
// personal data are never kept. Filings go through the sealed queue in IndexedDB, not through here.
"use strict";

// Web Push for the desk (issue 14, the jobs helper's asm/static/push-sw.js: `push` and `notificationclick` listeners
// only). Where that file is not there (yet), the desk works without push.
try {
  importScripts("../../static/push-sw.js");
} catch (e) {
  /* no push handler on this server */
}

const CACHE = "asm-desk-v1";
const SHELL_PAGE = "ngoai-tuyen";
const SHELL = [
  SHELL_PAGE,
  "../../static/offline/desk.js",
  "../../static/offline/queue.js",
  "../../static/idcard/cccd.js",
  "../../static/idcard/rules.js",
  "../../static/app.css",
  "../../static/app.js",
  "../../static/offline/icon.svg",
  "../../vendor/htmx.min.js",
];
// Pages that open the offline desk when the server does not answer (relative to the scope).
const OFFLINE_PAGES = ["", "nhan-phong", SHELL_PAGE];
const NETWORK_WAIT_MS = 8000;
const here = (path) => new URL(path, self.location.href).href;
const SHELL_URLS = new Set(SHELL.map(here));
const PAGE_URLS = new Set(OFFLINE_PAGES.map(here));

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.allSettled(SHELL.map((path) => cache.add(new Request(path, { credentials: "same-origin", cache: "no-store" })))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("asm-desk-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  url.search = "";
  const key = url.href;
  if (request.mode === "navigate" && PAGE_URLS.has(key)) event.respondWith(page(request, key));
  else if (SHELL_URLS.has(key)) event.respondWith(asset(request, key));
});

async function network(request, options) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), NETWORK_WAIT_MS);
  try {
    return await fetch(request, { ...options, signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}

// A page: the server's when it answers (never kept, but for the offline desk itself); else the offline desk's copy.
async function page(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await network(request);
    if (response.status < 500) {
      if (key === here(SHELL_PAGE) && response.ok && !response.redirected) await cache.put(key, response.clone());
      return response;
    }
  } catch (e) {
    /* no answer: the copy */
  }
  return (await cache.match(here(SHELL_PAGE))) || Response.error();
}

async function asset(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await network(request, { cache: "no-store" });
    if (response.ok) {
      await cache.put(key, response.clone());
      return response;
    }
    if (response.status >= 500) return (await cache.match(key)) || response;
    return response;
  } catch (e) {
    return (await cache.match(key)) || Response.error();
  }
}
