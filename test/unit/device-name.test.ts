import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceNameKey, deviceNameProblem, normalizeDeviceName } from '../../src/devices/device-name.js';

const valid = (name: string) => deviceNameProblem(normalizeDeviceName(name)) === undefined;

describe('device names', () => {
  it('accepts real names in many scripts, with the joiners and selectors those scripts and emoji need', () => {
    for (const name of [
      'My phone',
      'گوشی‌ام', // Persian, ZWNJ inside the word
      'ශ්‍රී ලංකා', // Sinhala, ZWJ
      'र्‍या', // Marathi eyelash ra
      'র‍্যাব', // Bengali
      'അവന്‍', // Malayalam chillu with ZWJ
      'תְּפִלִּין', // Hebrew with points
      'Téléphone',
      'электрон',
      '电话',
      '辻󠄀さんのiPhone', // ideographic variation selector after 辻
      '❤️ phone',
      '1️⃣ keycap',
      '👨‍👩‍👧 family tablet',
      '👍🏽 thumbs',
      '🏴󠁧󠁢󠁥󠁮󠁧󠁿 England', // flag tag sequence
      'e\u0301'.repeat(64), // 64 code points once composed
    ]) {
      assert.ok(valid(name), name);
    }
  });

  it('refuses invisible, blank, separator, bidi and control characters, stray joiners and tags, and overlong names', () => {
    for (const name of [
      '\u3164',
      '\u2800',
      '\u{1d159}',
      '\u{1d159}\u{1d159}',
      'a\u2028b',
      'a\u2029b',
      'a\u00a0b',
      'a\u200bb',
      'a\u202eb',
      'a\u2066b',
      'a\u{e0041}b',
      '\u200dphone',
      'phone \u200c',
      '\ufe0f',
      'a\u0000b',
      'a\ud800b',
      '\u{1f3f4}\u{e0067}\u{e0062}', // a tag sequence without its cancel tag
      'a\ufe0f'.repeat(33),
      'x'.repeat(65),
      '',
    ]) {
      assert.ok(!valid(name), JSON.stringify(name));
    }
  });

  it('gives look-alike names one key: case, confusables, full width, variation selectors', () => {
    const groups = [
      ['Phone', 'phone', 'PHONE', 'Phоne', 'Ｐｈｏｎｅ'],
      ['PayPal', 'PayPaI', 'paypal'],
      ['❤ phone', '❤️ phone'],
      ['© phone', '©️ phone'],
    ];
    for (const group of groups) {
      const keys = new Set(group.map(deviceNameKey));
      assert.equal(keys.size, 1, group.join(' / '));
    }
    assert.notEqual(deviceNameKey('Phone'), deviceNameKey('Tablet'));
    assert.notEqual(deviceNameKey('Work phone'), deviceNameKey('Home phone'));
  });
});
