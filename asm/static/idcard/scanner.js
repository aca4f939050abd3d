// QR decoding on the device, for the kiosk and the desk: zxing-cpp built to WebAssembly (npm `zxing-wasm`), served
// by this app from node_modules (/vendor/zxing-wasm/..., never a CDN), with the options of the server's
// ZxingDecoder (asm/idcard/decode.py): QR codes only, rotation and downscaling tried, no inversion. Like the server,
// it reads each code's raw bytes and decodes them as UTF-8 itself (bad bytes become U+FFFD, which the parser
// refuses as mojibake): no charset guess can garble Vietnamese.
//
// The Content-Security-Policy allows compiling WebAssembly ('wasm-unsafe-eval'), nothing looser. When the module or
// its .wasm cannot load, `loadReader` rejects and the page keeps the server's decode path.

import { utf8Text } from "./cccd.js";

export const READER_OPTIONS = Object.freeze({
  formats: ["QRCode"],
  tryHarder: true,
  tryRotate: true,
  tryInvert: false, // cards print dark on light; inverting doubles the time of a miss
  tryDownscale: true,
  maxNumberOfSymbols: 4,
});

/**
 * Load zxing-wasm from `moduleUrl` (its ES module) and compile `wasmUrl` now, so that the first frame is fast.
 * Resolves to a reader: `read(image)` → the texts of the QR codes found (ImageData or an image Blob), in order,
 * without duplicates.
 */
export async function loadReader({ moduleUrl, wasmUrl }) {
  const zxing = await import(moduleUrl);
  const wasm = new URL(wasmUrl, document.baseURI).href;
  await zxing.prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasm : prefix + path) },
    fireImmediately: true,
  });
  return {
    version: zxing.ZXING_WASM_VERSION,
    async read(image) {
      const results = await zxing.readBarcodes(image, READER_OPTIONS);
      return [...new Set(results.filter((r) => r.isValid).map((r) => utf8Text(r.bytes)))];
    },
  };
}

/**
 * Grab the video's current frame at its own size (e.g. 1280×720) as ImageData, through one reusable canvas.
 */
export function frameGrabber() {
  const canvas = document.createElement("canvas");
  let context = null;
  return (video) => {
    const { videoWidth: width, videoHeight: height } = video;
    if (!width || !height) return null;
    if (canvas.width !== width || canvas.height !== height || !context) {
      canvas.width = width;
      canvas.height = height;
      context = canvas.getContext("2d", { willReadFrequently: true });
    }
    context.drawImage(video, 0, 0, width, height);
    return context.getImageData(0, 0, width, height);
  };
}
