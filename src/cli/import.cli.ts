import 'reflect-metadata';
import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { effectivePolicy } from '../auth/client-policy.js';
import { ClientsRepository } from '../auth/clients.repository.js';
import { type Clock, SystemClock } from '../common/clock.js';
import { type AppConfig, parseEncryptionKeys, UUID_V4 } from '../config/config.js';
import { BatchedStatements } from '../database/batched-statements.js';
import { type Database } from '../database/database.js';
import { DeviceBatches } from '../devices/device-batches.js';
import { type ImportCandidate, importCandidate } from '../devices/device-import.js';
import { deviceNameKey } from '../devices/device-name.js';
import { DeviceSecrets } from '../devices/device-secrets.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { loadOrCreateState } from '../embedded/embedded-database.js';
import { SecretBox } from '../totp/secret-box.js';
import { loadConfigOrExit } from '../config/config.js';
import { describeFailure, withCliDatabase } from './cli-context.js';

const USAGE = `Usage: npm run devices:import -- --client <uuid> --file devices.jsonl [--report errors.jsonl] [--batch 1000]
  One JSON object per line: {"externalId", "userId", "deviceName", "secret" (base32), "algorithm"?, "digits"?, "period"?}.
  externalId (your id of the authenticator, unique per client) makes a second run import nothing twice:
  run it again after an interruption and it goes on where it stopped. Lines that cannot be imported
  are written to the report (default <file>.errors.jsonl) with the reason; the summary goes to stdout.`;

class UsageError extends Error {}

interface Tally {
  lines: number;
  imported: number;
  existing: number;
  failed: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { client: { type: 'string' }, file: { type: 'string' }, report: { type: 'string' }, batch: { type: 'string' } },
    strict: true,
  });
  const clientId = values.client?.toLowerCase();
  if (clientId === undefined || !UUID_V4.test(clientId) || values.file === undefined) throw new UsageError('--client <uuid> and --file are required');
  const batchSize = Number(values.batch ?? 1000);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) throw new UsageError('--batch must be 1-5000');
  const config = loadConfigOrExit();
  const reportPath = values.report ?? `${values.file}.errors.jsonl`;
  const report = createWriteStream(reportPath);
  try {
    const file = values.file;
    return await withCliDatabase(config, (db) => importFile(db, config, new SystemClock(), { file, clientId, batchSize, report, reportPath }));
  } finally {
    await new Promise((resolve) => report.end(resolve));
  }
}

interface ImportRun {
  file: string;
  clientId: string;
  batchSize: number;
  report: WriteStream;
  reportPath: string;
}

/** Imports the file batch by batch; 0 when every line was imported or already was, 2 when some failed. */
async function importFile(db: Database, config: AppConfig, clock: Clock, run: ImportRun): Promise<number> {
  const { file, clientId, batchSize, report, reportPath } = run;
  const client = await new ClientsRepository(db).findById(clientId);
  if (client === null) throw new UsageError(`No client ${clientId}`);
  const policy = effectivePolicy(config, client.policy);
  const keys = config.encryptionKeys.length > 0 ? config.encryptionKeys : parseEncryptionKeys(loadOrCreateState(config).encryptionKey, []);
  const secrets = new DeviceSecrets(new SecretBox(keys), config);
  // The import is one transaction per batch; the repository's batched statements go unused.
  const devices = new DevicesRepository(db, new DeviceBatches(db, new BatchedStatements({ poolSize: 2, timeoutMs: 60_000 })));
  const tally: Tally = { lines: 0, imported: 0, existing: 0, failed: 0 };
  const started = performance.now();
  const fail = (line: number, externalId: unknown, error: string) => {
    tally.failed++;
    report.write(`${JSON.stringify({ line, externalId: typeof externalId === 'string' ? externalId : null, error })}\n`);
  };
  let batch: Array<{ line: number; candidate: ImportCandidate }> = [];
  const seen = new Set<string>();
  // An external id twice in the file: the second line is an error, not "existing".
  const externalIds = new Set<string>();
  const flush = async () => {
    const outcomes = await devices.importDevices(
      clientId,
      policy.maxActivePerUser,
      batch.map((b) => b.candidate),
      null,
    );
    outcomes.forEach((outcome, i) => {
      const { line, candidate } = batch[i];
      if (outcome === 'IMPORTED') tally.imported++;
      else if (outcome === 'EXISTS') tally.existing++;
      else
        fail(
          line,
          candidate.externalId,
          outcome === 'NAME_TAKEN'
            ? 'the user already has an active device with this name'
            : `the user would have more than ${policy.maxActivePerUser} active devices`,
        );
    });
    batch = [];
    seen.clear();
    progress(tally, performance.now() - started, size === 0 ? 1 : input.bytesRead / size);
  };
  const input = createReadStream(file);
  const size = statSync(file).size;
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (let text of lines) {
    const line = ++tally.lines;
    if (line === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    if (text.trim() === '') {
      tally.lines--;
      continue;
    }
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error();
      input = parsed as Record<string, unknown>;
    } catch {
      fail(line, undefined, 'not a JSON object');
      continue;
    }
    if (typeof input.externalId !== 'string') {
      fail(line, input.externalId, 'externalId is required in a bulk import (it makes a second run safe)');
      continue;
    }
    const checked = importCandidate(input, { clientId, policy, secrets, now: clock.now() });
    if ('problems' in checked) {
      fail(line, input.externalId, checked.problems.map((p) => `${p.field}: ${p.message}`).join('; '));
      continue;
    }
    const { device, externalId } = checked.candidate;
    if (externalIds.has(externalId ?? '')) {
      fail(line, externalId, 'this externalId is on an earlier line of the file');
      continue;
    }
    externalIds.add(externalId ?? '');
    // One statement may not hold an external id, or a user's name, twice.
    const ids = [`x:${externalId}`, `n:${device.userId}\u0000${deviceNameKey(device.deviceName)}`];
    if (ids.some((id) => seen.has(id))) await flush();
    ids.forEach((id) => seen.add(id));
    batch.push({ line, candidate: checked.candidate });
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write('\n');
  const summary = {
    file,
    ...tally,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(tally.lines / Math.max(seconds, 0.001)),
    report: reportPath,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return tally.failed > 0 ? 2 : 0;
}

/** A progress bar on stderr, redrawn in place on a terminal (a line per batch otherwise). */
function progress(t: Tally, ms: number, done: number): void {
  const rate = Math.round(t.lines / Math.max(ms / 1000, 0.001));
  const filled = Math.round(Math.min(1, done) * 30);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${Math.floor(Math.min(1, done) * 100)}%`;
  const text = `${bar} ${t.lines} lines: ${t.imported} imported, ${t.existing} existing, ${t.failed} failed (${rate} lines/s)`;
  process.stderr.write(process.stderr.isTTY ? `\r${text}` : `${text}\n`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage =
      error instanceof UsageError || (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(usage ? `${error.message}\n\n${USAGE}\n` : `${describeFailure(error)}\n`);
    process.exit(1);
  },
);
