// The CCCD / căn cước / VNeID QR parser of the browser: the same rules, the same stable error codes and the same
// vi/en messages as the server's asm/idcard (parse.py, idnumber.py, errors.py), so that a kiosk or a desk with no
// server in reach shows the confirmation from its own parse. The server still parses and checks everything it
// receives. Province codes, messages and the Unicode facts Python takes from `unicodedata` come from rules.js,
// generated from the Python modules (asm/idcard/browser.py); tests/vectors/cccd.json drives both parsers.
//
// Values follow CardData.as_dict(): dates are ISO strings ("2003-03-21"), sex is "M" or "F". Every function that
// rejects a value throws a CardError. Strings are handled by code point, as Python does.

import RULES from "./rules.js";

export const MIN_FIELDS = 7;
export const FIELD_ORDER = ["id_number", "old_id_number", "full_name", "birth_date", "sex", "address", "issue_date"];
export const CARD_FORMAT_CCCD = "cccd_7";
export const CARD_FORMAT_CAN_CUOC = "can_cuoc";
export const PROVINCE_CODES = Object.freeze({ ...RULES.provinces });
export const ABROAD_COUNTRY_CODES = Object.freeze(new Set(RULES.abroad_country_codes));
export const SEXES = ["M", "F"];
export const DOC_TYPES = ["cccd", "cmnd", "passport"];
export const VIETNAM = "VNM";
export const FIRST_CODED_YEAR = 1900;
export const LAST_CODED_YEAR = 2399;

// ------------------------------------------------------------------------------------------------ errors

/** A rejected ID-card value: `code` is stable, `field` names the form field (null for the whole text). */
export class CardError extends Error {
  constructor(code, field = null, params = {}) {
    const templates = RULES.messages[code];
    if (!templates) throw new RangeError(`unknown CardError code ${JSON.stringify(code)}`);
    const labels = RULES.field_labels[field === null ? "" : field];
    if (!labels) throw new RangeError(`unknown CardError field ${JSON.stringify(field)}`);
    const render = (index) => {
      const values = { label: labels[index] };
      // A parameter that is a phrase of the catalogue (RULES.phrases) is translated with the message.
      for (const [name, value] of Object.entries(params)) values[name] = RULES.phrases[value]?.[index] ?? value;
      const text = templates[index].replace(/\{(\w+)\}/g, (_, name) => {
        if (!(name in values)) throw new RangeError(`CardError ${code}: missing parameter ${name}`);
        return String(values[name]);
      });
      const [first = "", ...rest] = Array.from(text);
      return first.toUpperCase() + rest.join("");
    };
    const messageVi = render(0);
    const messageEn = render(1);
    super(`${code}: ${messageEn}`);
    this.name = "CardError";
    this.code = code;
    this.field = field;
    this.params = { ...params };
    this.messageVi = messageVi;
    this.messageEn = messageEn;
  }

  /** The message for a locale such as "vi", "vi_VN" or "en"; any other locale gets English. */
  messageFor(locale) {
    return String(locale || "").toLowerCase().startsWith("vi") ? this.messageVi : this.messageEn;
  }

  withField(field) {
    return new CardError(this.code, field, this.params);
  }

  toDict(locale) {
    return { code: this.code, field: this.field, message: this.messageFor(locale) };
  }
}

// ------------------------------------------------------------------------------------------------ Unicode, as Python sees it

function inRanges(ranges, point) {
  let low = 0;
  let high = ranges.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (point < ranges[mid][0]) high = mid - 1;
    else if (point > ranges[mid][1]) low = mid + 1;
    else return true;
  }
  return false;
}

const chars = (text) => Array.from(text);
const point = (char) => char.codePointAt(0);
const isSurrogate = (p) => p >= 0xd800 && p <= 0xdfff;
/** Python's str.isspace(). */
export const isSpace = (char) => inRanges(RULES.whitespace, point(char));
const isAlpha = (char) => /^\p{L}$/u.test(char);
const isAscii = (text) => /^[\x00-\x7f]*$/.test(text);
const nfc = (text) => text.normalize("NFC");

