import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ocraResponse, OcraSuiteError, parseSuite, questionFits } from '../../src/login/ocra.js';

// RFC 6287 Appendix C: the keys are the ASCII digits "1234567890" repeated to 20, 32 and 64 bytes.
const KEY20 = Buffer.from('12345678901234567890');
const KEY32 = Buffer.from('12345678901234567890123456789012');
const KEY64 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234');
const PIN = '1234';
// Appendix C's timestamp: 0x132d0b6 minutes ("Mar 25 2008, 12:06:30 GMT").
const T = 0x132d0b6n;

describe('OCRA (RFC 6287) — Appendix C test vectors', () => {
  it('C.1 one-way: OCRA-1:HOTP-SHA1-6:QN08', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA1-6:QN08');
    const expected = ['237653', '243178', '653583', '740991', '608993', '388898', '816933', '224598', '750600', '294470'];
    expected.forEach((r, i) => assert.equal(ocraResponse(suite, KEY20, { question: String(i).repeat(8) }), r, `Q=${String(i).repeat(8)}`));
  });

  it('C.1 one-way: OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1 (counter and PIN)', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1');
    const expected = ['65347737', '86775851', '78192410', '71565254', '10104329', '65983500', '70069104', '91771096', '75011558', '08522129'];
    expected.forEach((r, c) => assert.equal(ocraResponse(suite, KEY32, { counter: c, question: '12345678', password: PIN }), r, `C=${c}`));
  });

  it('C.1 one-way: OCRA-1:HOTP-SHA256-8:QN08-PSHA1', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA256-8:QN08-PSHA1');
    const expected = ['83238735', '01501458', '17957585', '86776967', '86807031'];
    expected.forEach((r, i) => assert.equal(ocraResponse(suite, KEY32, { question: String(i).repeat(8), password: PIN }), r));
  });

  it('C.1 one-way: OCRA-1:HOTP-SHA512-8:C-QN08', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA512-8:C-QN08');
    const expected = ['07016083', '63947962', '70123924', '25341727', '33203315', '34205738', '44343969', '51946085', '20403879', '31409299'];
    expected.forEach((r, i) => assert.equal(ocraResponse(suite, KEY64, { counter: i, question: String(i).repeat(8) }), r));
  });

  it('C.1 one-way: OCRA-1:HOTP-SHA512-8:QN08-T1M (timestamp)', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA512-8:QN08-T1M');
    const expected = ['95209754', '55907591', '22048402', '24218844', '36209546'];
    expected.forEach((r, i) => assert.equal(ocraResponse(suite, KEY64, { question: String(i).repeat(8), timeSteps: T }), r));
    // The same from a Unix time inside that minute.
    assert.equal(ocraResponse(suite, KEY64, { question: '00000000', time: Number(T) * 60 + 30 }), '95209754');
  });

  it('C.2 mutual: OCRA-1:HOTP-SHA256-8:QA08, server and client computations', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA256-8:QA08');
    const server = ['28247970', '01984843', '65387857', '03351211', '83412541'];
    const client = ['15510767', '90175646', '33777207', '95285278', '28934924'];
    for (let i = 0; i < 5; i++) {
      assert.equal(ocraResponse(suite, KEY32, { question: `CLI2222${i}SRV1111${i}` }), server[i]);
      assert.equal(ocraResponse(suite, KEY32, { question: `SRV1111${i}CLI2222${i}` }), client[i]);
    }
  });

  it('C.2 mutual: OCRA-1:HOTP-SHA512-8:QA08 (server) and OCRA-1:HOTP-SHA512-8:QA08-PSHA1 (client)', () => {
    const server = parseSuite('OCRA-1:HOTP-SHA512-8:QA08');
    const client = parseSuite('OCRA-1:HOTP-SHA512-8:QA08-PSHA1');
    const serverExpected = ['79496648', '76831980', '12250499', '90856481', '12761449'];
    const clientExpected = ['18806276', '70020315', '01600026', '18951020', '32528969'];
    for (let i = 0; i < 5; i++) {
      assert.equal(ocraResponse(server, KEY64, { question: `CLI2222${i}SRV1111${i}` }), serverExpected[i]);
      assert.equal(ocraResponse(client, KEY64, { question: `SRV1111${i}CLI2222${i}`, password: PIN }), clientExpected[i]);
    }
  });

  it('C.3 plain signature: OCRA-1:HOTP-SHA256-8:QA08', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA256-8:QA08');
    const expected = ['53095496', '04110475', '31331128', '76028668', '46554205'];
    expected.forEach((r, i) => assert.equal(ocraResponse(suite, KEY32, { question: `SIG1${i}000` }), r));
  });

  it('C.3 signature with timestamp: OCRA-1:HOTP-SHA512-8:QA10-T1M', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA512-8:QA10-T1M');
    const expected = ['77537423', '31970405', '10235557', '95213541', '65360607'];
    expected.forEach((r, i) => assert.equal(ocraResponse(suite, KEY64, { question: `SIG1${i}00000`, timeSteps: T }), r));
  });
});

describe('OCRA suites and questions', () => {
  it('parses the suite the service advertises', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA256-8:QH40');
    assert.deepEqual(
      { hash: suite.hash, digits: suite.digits, question: suite.question, counter: suite.counter, timeStep: suite.timeStep },
      { hash: 'sha256', digits: 8, question: { format: 'H', length: 40 }, counter: false, timeStep: 0 },
    );
  });

  it('refuses malformed suites', () => {
    for (const text of [
      'OCRA-2:HOTP-SHA1-6:QN08',
      'OCRA-1:HOTP-MD5-6:QN08',
      'OCRA-1:HOTP-SHA1-3:QN08',
      'OCRA-1:HOTP-SHA1-6:QX08',
      'OCRA-1:HOTP-SHA1-6:QN65',
      'OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1',
      'OCRA-1:HOTP-SHA1-6:QN08-T0S',
      'OCRA-1:HOTP-SHA1-6:QN08-T60M',
      'OCRA-1:HOTP-SHA1-6:QN08-T49H',
      'OCRA-1:HOTP-SHA1-6:QN08-S000',
      'OCRA-1:HOTP-SHA1-6:QN08-S513',
      'OCRA-1:HOTP-SHA1-6',
    ]) {
      assert.throws(() => parseSuite(text), OcraSuiteError, text);
    }
  });

  it('holds questions to the suite: format and maximum length', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA256-8:QH40');
    assert.ok(questionFits(suite, 'a'.repeat(40)));
    assert.ok(!questionFits(suite, 'a'.repeat(41)));
    assert.ok(!questionFits(suite, 'g'.repeat(40)));
    assert.throws(() => ocraResponse(suite, KEY32, { question: 'xyz!' }), OcraSuiteError);
  });

  it('changes the response with any bit of the challenge or the key', () => {
    const suite = parseSuite('OCRA-1:HOTP-SHA256-8:QH40');
    const q = '0123456789abcdef0123456789abcdef01234567';
    const base = ocraResponse(suite, KEY32, { question: q });
    assert.notEqual(ocraResponse(suite, KEY32, { question: `${q.slice(0, 39)}6` }), base);
    assert.notEqual(ocraResponse(suite, KEY20, { question: q }), base);
  });
});
