/**
 * Read coalescing: concurrent reads of one target that arrive close together run as ONE script.
 *
 * A refresh reads every resource at once (the engine keeps up to 16 operations in flight). Thirty CAL
 * packs on one license server would otherwise be thirty scripts queued on that server's one pwsh,
 * each enumerating the same WMI class. Here a read joins the pending batch of its target key. A lone
 * read goes to the pool at once; while a batch of the key is in flight, later reads gather in the
 * next one, handed over once that batch has finished and no read has joined for `windowMs` (at most
 * `maxWaitMs`); see `join`. A handed-over batch stays open until its script actually STARTS on the
 * pwsh (the runner calls `take()` then): reads that arrive while the target is busy with other work
 * join it. Sealing at the start, never earlier, is also what keeps a read fresh: it never gets an
 * answer computed before it was asked.
 *
 * Each caller gets its own slice of the batch's results; when the batch fails, every caller gets the
 * failure (each re-phrases it for its own resource). One job: batching. The script and the slicing
 * are the caller's (e.g. provider/resources/calPack/provider.ts, read).
 */
export interface CoalesceOptions {
  /**
   * Quiet time (ms): a batch is handed to the pool once no read has joined it for this long.
   * Only reads in a burst wait for it (a lone read goes at once: see `join`), so it can be generous:
   * an engine's wave of reads comes in clusters a few ms to about 25 ms apart on the simulator (fleet
   * bench, 2 CPUs); over ssh, with the cores shared by twelve remote pwsh, the last reads of a wave
   * came up to 60 ms after the others, and the read refilling a finished lone read's slot 100 ms after
   * (so a 30 ms window left them to batches of their own: a 30-pack refresh ran 4-6 scripts).
   * Default 100, or `$RDS_COALESCE_WINDOW_MS`; 0 turns coalescing off (every read runs on its own).
   */
  windowMs: number;
  /** Longest a batch waits for quiet before it is handed to the pool (ms). Default 300, or `$RDS_COALESCE_MAX_WAIT_MS`. */
  maxWaitMs: number;
  /** Most reads in one batch; a full batch is handed over at once and later reads start a new one. Default 256. */
  maxBatch: number;
  /**
   * After a batch of several reads finishes (ms): a read that arrives within this time is taken for
   * one of the next wave (the batch's callers' engine slots free up together, and each sends its
   * next read once it has finished its own step, e.g. a refresh's diff), so it waits to gather the
   * others (`followQuietMs`). Default 3000, or `$RDS_COALESCE_FOLLOW_MS`: over ssh, with the host's
   * two cores shared by twelve remote pwsh, the next wave's first read came 670 ms after the batch
   * ended, and in a later run 1.52 s after it (the host starved by the remote pwsh's background JIT:
   * its next reads had been sent 0.3 s after the batch ended), so 1500 made that read a lone one, a
   * script of its own before the wave (4 scripts for 30 packs); on the simulator, under 250 ms. The
   * cost is a read's wait for quiet (`followQuietMs`) when it comes alone within this time of a wave.
   */
  followMs: number;
  /**
   * Quiet time of a next wave's batch (ms): its reads come as the host works through the finished
   * batch's results and diffs, up to about 110 ms apart on a loaded host (the ssh fleet bench), where
   * a first wave's come a few ms apart. It is handed over once no read has joined for this long, at
   * most `followMaxWaitMs` after its first read. Default 150, or `$RDS_COALESCE_FOLLOW_QUIET_MS`.
   */
  followQuietMs: number;
  /** Longest a next wave's batch waits (ms). Default 500, or `$RDS_COALESCE_FOLLOW_MAX_WAIT_MS`. */
  followMaxWaitMs: number;
}

function nonNegativeIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 0 ? value : fallback;
}

