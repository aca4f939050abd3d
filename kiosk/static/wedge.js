// Why a keyboard-wedge scan came out wrong: the browser's copy of kiosk/wedge.py (same rules, same codes and
// samples), so that a kiosk with no server in reach still tells staff what to change. The messages come
// translated from the server with the screen's texts (wedge_<code>). tests/vectors/cccd.json ("wedge") drives
// both copies.

const AZERTY_DIGITS = new Set("&é\"'(-è_çà");
const MIN_FIELDS = 7;
// Python's \w for str patterns is "alphanumeric or underscore" in Unicode; \d is any decimal digit (Nd).
const LETTER = String.raw`(?:(?!\p{Nd})[\p{L}\p{N}])`;
const ALT_CODE = new RegExp(String.raw`${LETTER}\p{Nd}{3,4}|\p{Nd}{3,4}${LETTER}`, "u");
const VNI = /[aeiouyAEIOUYăâêôơưĂÂÊÔƠƯ][1-9]{1,2}(?!\p{Nd})/u;
const VIQR = /[aeiouyAEIOUYd][\^~`?(+*]|[aeiouyAEIOUY]\.(?=[\p{L}\p{N}_])/u;
const TELEX_SEX = /^nu(?:w[sfrxj]?|[sfrxj]w)$/u;
const TELEX_WORD = /aa|aw|ee|oo|ow|uw|dd|w[sfrxj]?$|[aeiouy][sfrxj]$/u;
// Python's str.isspace() characters, for split() and strip().
const SPACE_CHARS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const SPACE = new RegExp("[" + SPACE_CHARS + "]+", "u");

const codePoints = (text) => Array.from(text);
const isAscii = (text) => /^[\x00-\x7f]*$/.test(text);
const casefold = (text) => text.toLowerCase();

function short(text, limit = 24) {
  const list = codePoints(text);
  return list.length <= limit ? text : list.slice(0, limit - 1).join("") + "…";
}

function stripEnds(text, chars) {
  const list = codePoints(text);
  let start = 0;
  let end = list.length;
  while (start < end && chars.includes(list[start])) start += 1;
  while (end > start && chars.includes(list[end - 1])) end -= 1;
  return list.slice(start, end).join("");
}

function wordAround(field, index) {
  const start = field.lastIndexOf(" ", index - 1) + 1;
  const end = field.indexOf(" ", index);
  return short(field.slice(start, end !== -1 ? end : field.length));
}

/** The likeliest cause of a garbled keyboard-wedge scan as {code, sample}, or null when the text shows no trace. */
export function diagnose(input) {
  const text = stripEnds(input || "", ["\r", "\n", "\x00", "\ufeff"]);
  const fields = text.split("|");
  const head = codePoints(text).slice(0, 12);
  if (head.filter((ch) => AZERTY_DIGITS.has(ch)).length >= 6) return { code: "keyboard_layout", sample: short(head.join("")) };
  if (fields.length < 3 && codePoints(text).length >= 30) return { code: "keyboard_layout", sample: short(text) };
  if (fields.length < MIN_FIELDS) return null;
  const [name, sex, address] = [fields[2], stripEnds(fields[4], SPACE_CHARS), fields[5]];
  for (const field of [name, sex]) {
    const match = ALT_CODE.exec(field);
    if (match) return { code: "alt_codes", sample: wordAround(field, match.index) };
  }
  for (const field of [name, sex]) {
    for (const pattern of [VNI, VIQR]) {
      const match = pattern.exec(field);
      if (match) return { code: "input_method", sample: wordAround(field, match.index) };
    }
  }
  if (TELEX_SEX.test(casefold(sex))) return { code: "input_method", sample: sex };
  if (casefold(sex) === "nu") return { code: "diacritics_lost", sample: sex };
  if (stripEnds(name, SPACE_CHARS) && stripEnds(address, SPACE_CHARS) && isAscii(name) && isAscii(address)) {
    const words = casefold(name)
      .split(SPACE)
      .filter((w) => w && TELEX_WORD.test(w));
    if (words.length >= 2) return { code: "input_method", sample: short(words.join(" ")) };
    return { code: "diacritics_lost", sample: short(stripEnds(name, SPACE_CHARS)) };
  }
  return null;
}