/** Python's str.strip() with no argument. */
export function pyStrip(text) {
  const list = chars(text);
  let start = 0;
  let end = list.length;
  while (start < end && isSpace(list[start])) start += 1;
  while (end > start && isSpace(list[end - 1])) end -= 1;
  return list.slice(start, end).join("");
}

/** Python's str.split() with no argument: runs of whitespace, no empty words. */
export function pySplit(text) {
  const words = [];
  let word = "";
  for (const char of chars(text)) {
    if (isSpace(char)) {
      if (word) words.push(word);
      word = "";
    } else word += char;
  }
  if (word) words.push(word);
  return words;
}

const collapse = (value) => pySplit(value).join(" ");
const digitsOnly = (value) => pySplit(value).join("");
const unique = (list) => [...new Set(list)];

// ------------------------------------------------------------------------------------------------ text

const REMOVED = /[\ufeff\x00\r\n]/g;

/** NFC; remove every BOM, NUL, CR and LF; trim each field. "||" is never collapsed. */
export function normalizeText(text) {
  return nfc(text.replace(REMOVED, ""))
    .split("|")
    .map(pyStrip)
    .join("|");
}

function suspicious(char) {
  const p = point(char);
  return isSurrogate(p) || inRanges(RULES.suspicious, p);
}

// cp1252 bytes 0x80-0x9F (five are undefined and cannot be encoded, as in Python's codec).
const CP1252_HIGH = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ";
const CP1252_UNDEFINED = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);

function encodeCp1252(text) {
  const bytes = [];
  for (const char of chars(text)) {
    const p = point(char);
    if (p < 0x80 || (p >= 0xa0 && p <= 0xff)) bytes.push(p);
    else {
      const index = CP1252_HIGH.indexOf(char);
      if (index < 0 || CP1252_UNDEFINED.has(0x80 + index)) return null;
      bytes.push(0x80 + index);
    }
  }
  return Uint8Array.from(bytes);
}

function encodeLatin1(text) {
  const bytes = [];
  for (const char of chars(text)) {
    const p = point(char);
    if (p > 0xff) return null;
    bytes.push(p);
  }
  return Uint8Array.from(bytes);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** True for UTF-8 bytes that were decoded as Latin-1/cp1252 ("Nữ" → "Ná»¯"). */
function utf8ReadAsLatin1(field) {
  if (isAscii(field)) return false;
  for (const encode of [encodeCp1252, encodeLatin1]) {
    const bytes = encode(field);
    if (bytes === null) continue;
    let repaired;
    try {
      repaired = strictUtf8.decode(bytes);
    } catch (e) {
      continue;
    }
    if (repaired !== field) return true;
  }
  return false;
}

/** The offending characters (at most 5) when a field looks mis-decoded, else null (see parse.py). */
export function findMojibake(field) {
  const bad = chars(field).filter((char) => char !== "\t" && suspicious(char));
  if (bad.length) return unique(bad).slice(0, 5).join("");
  if (utf8ReadAsLatin1(field)) return unique(chars(field).filter((char) => !isAscii(char))).slice(0, 5).join("");
  return null;
}

/** Python's repr() of a bytes value, as decode_qr_bytes puts it in its message. */
function bytesRepr(bytes) {
  const list = Array.from(bytes);
  const quote = list.includes(0x27) && !list.includes(0x22) ? '"' : "'";
  let out = "b" + quote;
  for (const b of list) {
    if (b === 0x5c) out += "\\\\";
    else if (b === quote.charCodeAt(0)) out += "\\" + quote;
    else if (b === 0x09) out += "\\t";
    else if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b < 0x20 || b >= 0x7f) out += "\\x" + b.toString(16).padStart(2, "0");
    else out += String.fromCharCode(b);
  }
  return out + quote;
}

