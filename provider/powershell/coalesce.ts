/**
 * Read coalescing: concurrent reads of one target that arrive close together run as ONE script.
 *
 * A refresh reads every resource at once (the engine keeps up to 16 operations in flight). Thirty CAL
 * packs on one license server would otherwise be thirty scripts queued on that server's one pwsh,
 * each enumerating the same WMI class. Here a read joins the pending batch of its target key; the
 * batch is handed to the pool once no read has joined for `windowMs` (at most `maxWaitMs` after its
 * first read), and it stays open until its script actually STARTS on the pwsh (the runner calls
 * `take()` then): reads that arrive while the target is busy with earlier work all join it. Sealing
 * at the start, never earlier, is also what keeps a read fresh: it never gets an answer computed
 * before it was asked.
 *
 * Each caller gets its own slice of the batch's results; when the batch fails, every caller gets the
 * failure (each re-phrases it for its own resource). One job: batching. The script and the slicing
 * are the caller's (e.g. provider/resources/calPack/provider.ts, read).
 */
import { poolOptions } from "./pool";

export interface CoalesceOptions {
  /**
   * Quiet time (ms): a batch is handed to the pool once no read has joined it for this long.
   * Default 5, or `$RDS_COALESCE_WINDOW_MS`; 0 turns coalescing off (every read runs on its own).
   */
  windowMs: number;
  /** Longest a batch waits for quiet before it is handed to the pool (ms). Default 50, or `$RDS_COALESCE_MAX_WAIT_MS`. */
  maxWaitMs: number;
  /** Most reads in one batch; a full batch is handed over at once and later reads start a new one. Default 256. */
  maxBatch: number;
}

function nonNegativeIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

/** The options from the environment; `windowMs` is 0 (off) in the pool's naive mode (the baseline has no coalescing). */
export function coalesceOptionsFromEnv(): CoalesceOptions {
  return {
    windowMs: poolOptions().naive ? 0 : nonNegativeIntFromEnv("RDS_COALESCE_WINDOW_MS", 5),
    maxWaitMs: nonNegativeIntFromEnv("RDS_COALESCE_MAX_WAIT_MS", 50),
    maxBatch: Math.max(1, nonNegativeIntFromEnv("RDS_COALESCE_MAX_BATCH", 256)),
  };
}

/**
 * Runs one batch: calls `take()` exactly when its script starts (that seals the batch) and resolves
 * with one result per taken item, in the same order. `first` is the batch's first item (every item
 * of a batch has the same key: it tells the runner where to run, e.g. the connection).
 */
export type BatchRunner<I, R> = (key: string, first: I, take: () => readonly I[]) => Promise<readonly R[]>;

interface Waiter<R> {
  resolve: (value: R) => void;
  reject: (reason: unknown) => void;
}

interface Batch<I, R> {
  key: string;
  items: I[];
  waiters: Waiter<R>[];
  firstAt: number;
  timer: NodeJS.Timeout | undefined;
  handedOver: boolean;
  sealed: boolean;
}

export interface CoalescerStats {
  /** Items joined. */
  joined: number;
  /** Batches run. */
  batches: number;
}

export class Coalescer<I, R> {
  private readonly pending = new Map<string, Batch<I, R>>();
  readonly stats: CoalescerStats = { joined: 0, batches: 0 };

  constructor(
    private readonly run: BatchRunner<I, R>,
    private readonly options: () => CoalesceOptions = coalesceOptionsFromEnv,
  ) {}

  /** Adds `item` to the open batch of `key` (or a new one) and resolves with its own result. */
  join(key: string, item: I): Promise<R> {
    const opts = this.options();
    this.stats.joined++;
    let batch = this.pending.get(key);
    // windowMs 0: coalescing off, every read is a batch of its own (even one not started yet is not joined).
    if (opts.windowMs <= 0 || batch === undefined || batch.sealed || batch.items.length >= opts.maxBatch) {
      batch = { key, items: [], waiters: [], firstAt: Date.now(), timer: undefined, handedOver: false, sealed: false };
      this.pending.set(key, batch);
    }
    const joined = batch;
    const result = new Promise<R>((resolve, reject) => joined.waiters.push({ resolve, reject }));
    joined.items.push(item);
    if (opts.windowMs <= 0 || joined.items.length >= opts.maxBatch) {
      this.handOver(joined);
    } else if (!joined.handedOver) {
      // Debounce: wait for quiet, but never longer than maxWaitMs after the first read.
      if (joined.timer !== undefined) clearTimeout(joined.timer);
      const wait = Math.max(0, Math.min(opts.windowMs, joined.firstAt + opts.maxWaitMs - Date.now()));
      joined.timer = setTimeout(() => this.handOver(joined), wait);
    }
    return result;
  }

  private seal(batch: Batch<I, R>): void {
    batch.sealed = true;
    if (this.pending.get(batch.key) === batch) this.pending.delete(batch.key);
  }

  private handOver(batch: Batch<I, R>): void {
    if (batch.timer !== undefined) clearTimeout(batch.timer);
    batch.timer = undefined;
    if (batch.handedOver) return;
    batch.handedOver = true;
    this.stats.batches++;
    const take = (): readonly I[] => {
      this.seal(batch);
      return [...batch.items];
    };
    let outcome: Promise<readonly R[]>;
    try {
      outcome = this.run(batch.key, batch.items[0], take);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    outcome.then(
      (results) => {
        // A runner that never started its script leaves the batch open: close it now.
        this.seal(batch);
        if (results.length !== batch.items.length) {
          const err = new Error(`coalesced read of ${batch.items.length} item(s) returned ${results.length} result(s)`);
          for (const w of batch.waiters) w.reject(err);
          return;
        }
        batch.waiters.forEach((w, i) => w.resolve(results[i]));
      },
      (err: unknown) => {
        this.seal(batch);
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}
