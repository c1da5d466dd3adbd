import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HashAlgorithm } from '../../src/config/config.js';
import fc from 'fast-check';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { createGuardrails, verifySync } from 'otplib';
import { fromBase32, matchTotp, newSecret, registrationUri, secretLength, toBase32, type TotpPolicy, totpAt } from '../../src/totp/totp.js';

/** otplib's own verification: the reference the fast matcher is held to. */
function matchTotpReference(secret: Uint8Array, policy: TotpPolicy, token: string, window: number, epochSeconds: number): number | undefined {
  if (token.length !== policy.digits || !/^\d+$/.test(token)) return undefined;
  const result = verifySync({
    secret,
    crypto: new NodeCryptoPlugin(),
    guardrails: createGuardrails({ MIN_SECRET_BYTES: 16 }),
    algorithm: policy.algorithm === 'SHA1' ? 'sha1' : policy.algorithm === 'SHA256' ? 'sha256' : 'sha512',
    digits: policy.digits,
    period: policy.period,
    epoch: epochSeconds,
    token,
    epochTolerance: window * policy.period,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

// RFC 6238 Appendix B. The seeds are the ASCII strings "1234567890" repeated to the HMAC size.
const seed = (length: number) => Buffer.from('1234567890'.repeat(7).slice(0, length), 'ascii');
const SEEDS: Record<HashAlgorithm, Buffer> = { SHA1: seed(20), SHA256: seed(32), SHA512: seed(64) };
const VECTORS: Array<[number, HashAlgorithm, string]> = [
  [59, 'SHA1', '94287082'],
  [59, 'SHA256', '46119246'],
  [59, 'SHA512', '90693936'],
  [1111111109, 'SHA1', '07081804'],
  [1111111109, 'SHA256', '68084774'],
  [1111111109, 'SHA512', '25091201'],
  [1111111111, 'SHA1', '14050471'],
  [1111111111, 'SHA256', '67062674'],
  [1111111111, 'SHA512', '99943326'],
  [1234567890, 'SHA1', '89005924'],
  [1234567890, 'SHA256', '91819424'],
  [1234567890, 'SHA512', '93441116'],
  [2000000000, 'SHA1', '69279037'],
  [2000000000, 'SHA256', '90698825'],
  [2000000000, 'SHA512', '38618901'],
  [20000000000, 'SHA1', '65353130'],
  [20000000000, 'SHA256', '77737706'],
  [20000000000, 'SHA512', '47863826'],
];

describe('TOTP (RFC 6238)', () => {
  for (const [time, algorithm, expected] of VECTORS) {
    it(`generates the Appendix B code for ${algorithm} at T=${time}`, () => {
      const policy = { algorithm, digits: 8 as const, period: 30 };
      assert.equal(totpAt(SEEDS[algorithm], policy, time), expected);
      assert.equal(matchTotp(SEEDS[algorithm], policy, expected, 0, time), Math.floor(time / 30));
    });
  }

  const policy = { algorithm: 'SHA1' as const, digits: 6 as const, period: 30 };
  const secret = SEEDS.SHA1;
  const now = 1_700_000_015; // 15 s into a step
  const step = Math.floor(now / 30);

  it('accepts codes one step either side of now and returns the step they belong to', () => {
    assert.equal(matchTotp(secret, policy, totpAt(secret, policy, now - 30), 1, now), step - 1);
    assert.equal(matchTotp(secret, policy, totpAt(secret, policy, now + 30), 1, now), step + 1);
  });

  it('refuses codes two steps away with a window of one', () => {
    assert.equal(matchTotp(secret, policy, totpAt(secret, policy, now - 60), 1, now), undefined);
    assert.equal(matchTotp(secret, policy, totpAt(secret, policy, now + 60), 1, now), undefined);
  });

  it('holds the window edge at the first and last second of a step', () => {
    const first = step * 30;
    const last = step * 30 + 29;
    assert.equal(matchTotp(secret, policy, totpAt(secret, policy, first - 30), 1, first), step - 1);
    assert.equal(matchTotp(secret, policy, totpAt(secret, policy, first - 31), 1, first), undefined);
    assert.equal(matchTotp(secret, policy, totpAt(secret, policy, last + 30), 1, last), step + 1);
    assert.equal(matchTotp(secret, policy, totpAt(secret, policy, last + 31), 1, last), undefined);
  });

  it('refuses a code of the wrong length or with non-digits', () => {
    const code = totpAt(secret, policy, now);
    assert.equal(matchTotp(secret, policy, `${code}0`, 1, now), undefined);
    assert.equal(matchTotp(secret, policy, code.slice(1), 1, now), undefined);
    assert.equal(matchTotp(secret, policy, 'abcdef', 1, now), undefined);
  });

  it('makes secrets as long as the HMAC output, Base32 without padding', () => {
    for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
      const s = newSecret(algorithm);
      assert.equal(s.length, secretLength(algorithm));
      const encoded = toBase32(s);
      assert.match(encoded, /^[A-Z2-7]+$/);
      assert.deepEqual(Buffer.from(fromBase32(encoded)), s);
    }
    assert.notDeepEqual(newSecret('SHA1'), newSecret('SHA1'));
  });
});

describe('otpauth:// registration URI (Key Uri Format)', () => {
  const secret = Buffer.from('12345678901234567890');
  const policy = { algorithm: 'SHA1' as const, digits: 6 as const, period: 30 };

  it('puts the issuer in the label and the issuer parameter, with algorithm, digits and period', () => {
    assert.equal(
      registrationUri('Acme', 'ada@example.com', secret, policy),
      'otpauth://totp/Acme:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme&algorithm=SHA1&digits=6&period=30',
    );
  });

  it('percent-encodes awkward issuers and account names, so a colon cannot move the separator', () => {
    const uri = registrationUri('Acme: Bank & Co/Ltd?', 'jo:hn doe+1@x.org', secret, { ...policy, algorithm: 'SHA256', digits: 8, period: 60 });
    assert.equal(
      uri,
      'otpauth://totp/Acme%3A%20Bank%20%26%20Co%2FLtd%3F:jo%3Ahn%20doe%2B1%40x.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%3A%20Bank%20%26%20Co%2FLtd%3F&algorithm=SHA256&digits=8&period=60',
    );
    const parsed = new URL(uri);
    assert.equal(parsed.host, 'totp');
    const [issuer, account] = parsed.pathname.slice(1).split(':').map(decodeURIComponent);
    assert.equal(issuer, 'Acme: Bank & Co/Ltd?');
    assert.equal(account, 'jo:hn doe+1@x.org');
    assert.equal(parsed.searchParams.get('issuer'), 'Acme: Bank & Co/Ltd?');
  });

  it('encodes non-ASCII names as UTF-8', () => {
    assert.match(registrationUri('Zürich Bank', 'José', secret, policy), /^otpauth:\/\/totp\/Z%C3%BCrich%20Bank:Jos%C3%A9\?/);
  });
});

describe('matchTotp against otplib', () => {
  it('gives the same answer as otplib verifySync for random secrets, policies, times, windows and codes', () => {
    const algorithms: HashAlgorithm[] = ['SHA1', 'SHA256', 'SHA512'];
    fc.assert(
      fc.property(
        fc.constantFrom(...algorithms),
        fc.constantFrom(6 as const, 8 as const),
        fc.constantFrom(30, 60),
        fc.integer({ min: 1_000_000, max: 4_000_000_000 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: -5, max: 5 }),
        fc.boolean(),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (algorithm, digits, period, time, window, stepOffset, tamper, seed) => {
          const secret = seed.subarray(0, secretLength(algorithm));
          const policy = { algorithm, digits, period };
          let code = totpAt(secret, policy, time + stepOffset * period);
          // Half the codes are wrong in their last digit.
          if (tamper) code = code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);
          assert.equal(matchTotp(secret, policy, code, window, time), matchTotpReference(secret, policy, code, window, time));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