/** The options from the environment (the benchmark's naive baseline turns coalescing off with `$RDS_COALESCE_WINDOW_MS=0`). */
export function coalesceOptionsFromEnv(): CoalesceOptions {
  return {
    windowMs: nonNegativeIntFromEnv("RDS_COALESCE_WINDOW_MS", 100),
    maxWaitMs: nonNegativeIntFromEnv("RDS_COALESCE_MAX_WAIT_MS", 300),
    maxBatch: Math.max(1, nonNegativeIntFromEnv("RDS_COALESCE_MAX_BATCH", 256)),
    followMs: nonNegativeIntFromEnv("RDS_COALESCE_FOLLOW_MS", 3000),
    followQuietMs: nonNegativeIntFromEnv("RDS_COALESCE_FOLLOW_QUIET_MS", 150),
    followMaxWaitMs: nonNegativeIntFromEnv("RDS_COALESCE_FOLLOW_MAX_WAIT_MS", 500),
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
  /** When the last read joined (ms since epoch). */
  lastJoinAt: number;
  /** It gathered reads while another batch of its key was in flight. */
  gathered: boolean;
  /** It began within followMs of the end of a batch of several reads: the start of the next wave. */
  follows: boolean;
}

export interface CoalescerStats {
  /** Items joined. */
  joined: number;
  /** Batches run. */
  batches: number;
}

export class Coalescer<I, R> {
  private readonly pending = new Map<string, Batch<I, R>>();
  /** Batches handed to the pool and not finished yet, per key. */
  private readonly inFlight = new Map<string, number>();
  /** When the last batch of several reads of each key finished (a batch of one does not end a wave). */
  private readonly lastWaveEnd = new Map<string, number>();
  readonly stats: CoalescerStats = { joined: 0, batches: 0 };

  constructor(
    private readonly run: BatchRunner<I, R>,
    private readonly options: () => CoalesceOptions = coalesceOptionsFromEnv,
  ) {}

  /**
   * Adds `item` to the open batch of `key` (or a new one) and resolves with its own result.
   *
   * When a batch is handed to the pool:
   * - a lone read (nothing of its key in flight or waiting, and the key's last batch had one read
   *   or finished more than followMs ago) goes at once: it pays no window;
   * - while a batch of the key is in flight, later reads gather in the next batch, handed over once
   *   that one has finished and then no read has joined for windowMs (at most maxWaitMs);
   * - a read that comes within followMs after a batch of several reads is the start of the next
   *   wave (the engine sends the next reads as the finished batch's slots free up): it waits for
   *   quiet too, the longer followQuietMs (at most followMaxWaitMs). A batch of one read (a straggler)
   *   does not end a wave. That is what keeps an engine's waves together.
   */
  join(key: string, item: I): Promise<R> {
    const opts = this.options();
    this.stats.joined++;
    let batch = this.pending.get(key);
    // windowMs 0: coalescing off, every read is a batch of its own (even one not started yet is not joined).
    if (opts.windowMs <= 0 || batch === undefined || batch.sealed || batch.items.length >= opts.maxBatch) {
      batch = {
        key,
        items: [],
        waiters: [],
        firstAt: Date.now(),
        timer: undefined,
        handedOver: false,
        sealed: false,
        lastJoinAt: 0,
        gathered: false,
        follows: false,
      };
      this.pending.set(key, batch);
    }
    const joined = batch;
    const result = new Promise<R>((resolve, reject) => joined.waiters.push({ resolve, reject }));
    joined.items.push(item);
    joined.lastJoinAt = Date.now();
    if (opts.windowMs <= 0 || joined.items.length >= opts.maxBatch) {
      this.handOver(joined);
    } else {
      this.schedule(joined, opts, joined.lastJoinAt);
    }
    return result;
  }

  /**
   * Arms (or re-arms) the hand-over of a batch that is not handed over yet. Not while a batch of the
   * key is in flight (`finished` arms it). A lone read goes at once: the first read of a batch when
   * the key's previous batch had one read, or finished more than followMs ago. Otherwise the batch
   * waits for quiet: windowMs after its last join, at most maxWaitMs after `firstAt`.
   */
  private schedule(batch: Batch<I, R>, opts: CoalesceOptions, lastJoinAt: number): void {
    if (batch.handedOver) return;
    if (batch.timer !== undefined) clearTimeout(batch.timer);
    batch.timer = undefined;
    const key = batch.key;
    if ((this.inFlight.get(key) ?? 0) > 0) return;
    const now = Date.now();
    if (batch.items.length === 1 && !batch.gathered) {
      const waveEnd = this.lastWaveEnd.get(key);
      if (waveEnd === undefined || now - waveEnd >= opts.followMs) {
        this.handOver(batch);
        return;
      }
      batch.follows = true;
    }
    let at: number;
    if (batch.follows && !batch.gathered) {
      // The next wave: its reads come as the host frees them, further apart than a first wave's.
      at = Math.min(lastJoinAt + opts.followQuietMs, batch.firstAt + opts.followMaxWaitMs);
    } else {
      at = Math.min(lastJoinAt + opts.windowMs, batch.firstAt + opts.maxWaitMs);
    }
    if (at <= now) {
      this.handOver(batch);
      return;
    }
    batch.timer = setTimeout(() => this.handOver(batch), at - now);
  }

  private seal(batch: Batch<I, R>): void {
    batch.sealed = true;
    if (this.pending.get(batch.key) === batch) this.pending.delete(batch.key);
  }

  /** A batch of `key` finished: the next one (gathered meanwhile) waits for the reads this one sets free. */
  private finished(key: string, size: number): void {
    const left = (this.inFlight.get(key) ?? 1) - 1;
    if (left > 0) this.inFlight.set(key, left);
    else this.inFlight.delete(key);
    const now = Date.now();
    if (size > 1) this.lastWaveEnd.set(key, now);
    const next = this.pending.get(key);
    if (next !== undefined && !next.handedOver && !next.sealed) {
      next.firstAt = now; // its longest wait counts from here: before, it could not have started anyway
      next.gathered = true; // it gathered while another ran: a burst, not a lone read
      // Quiet counts from this end too: the finished batch's callers send their next reads now.
      this.schedule(next, this.options(), now);
    }
  }

  private handOver(batch: Batch<I, R>): void {
    if (batch.timer !== undefined) clearTimeout(batch.timer);
    batch.timer = undefined;
    if (batch.handedOver) return;
    batch.handedOver = true;
    this.stats.batches++;
    this.inFlight.set(batch.key, (this.inFlight.get(batch.key) ?? 0) + 1);
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
        this.finished(batch.key, batch.items.length);
        if (results.length !== batch.items.length) {
          const err = new Error(`coalesced read of ${batch.items.length} item(s) returned ${results.length} result(s)`);
          for (const w of batch.waiters) w.reject(err);
          return;
        }
        batch.waiters.forEach((w, i) => w.resolve(results[i]));
      },
      (err: unknown) => {
        this.seal(batch);
        this.finished(batch.key, batch.items.length);
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}
