// Web Push for the deadline reminders (asm/jobs): the button on the owner's reminders page subscribes this browser
// and sends the subscription to the server. The push handler lives in push-sw.js, registered under its own scope so
// that it never clashes with the desk's offline service worker (which may also importScripts it).
"use strict";
(function () {
  const button = document.getElementById("push-subscribe");
  const status = document.getElementById("push-status");
  if (!button || !("serviceWorker" in navigator) || !("PushManager" in window)) {
    if (button) button.hidden = true;
    return;
  }
  function keyBytes(base64url) {
    const base64 = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }
  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  button.addEventListener("click", async () => {
    try {
      if ((await Notification.requestPermission()) !== "granted") throw new Error("denied");
      const registration = await navigator.serviceWorker.register("/static/push-sw.js", { scope: "/static/push/" });
      await navigator.serviceWorker.ready;
      const subscription =
        (await registration.pushManager.getSubscription()) ||
        (await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(button.dataset.key),
        }));
      const response = await fetch(button.dataset.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
        body: JSON.stringify(subscription.toJSON()),
      });
      if (!response.ok) throw new Error(String(response.status));
      status.textContent = button.dataset.done;
    } catch (error) {
      status.textContent = button.dataset.failed;
    }
  });
})();
