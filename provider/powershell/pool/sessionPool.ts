/**
 * The session pool: one object that owns the targets (per-target FIFO queues), the sessions (every
 * pwsh it has started and not yet seen exit), the worker groups and the cap. Its parts never call
 * back into it: a Session reports through SessionHooks, a WorkerGroup through WorkerGroupHooks, the
 * Capacity through CapacityHooks, the start and connect steps through SessionStarter.
 *
 * - Operations on one target run one after the other, in the order they were queued; different
 *   targets run in parallel.
 * - A target of a transport with a worker group (the simulator's, per state directory) has no pwsh
 *   of its own: each operation takes an idle worker of the group (at most `simulatorWorkers`).
 *   Remote transports keep one pwsh per target (it holds the PSSession).
 * - A warm pwsh serves operations until idle for `idleMs`, evicted by the cap (least recently used
 *   idle session first; when every session is busy, an operation that needs a new pwsh waits until
 *   one goes idle, so pwsh processes never exceed the cap), timed out, or dead; the next operation
 *   on its target then gets a fresh pwsh.
 * - A target that cannot be started or reached (no pwsh, refused connect, unknown host key, ...)
 *   fails the operation that tried and every operation already queued behind it, with the same error:
 *   each would otherwise start a pwsh and go through the whole connect, retries included, only to fail
 *   the same way (a refresh of 30 CAL packs on an unreachable license server). Operations queued
 *   afterwards try again.
 * - Timers are unref'd, and an idle pwsh's process and pipes are unref'd too, so the pool never
 *   keeps Node alive. A busy pwsh is ref'd: a pending operation does.
 */
import { ErrorCode, RdsError, isRdsError } from "../../errors";
import { removeEnvelopeDir } from "../envelope";
import type { Connection } from "../transport";
import { Capacity } from "./capacity";
import { runWithReconnect } from "./connect";
import { type PoolHooks, warmSessions } from "./hooks";
import { type PoolOptions, checkOptions, optionsFromEnv } from "./options";
import { Session, type SessionHooks } from "./session";
import { type Shell, type StartShell, startPwsh } from "./shell";
import { cleanUpAtExit } from "./shutdown";
import { type SessionStarter, startSession } from "./start";
import { type Job, type Target, type TargetSpec, type WarmSession, cancelIdleClose, isIdle, newTarget } from "./target";
import { type PoolStats, PoolTelemetry, type SessionStats } from "./telemetry";
import { WorkerGroup } from "./workerGroup";

export interface SessionPoolSettings {
  /** Default: from the environment (options.ts), read on first use. */
  options?: PoolOptions;
  /** Default: `warmSessions` (hooks.ts). */
  hooks?: PoolHooks;
  /** What each session runs in. Default: `startPwsh`, a real pwsh (shell.ts); tests pass an in-process stand-in. */
  startShell?: StartShell;
}

/** A warm pwsh the cap may close: a target's own session, or a shared worker. */
interface WarmEntry {
  session: Session;
  idle: boolean;
  retire(): void;
}

export class SessionPool {
  readonly telemetry = new PoolTelemetry();
  private readonly targets = new Map<string, Target>();
  /** Every pwsh started and not yet forgotten (starting, warm, busy or closing). */
  private readonly sessions = new Set<Session>();
  private readonly groups = new Map<string, WorkerGroup>();
  private readonly capacity: Capacity;
  /** Bumped by close(): an operation waiting for a place then fails instead of starting a pwsh. */
  private generation = 0;
  private currentOptions: PoolOptions | undefined;
  private hooks: PoolHooks;
  private readonly sessionHooks: SessionHooks;
  private readonly starter: SessionStarter;
  private readonly startShell: StartShell;

  constructor(settings: SessionPoolSettings = {}) {
    if (settings.options !== undefined) checkOptions(settings.options);
    this.currentOptions = settings.options;
    this.hooks = settings.hooks ?? warmSessions;
    this.startShell = settings.startShell ?? startPwsh;
    this.capacity = new Capacity({
      alive: () => this.aliveCount(),
      maxSessions: () => this.options.maxSessions,
      evictTo: (limit) => this.enforceCap(limit),
    });
    this.sessionHooks = { telemetry: this.telemetry, exited: () => this.capacity.wake() };
    this.starter = {
      telemetry: this.telemetry,
      startupTimeoutMs: () => this.options.startupTimeoutMs,
      spawn: (key, executable) => this.spawn(key, this.startShell(executable)),
      adopt: (key, shell) => this.spawn(key, shell),
      discard: (session) => this.sessions.delete(session),
    };
  }