/** Where strict UTF-8 decoding fails (Python's UnicodeDecodeError.start), or -1 for valid UTF-8. */
function firstInvalidUtf8(bytes) {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let need = 0;
    let low = 0x80;
    let high = 0xbf;
    if (b < 0x80) {
      i += 1;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k += 1) {
      const c = bytes[i + k];
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** The raw bytes of a QR code as strict UTF-8; throws CardError("mojibake") rather than guess a charset. */
export function decodeQrBytes(bytes) {
  const data = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
  const start = firstInvalidUtf8(data);
  if (start >= 0) throw new CardError("mojibake", null, { sample: bytesRepr(data.slice(start, start + 4)) });
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(data);
}

/** What the server's decoders do with a code's bytes (decode.py utf8_text): UTF-8, bad bytes become U+FFFD,
 * which the strict parser then refuses as mojibake. */
export function utf8Text(bytes) {
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
}

// ------------------------------------------------------------------------------------------------ fields

// The rules of every person's name and address in ASM (asm/text.py: person_name, address), which parse.py applies.

const APOSTROPHES = /[’ʼ‘]/g;
const SEPARATORS = ["'", "-"];
const isLatinLetter = (char) => inRanges(RULES.latin_letters, point(char));
const isNameChar = (char) => char === " " || SEPARATORS.includes(char) || isLatinLetter(char);
/** text.is_forbidden: a control but TAB, CR and LF, a lone surrogate, a bidirectional control. */
const isForbidden = (char) => isSurrogate(point(char)) || inRanges(RULES.forbidden, point(char));
const firstForbidden = (text) => chars(text).find(isForbidden);

/** text.describe: a character as a message shows it, itself when visible, else its code point ("U+202E"). */
export function describe(char) {
  const p = point(char);
  return inRanges(RULES.shown, p) ? char : `U+${p.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** text.collapse: runs of whitespace (space, TAB, CR, LF, Unicode spaces) become one space; ends trimmed. */
export function textCollapse(value) {
  let out = "";
  let space = false;
  for (const char of chars(value)) {
    const isRun = inRanges(RULES.spaces, point(char));
    if (!isRun) out += char;
    else if (!space) out += " ";
    space = isRun;
  }
  return pyStrip(out);
}

function separatorAtFault(word) {
  const list = chars(word);
  if (SEPARATORS.includes(list[0])) return list[0];
  if (SEPARATORS.includes(list[list.length - 1])) return list[list.length - 1];
  const at = list.findIndex((char, i) => SEPARATORS.includes(char) && SEPARATORS.includes(list[i + 1]));
  return list[at] + list[at + 1];
}

const nameInvalid = (char) => new CardError("name_invalid", "full_name", { char: describe(char) });

// Python's lower() and upper() of one character: a letter with no case in Python's Unicode stays as it is, even
// where the browser's newer Unicode gave it a partner (ƛ, ɤ: capitals since Unicode 16).
const hasCase = (char) => !inRanges(RULES.caseless_letters, point(char));
const lower = (char) => (hasCase(char) ? char.toLowerCase() : char);
const upper = (char) => (hasCase(char) ? char.toUpperCase() : char);

function titleWord(word) {
  let out = "";
  let upperNext = true;
  for (let char of chars(word).flatMap((c) => chars(lower(c)))) {
    if (upperNext && isAlpha(char)) {
      const capital = upper(char);
      if (chars(capital).length !== 1 || !isLatinLetter(capital)) throw nameInvalid(char);
      char = capital;
    }
    out += char;
    if (isAlpha(char)) upperNext = false;
    else if (SEPARATORS.includes(char)) upperNext = true;
  }
  return out;
}

/** NFC, single spaces, title case per word; throws name_missing, name_invalid or name_too_long. */
export function normalizeName(value) {
  const typed = nfc(value || "").replace(APOSTROPHES, "'");
  const bad = firstForbidden(typed);
  if (bad !== undefined) throw nameInvalid(bad);
  const text = textCollapse(typed);
  if (!text) throw new CardError("name_missing", "full_name");
  for (const char of chars(text)) if (!isNameChar(char)) throw nameInvalid(char);
  for (const word of text.split(" ")) {
    if (word.split(/['-]/).some((part) => !part)) throw new CardError("name_invalid", "full_name", { char: separatorAtFault(word) });
  }
  const result = nfc(text.split(" ").map(titleWord).join(" "));
  for (const char of chars(result)) if (!isNameChar(char)) throw nameInvalid(char);
  if (chars(result).length > RULES.limits.name_max) throw new CardError("name_too_long", "full_name", { max: RULES.limits.name_max });
  return result;
}

/** NFC, single spaces; throws address_missing, address_invalid or address_too_long. */
export function normalizeAddress(value) {
  const invalid = (char) => new CardError("address_invalid", "address", { char: describe(char) });
  const typed = nfc(value || "");
  const bad = firstForbidden(typed);
  if (bad !== undefined) throw invalid(bad);
  const text = textCollapse(typed);
  if (!text) throw new CardError("address_missing", "address");
  const list = chars(text);
  for (const char of list) if (!inRanges(RULES.address_chars, point(char))) throw invalid(char);
  if (!isLatinLetter(list[0]) && !/^[0-9]$/.test(list[0])) throw invalid(list[0]);
  if (list.length > RULES.limits.address_max) throw new CardError("address_too_long", "address", { max: RULES.limits.address_max });
  return text;
}

/** "Nam" → "M", "Nữ" → "F", any case, NFC or NFD; "Nu" → diacritics_lost; else sex_invalid. */
export function parseSex(value) {
  const text = collapse(nfc(value)).toLowerCase();
  if (text === "nam") return "M";
  if (text === "nữ") return "F";
  if (text === "nu") throw new CardError("diacritics_lost", "sex", { value });
  throw new CardError("sex_invalid", "sex", { value });
}

const pad = (n, width) => String(n).padStart(width, "0");
const isLeap = (y) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** An ISO date string from ddmmyyyy, or null when it is not a real date (Python's date(): years 1–9999). */
function dateFromDigits(text) {
  if (!/^[0-9]{8}$/.test(text)) return null;
  const day = Number(text.slice(0, 2));
  const month = Number(text.slice(2, 4));
  const year = Number(text.slice(4));
  if (year < 1 || month < 1 || month > 12 || day < 1) return null;
  if (day > (month === 2 && isLeap(year) ? 29 : DAYS[month - 1])) return null;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

function parseDate(value, code, field) {
  const iso = dateFromDigits(digitsOnly(value));
  if (iso === null) throw new CardError(code, field, { value });
  return iso;
}

const yearOf = (iso) => Number(iso.slice(0, 4));
/** dd/mm/YYYY as Python's strftime writes it (the year not padded). */
const dmy = (iso) => `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${yearOf(iso)}`;

// ------------------------------------------------------------------------------------------------ numbers

function checkSex(sex) {
  if (!SEXES.includes(sex)) throw new CardError("sex_invalid", "sex", { value: sex });
}

/** Throws birth_date_out_of_range for a birth year digit 4 cannot encode (before 1900, after 2399). */
export function checkCodedYear(year) {
  if (!(FIRST_CODED_YEAR <= year && year <= LAST_CODED_YEAR)) throw new CardError("birth_date_out_of_range", "birth_date", { year });
}

/** Digit 4 of the ID number for a birth year (1900–2399) and a sex ("M"/"F"). */
export function centurySexDigit(birthYear, sex) {
  checkCodedYear(birthYear);
  checkSex(sex);
  return String((Math.floor(birthYear / 100) - 19) * 2 + (sex === "F" ? 1 : 0));
}

/** True when `code` is a province code or one of the accepted country codes. */
export function isPlaceCode(code, countryCodes = ABROAD_COUNTRY_CODES) {
  return Object.hasOwn(PROVINCE_CODES, code) || countryCodes.has(code);
}

export function provinceName(code) {
  return Object.hasOwn(PROVINCE_CODES, code) ? PROVINCE_CODES[code] : null;
}

/** Throws unless `number` is a well-formed 12-digit personal ID number (checks in idnumber.py's order). */
export function checkIdNumber(number, { birthDate = null, sex = null, countryCodes = ABROAD_COUNTRY_CODES } = {}) {
  if (!/^[0-9]{12}$/.test(number)) throw new CardError("id_number_format", "id_number", { value: number });
  if (!isPlaceCode(number.slice(0, 3), countryCodes)) throw new CardError("id_province_code", "id_number", { code: number.slice(0, 3) });
  if (birthDate === null && sex === null) return;
  let allowed = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  if (birthDate !== null) {
    checkCodedYear(yearOf(birthDate));
    const base = (Math.floor(yearOf(birthDate) / 100) - 19) * 2;
    allowed = allowed.filter((d) => d === base || d === base + 1);
  }
  if (sex !== null) {
    checkSex(sex);
    allowed = allowed.filter((d) => d % 2 === (sex === "F" ? 1 : 0));
  }
  if (!allowed.includes(Number(number[3]))) {
    throw new CardError("id_century_sex_mismatch", "id_number", { digit: number[3], expected: allowed.join("/") });
  }
  if (birthDate !== null) {
    const expected = pad(yearOf(birthDate) % 100, 2);
    if (number.slice(4, 6) !== expected) {
      throw new CardError("id_birth_year_mismatch", "id_number", { digits: number.slice(4, 6), year: yearOf(birthDate), expected });
    }
  }
}

/** Throws old_id_format unless `number` is an old CMND number of 9 ASCII digits. */
export function checkOldId(number) {
  if (!/^[0-9]{9}$/.test(number)) throw new CardError("old_id_format", "old_id_number", { value: number });
}

/** Upper-case, trimmed alpha-3 code, or null when empty. */
export function normalizeNationality(nationality) {
  if (nationality === null || nationality === undefined || !pyStrip(nationality)) return null;
  const value = pyStrip(nfc(nationality)).toUpperCase();
  if (!/^[A-Z]{3}$/.test(value)) throw new CardError("nationality_format", "nationality", { value: pyStrip(nationality) });
  return value;
}

/** The canonical document number (cccd, cmnd, passport) or a CardError, as idnumber.normalize_document. */
export function normalizeDocument(docType, number, nationality, { countryCodes = ABROAD_COUNTRY_CODES } = {}) {
  const kind = pyStrip(docType).toLowerCase();
  if (!DOC_TYPES.includes(kind)) throw new CardError("document_type_invalid", "document_type", { value: docType });
  const nation = normalizeNationality(nationality);
  const value = pySplit(nfc(number)).join("").toUpperCase();
  if (kind === "cccd" || kind === "cmnd") {
    if (nation !== null && nation !== VIETNAM) throw new CardError("document_nationality_mismatch", "nationality", { value: nation || "" });
    if (kind === "cccd") {
      try {
        checkIdNumber(value, { countryCodes });
      } catch (exc) {
        throw exc instanceof CardError ? exc.withField("document_number") : exc;
      }
    } else if (!/^[0-9]{9}$/.test(value)) {
      throw new CardError("document_number_format", "document_number", { value, rule: "CMND gồm 9 chữ số" });
    }
    return value;
  }
  if (nation === null) throw new CardError("nationality_required", "nationality");
  if (nation === VIETNAM) {
    if (!/^[A-Z][0-9]{7}$/.test(value)) {
      const rule = "hộ chiếu Việt Nam gồm 1 chữ cái và 7 chữ số";
      throw new CardError("document_number_format", "document_number", { value, rule });
    }
  } else if (!/^[A-Z0-9]{5,20}$/.test(value)) {
    const rule = "số hộ chiếu gồm 5–20 chữ cái không dấu hoặc chữ số";
    throw new CardError("document_number_format", "document_number", { value, rule });
  }
  return value;
}

// ------------------------------------------------------------------------------------------------ the card

/** Today in Asia/Ho_Chi_Minh (the server's local_today), as an ISO date, for a clock reading in ms. */
export function vietnamToday(nowMs = Date.now()) {
  return new Date(nowMs + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

/**
 * Parse and strictly check the QR text of an ID card; throws the first CardError in parse.py's documented order.
 * `today` (ISO date; default today in Vietnam) bounds the dates; `countryCodes` the codes of births abroad.
 * Returns CardData.as_dict()'s shape.
 */
export function parseQrText(text, { today = null, countryCodes = ABROAD_COUNTRY_CODES } = {}) {
  const day = today || vietnamToday();
  const normalized = normalizeText(text);
  if (!normalized.replace(/^\|+|\|+$/g, "")) throw new CardError("empty");
  const fields = normalized.split("|");
  fields.forEach((field, index) => {
    const sample = findMojibake(field);
    if (sample !== null) throw new CardError("mojibake", index < FIELD_ORDER.length ? FIELD_ORDER[index] : null, { sample });
  });
  if (fields.length < MIN_FIELDS) throw new CardError("too_few_fields", null, { count: fields.length });

  const [rawId, rawOld, rawName, rawBirth, rawSex, rawAddress, rawIssue] = fields;

  const idNumber = digitsOnly(rawId);
  checkIdNumber(idNumber, { countryCodes });

  const oldId = digitsOnly(rawOld) || null;
  if (oldId !== null) checkOldId(oldId);

  const fullName = normalizeName(rawName);

  const birthDate = parseDate(rawBirth, "birth_date_invalid", "birth_date");
  checkCodedYear(yearOf(birthDate));
  if (birthDate > day) throw new CardError("birth_date_future", "birth_date", { value: dmy(birthDate) });

  const sex = parseSex(rawSex);

  const address = normalizeAddress(rawAddress);

  let issueDate = null;
  if (digitsOnly(rawIssue)) {
    issueDate = parseDate(rawIssue, "issue_date_invalid", "issue_date");
    if (issueDate < birthDate) {
      throw new CardError("issue_date_before_birth", "issue_date", { value: dmy(issueDate), birth: dmy(birthDate) });
    }
    if (issueDate > day) throw new CardError("issue_date_future", "issue_date", { value: dmy(issueDate) });
  }

  checkIdNumber(idNumber, { birthDate, sex, countryCodes });

  const extras = fields.slice(MIN_FIELDS);
  for (const extra of extras) {
    const bad = chars(extra).find((char) => isSurrogate(point(char)) || inRanges(RULES.hidden_in_extras, point(char)));
    if (bad !== undefined) throw new CardError("text_invalid", null, { char: describe(bad) });
  }
  return {
    id_number: idNumber,
    old_id_number: oldId,
    full_name: fullName,
    birth_date: birthDate,
    sex,
    address,
    issue_date: issueDate,
    extra_fields: extras,
    card_format: extras.length ? CARD_FORMAT_CAN_CUOC : CARD_FORMAT_CCCD,
  };
}

/** decodeQrBytes then parseQrText. */
export function parseQrBytes(bytes, options) {
  return parseQrText(decodeQrBytes(bytes), options);
}

/** The ID number masked but its last `keep` digits (asm.people.models.mask). */
export function mask(number, keep = 4) {
  return "*".repeat(Math.max(number.length - keep, 0)) + number.slice(Math.max(number.length - keep, 0));
}
