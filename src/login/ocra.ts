import { createHash, createHmac } from 'node:crypto';

/**
 * OCRA, the OATH challenge-response algorithm (RFC 6287), from the RFC: §5 (the algorithm), §6
 * (the suite), §7 (the data input), with the reference implementation's encodings (Appendix A).
 * A suite reads "OCRA-1:HOTP-<hash>-<digits>:<data input>", e.g. OCRA-1:HOTP-SHA256-8:QH40.
 */
export interface OcraSuite {
  text: string;
  hash: 'sha1' | 'sha256' | 'sha512';
  /** 0 = the whole HMAC as hex (no truncation), else 4-10. */
  digits: number;
  counter: boolean;
  question: { format: 'A' | 'N' | 'H'; length: number };
  password: 'sha1' | 'sha256' | 'sha512' | undefined;
  /** Session information length in bytes (S064 → 64), or 0. */
  session: number;
  /** Time-step length in seconds, or 0 when the suite has no timestamp. */
  timeStep: number;
}

export interface OcraInput {
  question: string;
  counter?: bigint | number;
  /** The PIN or password itself: hashed here as the suite says. */
  password?: string;
  session?: Buffer;
  /** Unix seconds; divided by the suite's time step. */
  time?: number;
  /** Or the time-step count itself (Appendix C gives 0x132d0b6 minutes). */
  timeSteps?: bigint | number;
}

const HASHES = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' } as const;
const TIME_UNITS = { S: 1, M: 60, H: 3600 } as const;

export class OcraSuiteError extends Error {}

export function parseSuite(text: string): OcraSuite {
  const fail = (why: string): never => {
    throw new OcraSuiteError(`${text}: ${why}`);
  };
  const [version, crypto, dataInput, ...rest] = text.split(':');
  if (version !== 'OCRA-1' || crypto === undefined || dataInput === undefined || rest.length > 0) fail('not OCRA-1:<crypto>:<data input>');
  const cf = /^HOTP-(SHA1|SHA256|SHA512)-(0|4|5|6|7|8|9|10)$/.exec(crypto ?? '') ?? fail('crypto function must be HOTP-SHA1|256|512-{0,4..10}');
  const suite: OcraSuite = {
    text,
    hash: HASHES[cf[1] as keyof typeof HASHES],
    digits: Number(cf[2]),
    counter: false,
    question: { format: 'N', length: 0 },
    password: undefined,
    session: 0,
    timeStep: 0,
  };
  const parts = (dataInput ?? '').split('-');
  if (parts[0] === 'C') {
    suite.counter = true;
    parts.shift();
  }
  const q = /^Q([ANH])(\d\d)$/.exec(parts.shift() ?? '') ?? fail('the data input needs a question, Q{A|N|H}{04-64}');
  suite.question = { format: q[1] as 'A' | 'N' | 'H', length: Number(q[2]) };
  if (suite.question.length < 4 || suite.question.length > 64) fail('the question length must be 04-64');
  for (const part of parts) {
    const p = /^P(SHA1|SHA256|SHA512)$/.exec(part);
    const s = /^S(\d{3})$/.exec(part);
    const t = /^T(\d{1,2})([SMH])$/.exec(part);
    // §6.3: session information of 1-512 bytes; time steps of 1-59 seconds or minutes, 1-48 hours.
    if (s !== null && (Number(s[1]) < 1 || Number(s[1]) > 512)) fail('the session information length must be 001-512');
    if (t !== null && (Number(t[1]) < 1 || Number(t[1]) > (t[2] === 'H' ? 48 : 59))) fail('the time step must be 1-59 S or M, or 1-48 H');
    if (p !== null && suite.password === undefined && suite.session === 0 && suite.timeStep === 0)
      suite.password = HASHES[p[1] as keyof typeof HASHES];
    else if (s !== null && suite.session === 0 && suite.timeStep === 0) suite.session = Number(s[1]);
    else if (t !== null && suite.timeStep === 0) suite.timeStep = Number(t[1]) * TIME_UNITS[t[2] as keyof typeof TIME_UNITS];
    else fail(`unexpected data input "${part}"`);
  }
  return suite;
}

const QUESTION_CHARS = { A: /^[\x21-\x7e]+$/, N: /^[0-9]+$/, H: /^[0-9A-Fa-f]+$/ } as const;

/** Is this a question the suite asks (its format, 4 characters up to its length)? */
export function questionFits(suite: OcraSuite, question: string): boolean {
  return question.length >= 4 && question.length <= suite.question.length && QUESTION_CHARS[suite.question.format].test(question);
}

/**
 * The 128-byte question field (§5.1): numeric questions as their value in hex, alphanumeric as
 * their bytes, hexadecimal as is, then left-aligned and zero-filled to 256 hex digits. The field
 * takes more than the suite's length: in the mutual mode (§7.3) Q is the client's and the
 * server's challenge together.
 */
function questionField(suite: OcraSuite, question: string): Buffer {
  const format = suite.question.format;
  if (!QUESTION_CHARS[format].test(question)) throw new OcraSuiteError(`the question is not of format ${format}`);
  const hex = { N: () => BigInt(question).toString(16), A: () => Buffer.from(question, 'latin1').toString('hex'), H: () => question }[format]();
  if (hex.length > 256) throw new OcraSuiteError('the question is longer than 128 bytes');
  return Buffer.from(hex.padEnd(256, '0'), 'hex');
}

function uint64(value: bigint | number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(value));
  return b;
}

/** DataInput = suite ‖ 0x00 ‖ C ‖ Q ‖ P ‖ S ‖ T (§5.1). */
function dataInput(suite: OcraSuite, input: OcraInput): Buffer {
  const parts: Buffer[] = [Buffer.from(suite.text, 'latin1'), Buffer.alloc(1)];
  if (suite.counter) {
    if (input.counter === undefined) throw new OcraSuiteError('this suite needs a counter');
    parts.push(uint64(input.counter));
  }
  parts.push(questionField(suite, input.question));
  if (suite.password !== undefined) {
    if (input.password === undefined) throw new OcraSuiteError('this suite needs a password');
    parts.push(createHash(suite.password).update(input.password, 'utf8').digest());
  }
  if (suite.session > 0) {
    const session = input.session ?? Buffer.alloc(0);
    if (session.length > suite.session) throw new OcraSuiteError('the session information is too long');
    parts.push(Buffer.concat([Buffer.alloc(suite.session - session.length), session]));
  }
  if (suite.timeStep > 0) {
    const steps = input.timeSteps ?? (input.time === undefined ? undefined : Math.floor(input.time / suite.timeStep));
    if (steps === undefined) throw new OcraSuiteError('this suite needs a time');
    parts.push(uint64(steps));
  }
  return Buffer.concat(parts);
}

/** The OCRA response: HMAC over the data input, truncated as in HOTP (RFC 4226 §5.3). */
export function ocraResponse(suite: OcraSuite, key: Buffer, input: OcraInput): string {
  const mac = createHmac(suite.hash, key).update(dataInput(suite, input)).digest();
  if (suite.digits === 0) return mac.toString('hex');
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** suite.digits).padStart(suite.digits, '0');
}