  /** The current options (environment defaults are read on first use). */
  get options(): PoolOptions {
    if (this.currentOptions === undefined) this.currentOptions = optionsFromEnv();
    return this.currentOptions;
  }

  /** Changes options for the rest of this pool's life; idle closes are re-armed with the new idle time. */
  configure(changes: Partial<PoolOptions>): PoolOptions {
    const next = { ...this.options, ...changes };
    checkOptions(next);
    this.currentOptions = next;
    for (const target of this.targets.values()) this.scheduleIdleClose(target);
    for (const group of this.groups.values()) group.rescheduleIdleCloses();
    return next;
  }

  /** Replaces the session policy (hooks.ts) for operations that start from now on. */
  setHooks(hooks: PoolHooks): void {
    this.hooks = hooks;
  }

  /**
   * Runs `work` on the target's warm pwsh (starting one if needed) after every earlier operation on
   * the same target has finished.
   */
  run<T>(spec: TargetSpec, work: (session: WarmSession) => Promise<T>): Promise<T> {
    let target = this.targets.get(spec.key);
    if (target === undefined) {
      target = newTarget(spec);
      this.targets.set(spec.key, target);
    }
    cancelIdleClose(target);
    const queued = target;
    return new Promise<T>((resolve, reject) => {
      queued.queue.push({ spec, work: work as Job["work"], resolve: resolve as Job["resolve"], reject });
      void this.pump(queued);
    });
  }

  /**
   * Drops the target's warm session so that its next operation opens a new one (counted in
   * `reconnects`): the target's host restarted, which ends every session to it. A session busy with
   * an operation is dropped when that operation ends. Targets served by shared workers have no session
   * of their own (a worker binds the host per operation): only the count changes.
   */
  reconnect(spec: TargetSpec): Promise<void> {
    this.telemetry.reconnectRequested(spec.key);
    const target = this.targets.get(spec.key);
    const session = target?.session;
    if (target === undefined || session === undefined) return Promise.resolve();
    if (target.running) {
      session.closing = true; // pump's finally kills it once the running operation ends
      return Promise.resolve();
    }
    return this.retire(target);
  }

  private async pump(target: Target): Promise<void> {
    if (target.running) return;
    const job = target.queue.shift();
    if (job === undefined) {
      if (target.session === undefined) this.forget(target);
      else this.scheduleIdleClose(target);
      return;
    }
    target.running = true;
    let session: Session | undefined;
    const group = this.groupFor(target.spec);
    try {
      session = group === undefined ? await this.ensureSession(target, job.spec) : await this.acquireWorker(target, group);
      session.busy = true;
      session.ref();
      this.telemetry.invoked(target.key);
      const warm = session;
      job.resolve(
        await job.work({
          pid: warm.pid,
          pwshPid: warm.pwshPid,
          runScript: (run) =>
            runWithReconnect(warm, job.spec, run, this.options.startupTimeoutMs, this.telemetry, (spec) => this.reopen(target, spec)),
        }),
      );
    } catch (err) {
      job.reject(err);
      // No session: the target could not be started or reached. What is queued behind shares the failure.
      if (session === undefined && group === undefined) for (const queued of target.queue.splice(0)) queued.reject(copyOf(err));
    } finally {
      for (const used of new Set([session, target.session])) {
        if (used === undefined) continue;
        used.busy = false;
        used.lastUsed = Date.now();
      }
      if (session !== undefined) group?.release(session);
      if (target.session !== undefined && (target.session.exited || target.session.closing)) {
        const dead = target.session;
        target.session = undefined;
        void dead.kill().finally(() => this.sessions.delete(dead));
      }
      if (target.session !== undefined) this.hooks.afterOperation({ retire: () => void this.retire(target) });
      target.running = false;
      if (target.session !== undefined && target.queue.length === 0) target.session.unref();
      this.enforceCap(this.options.maxSessions);
      this.capacity.wake();
      void this.pump(target);
    }
  }

