// Registers the desk's service worker (asm/static/offline/desk-sw.js, served at /co-so/<code>/sw.js) on the
// establishment's pages, so that the desk is an installable app whose pages open offline (docs/OFFLINE.md).
"use strict";
(() => {
  const script = document.currentScript;
  if (!("serviceWorker" in navigator) || !script) return;
  navigator.serviceWorker.register(script.dataset.worker, { scope: script.dataset.scope }).catch(() => {});
})();
