// What the offline queue costs on the device (docs/OFFLINE.md "Measured"): sealing a filing, and the offline
// staff PIN's PBKDF2. Run: node bench/offline_crypto.mjs
import { pinBits, seal } from "../asm/static/offline/queue.js";

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
const sealTimes = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  await seal(jwk, "x".repeat(800), "key");
  sealTimes.push(performance.now() - t0);
}
console.log(`seal 800 B: ${median(sealTimes).toFixed(2)} ms median of 50`);
const pinTimes = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await pinBits("2468", "MDEyMzQ1Njc4OWFiY2RlZg", 600000);
  pinTimes.push(performance.now() - t0);
}
console.log(`PBKDF2-SHA256 600000 rounds, 512 bits: ${median(pinTimes).toFixed(0)} ms median of 5`);