  private closedError(spec: TargetSpec): RdsError {
    return new RdsError(ErrorCode.HostUnreachable, `running an operation on ${spec.host}: the session pool was closed`, {
      host: spec.host,
    });
  }

  /** `cancelled()` for a wait that began now: true once the pool has been closed since. */
  private closedSinceNow(): () => boolean {
    const generation = this.generation;
    return () => generation !== this.generation;
  }

  private async ensureSession(target: Target, spec: TargetSpec = target.spec): Promise<Session> {
    const current = target.session;
    if (current !== undefined && !current.exited && !current.closing) return current;
    target.session = undefined;
    // A session that died on its own (its connection dropped) is replaced: a reconnect. A closing one was retired.
    const phase = current !== undefined && current.exited && !current.closing ? "reconnect" : "connect";
    if (current !== undefined) void current.kill().finally(() => this.sessions.delete(current));
    const slot = await this.capacity.acquire(this.closedSinceNow());
    if (slot === undefined) throw this.closedError(spec);
    try {
      const session = await startSession(this.starter, spec, () => slot.release(), phase);
      target.session = session;
      return session;
    } finally {
      slot.release();
    }
  }

  /**
   * The exec channel's reconnect (connect.ts runWithReconnect): the target's session died during its
   * operation; a new one, opened with the asking job's connection, takes its place and the operation.
   */
  private async reopen(target: Target, spec: TargetSpec): Promise<Session> {
    const session = await this.ensureSession(target, spec);
    session.busy = true;
    session.ref();
    return session;
  }

