// The push handler of the deadline reminders (asm/jobs/reminders.py sends {title, body, url, tag}). A service
// worker of its own (scope /static/push/, registered by push.js), or imported by another one:
//   importScripts("/static/push-sw.js");
// It adds listeners only (no fetch handler, no cache).
"use strict";
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = { title: "ASM", body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(data.title || "ASM", {
      body: data.body || "",
      tag: data.tag || "asm-reminder",
      lang: "vi",
      data: { url: data.url || "/" },
    }),
  );
});
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(self.clients.openWindow(url));
});
