export interface BatcherOptions<I> {
  /** Most inputs in one batch. */
  maxBatch: number;
  /** Most batches running at once; further inputs wait and join the next batch. */
  maxInFlight: number;
  /**
   * Inputs with the same key never share a batch and never run in two batches at once (a later one
   * waits for the earlier batch to finish), so a batch statement never meets itself on a row.
   */
  key?: (input: I) => string;
  /**
   * The longest an input may wait for its batch to start; then it fails with `queueTimeoutError()`.
   * Bounds the answer time when statements hang (a hung database): without it, an input queued
   * behind stuck batches, or behind earlier inputs with its key, would wait one timeout after another.
   */
  queueTimeoutMs?: number;
  queueTimeoutError?: () => unknown;
  /** Told of each batch as it starts: its size and how long each input waited (ms), for metrics. */
  onBatch?: (size: number, waitsMs: number[]) => void;
}

/** An output that fails its own input only (the others of the batch still get theirs). */
export class BatchFailure {
  constructor(readonly error: unknown) {}
}

/** Runs `f` on each input in turn, capturing each one's failure as a BatchFailure. */
export async function settleEach<I, O>(inputs: I[], f: (input: I) => Promise<O>): Promise<Array<O | BatchFailure>> {
  const out: Array<O | BatchFailure> = [];
  for (const input of inputs) {
    try {
      out.push(await f(input));
    } catch (error) {
      out.push(new BatchFailure(error));
    }
  }
  return out;
}

interface Waiting<I, O> {
  input: I;
  since: number;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs many callers' inputs as one batch: one statement and one round trip for what arrives while
 * earlier batches are running. At low load an input runs alone on the next turn of the event loop,
 * so nothing waits; under load the batches grow by themselves and each request costs less.
 *
 * `run` answers one output per input, in input order; a BatchFailure output fails its input alone.
 * If `run` throws, every input of the batch gets that error (a batch statement fails as a whole,
 * like the single statement it replaces).
 */
export class Batcher<I, O> {
  private waiting: Array<Waiting<I, O>> = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly busyKeys = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: (inputs: I[]) => Promise<Array<O | BatchFailure>>,
    private readonly options: BatcherOptions<I>,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ input, since: performance.now(), resolve, reject });
      this.schedule();
      this.startSweeper();
    });
  }

  /** While inputs wait, fails those that waited longer than queueTimeoutMs (checked 10 times a second). */
  private startSweeper(): void {
    const { queueTimeoutMs } = this.options;
    if (queueTimeoutMs === undefined || this.sweeper !== undefined) return;
    this.sweeper = setInterval(() => {
      if (this.waiting.length === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
        return;
      }
      const cutoff = performance.now() - queueTimeoutMs;
      // The queue keeps arrival order, so the oldest input is first.
      if (this.waiting[0].since > cutoff) return;
      const expired = this.waiting.filter((w) => w.since <= cutoff);
      if (expired.length === 0) return;
      this.waiting = this.waiting.filter((w) => w.since > cutoff);
      const error = this.options.queueTimeoutError?.() ?? new Error(`waited more than ${queueTimeoutMs} ms for a batch`);
      for (const w of expired) w.reject(error);
    }, 100);
    this.sweeper.unref();
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    // One turn of the event loop: requests read in the same I/O phase go together.
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return;
      this.inFlight++;
      void this.execute(batch);
    }
  }

  /** Up to maxBatch waiting inputs, in arrival order, skipping keys already taken or running. */
  private take(): Array<Waiting<I, O>> {
    const { key, maxBatch } = this.options;
    if (key === undefined) return this.waiting.splice(0, maxBatch);
    const batch: Array<Waiting<I, O>> = [];
    const rest: Array<Waiting<I, O>> = [];
    for (const w of this.waiting) {
      const k = key(w.input);
      if (batch.length < maxBatch && !this.busyKeys.has(k)) {
        this.busyKeys.add(k);
        batch.push(w);
      } else {
        rest.push(w);
      }
    }
    this.waiting = rest;
    return batch;
  }

  private async execute(batch: Array<Waiting<I, O>>): Promise<void> {
    const { onBatch } = this.options;
    if (onBatch !== undefined) {
      const now = performance.now();
      onBatch(
        batch.length,
        batch.map((w) => now - w.since),
      );
    }
    try {
      const outputs = await this.run(batch.map((w) => w.input));
      if (outputs.length !== batch.length) throw new Error(`batch answered ${outputs.length} results for ${batch.length} inputs`);
      batch.forEach((w, i) => {
        const output = outputs[i];
        if (output instanceof BatchFailure) w.reject(output.error);
        else w.resolve(output);
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      const { key } = this.options;
      if (key !== undefined) for (const w of batch) this.busyKeys.delete(key(w.input));
      this.inFlight--;
      this.schedule();
    }
  }
}