  /** The worker group a target's operations run in (created on first use), or undefined for a pwsh of its own. */
  private groupFor(spec: TargetSpec): WorkerGroup | undefined {
    const key = this.hooks.workerGroupOf(spec, this.options);
    if (key === undefined) return undefined;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = new WorkerGroup(key, {
        idleMs: () => this.options.idleMs,
        hasFreePlace: () => this.capacity.freePlaces() > 0,
        retired: (worker) => this.sessions.delete(worker),
        empty: (emptied) => {
          if (this.groups.get(emptied.key) === emptied) this.groups.delete(emptied.key);
        },
      });
      this.groups.set(key, group);
    }
    return group;
  }

  private async acquireWorker(target: Target, group: WorkerGroup): Promise<Session> {
    const cancelled = this.closedSinceNow();
    const start = async (): Promise<Session> => {
      const slot = await this.capacity.acquire(cancelled);
      if (slot === undefined) throw this.closedError(target.spec);
      try {
        return await startSession(this.starter, workerSpec(target.spec, group.key), () => slot.release());
      } finally {
        slot.release();
      }
    };
    const worker = await group.acquire(this.options.simulatorWorkers, start, cancelled);
    if (worker === undefined) throw this.closedError(target.spec);
    return worker;
  }

  /** A session on a started shell (SessionStarter.spawn / adopt): counted under the cap from here, cleaned up at exit. */
  private spawn(key: string, shell: Shell): Session {
    cleanUpAtExit(this);
    const session = new Session(key, shell, this.sessionHooks);
    this.telemetry.started++;
    this.telemetry.event({ type: "start", key, pid: session.pid });
    this.sessions.add(session);
    return session;
  }

  private aliveCount(): number {
    let alive = 0;
    for (const session of this.sessions) if (!session.exited) alive++;
    return alive;
  }

  private scheduleIdleClose(target: Target): void {
    cancelIdleClose(target);
    if (target.session === undefined || !isIdle(target)) return;
    target.idleTimer = setTimeout(() => {
      target.idleTimer = undefined;
      if (!isIdle(target) || target.session === undefined) return;
      void this.retire(target);
    }, this.options.idleMs);
    target.idleTimer.unref();
  }

  /** Drops an idle target without a session from the map (its key may never be used again). */
  private forget(target: Target): void {
    if (isIdle(target) && target.session === undefined && this.targets.get(target.key) === target) {
      cancelIdleClose(target);
      this.targets.delete(target.key);
    }
  }

  /** Detaches a target's session and closes it gracefully. */
  private retire(target: Target): Promise<void> {
    const session = target.session;
    target.session = undefined;
    cancelIdleClose(target);
    this.forget(target);
    if (session === undefined) return Promise.resolve();
    return session.close().finally(() => this.sessions.delete(session));
  }

  private warmEntries(): WarmEntry[] {
    const entries: WarmEntry[] = [];
    for (const target of this.targets.values()) {
      const session = target.session;
      if (session === undefined || session.exited) continue;
      entries.push({ session, idle: isIdle(target) && !session.busy, retire: () => void this.retire(target) });
    }
    for (const group of this.groups.values()) {
      for (const worker of group.live()) {
        entries.push({ session: worker, idle: !worker.busy, retire: () => void group.retire(worker) });
      }
    }
    return entries;
  }

  /** Closes least recently used idle sessions (own or shared) until at most `limit` are warm. */
  private enforceCap(limit: number): void {
    for (;;) {
      const warm = this.warmEntries();
      if (warm.length <= Math.max(limit, 0)) return;
      const victim = warm.filter((e) => e.idle).sort((a, b) => a.session.lastUsed - b.session.lastUsed)[0];
      if (victim === undefined) return; // every warm session is busy: over the cap until one idles
      victim.retire();
    }
  }

  /** A snapshot, for tests and benchmarks. */
  stats(): PoolStats {
    const warmSessions: SessionStats[] = [];
    const describe = (key: string, s: Session): SessionStats => ({
      key,
      pid: s.pid,
      pwshPid: s.pwshPid,
      busy: s.busy,
      lastUsed: s.lastUsed,
    });
    for (const target of this.targets.values()) {
      const s = target.session;
      if (s !== undefined && !s.exited) warmSessions.push(describe(target.key, s));
    }
    for (const group of this.groups.values()) for (const s of group.notExited()) warmSessions.push(describe(group.key, s));
    return { ...this.telemetry.snapshot(), alive: this.aliveCount(), warm: warmSessions.length, sessions: warmSessions };
  }

  /** Some pwsh has not exited yet (exit cleanup). */
  hasLiveSessions(): boolean {
    return this.aliveCount() > 0;
  }

  /** Synchronous last-resort kill of every pwsh (exit cleanup). */
  killNow(): void {
    for (const session of this.sessions) session.killNow();
  }

  /** Closes every session (gracefully, then by force) and rejects queued operations. */
  async close(): Promise<void> {
    this.generation++;
    this.capacity.wake();
    const closing: Promise<void>[] = [];
    const handled = new Set<Session>();
    for (const target of this.targets.values()) {
      cancelIdleClose(target);
      for (const job of target.queue.splice(0)) job.reject(this.closedError(target.spec));
      const session = target.session;
      target.session = undefined;
      if (session !== undefined) {
        handled.add(session);
        closing.push((target.running ? session.kill() : session.close()).finally(() => this.sessions.delete(session)));
      }
    }
    for (const group of this.groups.values()) {
      const closed = group.closeAll();
      closing.push(...closed.closing);
      for (const worker of closed.handled) handled.add(worker);
    }
    // Sessions still starting, or detached and still closing.
    for (const session of this.sessions) {
      if (!handled.has(session)) closing.push(session.kill().finally(() => this.sessions.delete(session)));
    }
    await Promise.all(closing);
    for (const [key, target] of this.targets) if (isIdle(target)) this.targets.delete(key);
    for (const [key, group] of this.groups) if (group.unused) this.groups.delete(key);
    // Nothing is in flight any more: drop the private envelope directory (recreated on next use).
    if (this.targets.size === 0) removeEnvelopeDir();
  }
}

/** How a worker of the group is started: the target's transport, bound by its worker init (no host of its own). */
function workerSpec(spec: TargetSpec, groupKey: string): TargetSpec {
  const transport = spec.transport;
  const init = transport.workerInitOperation!;
  return {
    key: groupKey,
    host: spec.host,
    connection: spec.connection,
    transport: { ...transport, initOperation: (connection: Connection) => init(connection) },
  };
}

/** The same failure for another operation (each caller may rephrase its own error object). */
function copyOf(err: unknown): unknown {
  if (!isRdsError(err)) return err;
  const { code: _code, message: _message, ...details } = err;
  return new RdsError(err.code, err.message, details);
}
