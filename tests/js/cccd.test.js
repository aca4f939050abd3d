// The browser's ID-card parser (asm/static/idcard/cccd.js) and wedge diagnosis (kiosk/static/wedge.js) against the
// test vectors the server's parser passes too (tests/vectors/cccd.json; pytest: tests/idcard/test_vectors.py).
// Run by `npm test` (node's built-in runner, no browser), which `make test` calls.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

import * as cccd from "../../asm/static/idcard/cccd.js";
import { diagnose } from "../../kiosk/static/wedge.js";

const VECTORS = JSON.parse(readFileSync(new URL("../vectors/cccd.json", import.meta.url), "utf-8"));
const TODAY = VECTORS.today;

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (pair) => parseInt(pair, 16));
const codes = (list) => (list === undefined ? cccd.ABROAD_COUNTRY_CODES : new Set(list));

/** What the function returned, or the error it threw, in the table's shape. */
function outcome(call) {
  try {
    const value = call();
    return { expect: value === undefined ? null : value };
  } catch (exc) {
    if (!(exc instanceof cccd.CardError)) throw exc;
    return { error: { code: exc.code, field: exc.field, params: exc.params, vi: exc.messageVi, en: exc.messageEn } };
  }
}

function expected(testCase) {
  return "error" in testCase ? { error: testCase.error } : { expect: testCase.expect === undefined ? null : testCase.expect };
}

// section -> how one of its cases calls the browser's parser
const CALLS = {
  parse: (c) => cccd.parseQrText(c.text, { today: c.today || TODAY, countryCodes: codes(c.country_codes) }),
  normalize_text: (c) => cccd.normalizeText(c.text),
  parse_sex: (c) => cccd.parseSex(c.text),
  normalize_name: (c) => cccd.normalizeName(c.text),
  find_mojibake: (c) => cccd.findMojibake(c.text),
  decode_qr_bytes: (c) => cccd.decodeQrBytes(hexBytes(c.hex)),
  parse_qr_bytes: (c) => cccd.parseQrBytes(hexBytes(c.hex), { today: c.today || TODAY }),
  check_id_number: (c) =>
    cccd.checkIdNumber(c.number, { birthDate: c.birth_date ?? null, sex: c.sex ?? null, countryCodes: codes(c.country_codes) }),
  century_sex_digit: (c) => cccd.centurySexDigit(c.year, c.sex),
  check_old_id: (c) => cccd.checkOldId(c.number),
  normalize_document: (c) => cccd.normalizeDocument(c.doc_type, c.number, c.nationality),
  normalize_nationality: (c) => cccd.normalizeNationality(c.value),
  province_name: (c) => cccd.provinceName(c.code),
};

for (const [section, call] of Object.entries(CALLS)) {
  describe(section, () => {
    assert.ok(VECTORS[section].length > 0, `no vectors in ${section}`);
    for (const testCase of VECTORS[section]) {
      test(testCase.id, () => assert.deepEqual(outcome(() => call(testCase)), expected(testCase)));
    }
  });
}

describe("errors", () => {
  for (const testCase of VECTORS.errors) {
    test(testCase.id, () => {
      const error = new cccd.CardError(testCase.code, testCase.field, testCase.params);
      assert.deepEqual([error.messageVi, error.messageEn], [testCase.vi, testCase.en]);
      assert.equal(error.messageFor("vi_VN"), testCase.vi);
      assert.equal(error.messageFor("fr"), testCase.en);
      assert.deepEqual(error.toDict("vi"), { code: testCase.code, field: testCase.field, message: testCase.vi });
    });
  }
  test("an unknown code or field, or a missing parameter, is a programming error", () => {
    assert.throws(() => new cccd.CardError("no_such_code"), RangeError);
    assert.throws(() => new cccd.CardError("empty", "no_such_field"), RangeError);
    assert.throws(() => new cccd.CardError("id_number_format", "id_number"), RangeError);
  });
});

describe("wedge", () => {
  for (const testCase of VECTORS.wedge) {
    test(testCase.id, () => {
      assert.deepEqual(diagnose(testCase.text), testCase.diagnosis);
      assert.deepEqual(outcome(() => cccd.parseQrText(testCase.text, { today: TODAY })), testCase.parse);
    });
  }
});

describe("the parser's own properties", () => {
  test("the default today is today in Vietnam (UTC+7, no daylight saving)", () => {
    assert.equal(cccd.vietnamToday(Date.UTC(2025, 5, 1, 16, 59)), "2025-06-01");
    assert.equal(cccd.vietnamToday(Date.UTC(2025, 5, 1, 17, 0)), "2025-06-02");
    const card = VECTORS.parse.find((c) => c.id === "example");
    assert.deepEqual(cccd.parseQrText(card.text), card.expect);
  });

  test("the mask keeps the last four digits", () => {
    assert.equal(cccd.mask("034303011829"), "********1829");
    assert.equal(cccd.mask("123"), "123");
  });

  // A seeded generator of valid cards with scanner noise: the parse gives the card back (as test_parse.py's
  // hypothesis round trip does on the server).
  test("round trip with scanner noise", () => {
    let seed = 20250601;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = (list) => list[Math.floor(random() * list.length)];
    const tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"];
    const letters = [..."aăâeêioôơuưy"].flatMap((v) => tones.map((t) => (v + t).normalize("NFC"))).concat([..."bcdđghklmnpqrstvx"]);
    const word = () => Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(letters)).join("");
    const provinces = Object.keys(cccd.PROVINCE_CODES);
    for (let i = 0; i < 300; i += 1) {
      const year = 1900 + Math.floor(random() * 125);
      const birth = `${year}-${String(1 + Math.floor(random() * 12)).padStart(2, "0")}-${String(1 + Math.floor(random() * 28)).padStart(2, "0")}`;
      const sex = pick(["M", "F"]);
      const id = pick(provinces) + cccd.centurySexDigit(year, sex) + String(year % 100).padStart(2, "0") + String(Math.floor(random() * 1e6)).padStart(6, "0");
      const name = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const w = word();
        return w[0].toUpperCase() + w.slice(1);
      }).join(" ");
      const address = `${Math.floor(random() * 999)} ${word()}, ${word()}`;
      const dd = (iso) => iso.slice(8) + iso.slice(5, 7) + iso.slice(0, 4);
      const fields = [id, random() < 0.5 ? "" : "151234567", pick([name, name.toUpperCase(), name.toLowerCase()]), dd(birth), sex === "M" ? pick(["Nam", "NAM"]) : pick(["Nữ", "NỮ"]), address, ""];
      let text = fields.map((f) => pick(["", " ", "  "]) + f + pick(["", " "])).join("|");
      if (random() < 0.5) text = text.normalize("NFD");
      text = pick(["", "\ufeff"]) + text + pick(["", "\r", "\n", "\r\n", "\x00"]);
      const card = cccd.parseQrText(text, { today: TODAY });
      assert.deepEqual(
        [card.id_number, card.full_name, card.birth_date, card.sex, card.address, card.card_format],
        [id, name.normalize("NFC"), birth, sex, address.normalize("NFC"), "cccd_7"],
        text,
      );
    }
  });
});
