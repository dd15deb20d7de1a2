/**
 * Shared workers (Transport.workerGroup): pwsh processes that serve any target of their group, one
 * operation at a time each. A target's FIFO still orders its own operations; a worker is held only
 * for the one operation it runs. The group never calls into the pool: how to start a worker, whether
 * the cap has room, and what to do with a closed one come in through its hooks.
 */
import type { Session } from "./session";

export interface WorkerGroupHooks {
  /** Close an idle worker after this long without work (ms). */
  idleMs(): number;
  /** One more pwsh fits under the cap without evicting anything. */
  hasFreePlace(): boolean;
  /** A worker left the group and its process is gone (closed or killed). */
  retired(worker: Session): void;
  /** The group has no worker, none starting and nobody waiting: the pool may drop it. */
  empty(group: WorkerGroup): void;
}

export class WorkerGroup {
  private workers: Session[] = [];
  /** Workers being started (counted against the group's size before they exist). */
  private starting = 0;
  /** Woken when a worker goes idle or exits, or the pool closes. */
  private waiters: (() => void)[] = [];
  private readonly idleTimers = new Map<Session, NodeJS.Timeout>();

  constructor(
    readonly key: string,
    private readonly hooks: WorkerGroupHooks,
  ) {}

  /** Live workers (not exited, not closing). */
  live(): readonly Session[] {
    return this.workers.filter((w) => !w.exited && !w.closing);
  }

  /** Every worker process not yet exited (for stats). */
  notExited(): readonly Session[] {
    return this.workers.filter((w) => !w.exited);
  }

  /** Nothing in it and nobody about to use it. */
  get unused(): boolean {
    return this.workers.length === 0 && this.starting === 0 && this.waiters.length === 0;
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const wake of waiting) wake();
  }

  /**
   * An idle worker (marked busy), or a new one (`start`) while the group has fewer than `size`
   * workers; past its first worker it grows only into a free place under the cap (evicting an idle
   * session to start one more worker would just trade processes). Otherwise waits for one to go
   * idle. Resolves undefined once `cancelled()` (the pool was closed meanwhile).
   */
  async acquire(size: number, start: () => Promise<Session>, cancelled: () => boolean): Promise<Session | undefined> {
    for (;;) {
      if (cancelled()) return undefined;
      this.workers = this.live() as Session[];
      const idle = this.workers.find((w) => !w.busy);
      if (idle !== undefined) {
        this.cancelIdleClose(idle);
        idle.busy = true;
        return idle;
      }
      const current = this.workers.length + this.starting;
      if (current < Math.max(1, size) && (current === 0 || this.hooks.hasFreePlace())) {
        this.starting++;
        try {
          const worker = await start();
          worker.busy = true;
          this.workers.push(worker);
          return worker;
        } finally {
          this.starting--;
          this.wake();
        }
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** After an operation: a dead worker leaves the group; a live one idles. */
  release(worker: Session): void {
    if (worker.exited || worker.closing) {
      this.workers = this.workers.filter((w) => w !== worker);
      void worker.kill().finally(() => this.hooks.retired(worker));
    } else {
      worker.unref();
      this.scheduleIdleClose(worker);
    }
    this.wake();
  }

  /** (Re)arms the idle close of an idle worker. */
  scheduleIdleClose(worker: Session): void {
    this.cancelIdleClose(worker);
    if (worker.busy || worker.exited) return;
    const timer = setTimeout(() => {
      this.idleTimers.delete(worker);
      if (!worker.busy) void this.retire(worker);
    }, this.hooks.idleMs());
    timer.unref();
    this.idleTimers.set(worker, timer);
  }

  /** Re-arms every idle worker's close (the idle time changed). */
  rescheduleIdleCloses(): void {
    for (const worker of this.workers) this.scheduleIdleClose(worker);
  }

  private cancelIdleClose(worker: Session): void {
    const timer = this.idleTimers.get(worker);
    if (timer !== undefined) clearTimeout(timer);
    this.idleTimers.delete(worker);
  }

  /** Takes an idle worker out of the group and closes it gracefully. */
  retire(worker: Session): Promise<void> {
    this.cancelIdleClose(worker);
    this.workers = this.workers.filter((w) => w !== worker);
    if (this.unused) this.hooks.empty(this);
    return worker.close().finally(() => this.hooks.retired(worker));
  }

  /**
   * The pool closes: every worker is closed (a busy one killed), waiters are woken (they see the
   * pool closed). Returns the closes in flight and the sessions it took care of.
   */
  closeAll(): { closing: Promise<void>[]; handled: Session[] } {
    const closing: Promise<void>[] = [];
    const handled = [...this.workers];
    for (const worker of handled) {
      this.cancelIdleClose(worker);
      closing.push((worker.busy ? worker.kill() : worker.close()).finally(() => this.hooks.retired(worker)));
    }
    this.workers = [];
    this.wake();
    return { closing, handled };
  }
}
