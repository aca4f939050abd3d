// Every script the app serves parses: a merge that drops a closing brace fails here, not in a user's browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const ROOTS = ["asm/static", "kiosk/static"];

function scripts(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return scripts(path);
    return /\.m?js$/.test(entry.name) ? [path] : [];
  });
}

const files = ROOTS.flatMap(scripts);

test("the app serves scripts", () => assert.ok(files.length >= 4, files.join(", ")));

for (const file of files) {
  test(`${file} parses`, () => {
    execFileSync(process.execPath, ["--check", file], { stdio: "pipe" });
  });
}
