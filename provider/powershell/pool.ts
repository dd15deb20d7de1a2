/**
 * The pwsh session pool: one warm pwsh per target, a FIFO queue per target, idle close, a cap on
 * warm sessions, per-call timeouts, and cleanup when Node exits.
 *
 * - A target is a pool key (Transport.targetKey): operations on one target run one after the other
 *   on one pwsh, in the order they were queued; different targets run in parallel.
 * - Shared workers: targets of a transport with a worker group (the simulator's, per state
 *   directory) have no pwsh of their own: each operation takes an idle worker of the group (at most
 *   `simulatorWorkers` of them), which selects the target from the operation's envelope. The
 *   per-target FIFO is unchanged. Remote transports keep one pwsh per target (it holds the PSSession).
 * - A fresh pwsh loads Bootstrap.ps1, runs the transport's preamble and init operation, then serves
 *   operations until it has been idle for `idleMs`, is evicted by the cap (least recently used idle
 *   session first; when every session is busy, an operation that needs a new pwsh waits until one
 *   goes idle, so pwsh processes never exceed the cap), times out, or dies. The next operation on
 *   the target then gets a fresh pwsh.
 * - Timers are unref'd, and an idle pwsh's process and pipes are unref'd too, so the pool never keeps
 *   Node alive. A busy pwsh is ref'd: a pending operation does.
 * - No pwsh outlives Node: sessions are killed on `exit`, SIGINT, SIGTERM and SIGHUP and closed on
 *   `beforeExit`; if Node is SIGKILLed, an idle pwsh exits on stdin EOF and a busy one is ended by
 *   the parent watchdog in Bootstrap.ps1 (RDS_RUNNER_PARENT_PID) within a second.
 * - The dotnet-tool `pwsh` is a launcher that runs the real pwsh as its child: the pool learns the
 *   real pid at start (Write-RdsSessionInfo) and kills that one first, so none is orphaned.
 *
 * This module holds the only long-lived state of the provider. It is required at call time by the
 * serialized provider shim, never captured (style habit 9).
 */
import type { ChildProcess } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import { PowerShell } from "node-powershell";
import { z } from "zod";
import { ErrorCode, RdsError, isRdsError } from "../errors";
import { providerFile } from "../paths";
import { emitConnectLog } from "./connectLog";
import { operationCommand, quotePowerShellLiteral, removeEnvelopeDir, removeEnvelopeFile, writeEnvelopeFile } from "./envelope";
import { PWSH_INSTALL_HINT, findPwsh } from "./executable";
import { CallContext, ResultDocument, errorFromDocument, parseResultDocument, stripAnsi } from "./result";
import type { Connection, Transport } from "./transport";
import { TRANSIENT_CONNECT_CODES, connectBackoffMs } from "./transports/remote";

// ---------------------------------------------------------------------------------------------
// Options and statistics

export interface PoolOptions {
  /** Close a warm pwsh after this long without work (ms). Default 60 000, or `$RDS_POOL_IDLE_MS`. */
  idleMs: number;
  /**
   * pwsh processes at most (starting, warm or closing): a new one first closes the least recently
   * used idle session, or waits for a session to go idle. Default 8, or `$RDS_POOL_MAX_SESSIONS`.
   */
  maxSessions: number;
  /** Time allowed to start pwsh and bind it to its target (ms). Default 120 000, or `$RDS_POOL_STARTUP_TIMEOUT_MS`. */
  startupTimeoutMs: number;
  /**
   * The naive baseline, for benchmarks: every operation gets a fresh pwsh, closed as soon as the
   * operation ends, and read coalescing (coalesce.ts) is off. Default false, or `$RDS_POOL_NAIVE=1`.
   */
  naive: boolean;
  /**
   * Shared pwsh workers per worker group (Transport.workerGroup: the simulator's targets of one
   * state directory). 0: one pwsh per target, as for every remote transport. Default: the number
   * of CPUs (at least 2), or `$RDS_SIM_WORKERS`. Workers count against `maxSessions`.
   */
  simulatorWorkers: number;
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  return Number.isInteger(value) && value >= min ? value : fallback;
}

function positiveIntFromEnv(name: string, fallback: number): number {
  return intFromEnv(name, fallback, 1);
}

let options: PoolOptions | undefined;

/** The pool's current options (environment defaults are read on first use). */
export function poolOptions(): PoolOptions {
  if (options === undefined) {
    options = {
      idleMs: positiveIntFromEnv("RDS_POOL_IDLE_MS", 60_000),
      maxSessions: positiveIntFromEnv("RDS_POOL_MAX_SESSIONS", 8),
      startupTimeoutMs: positiveIntFromEnv("RDS_POOL_STARTUP_TIMEOUT_MS", 120_000),
      naive: process.env.RDS_POOL_NAIVE === "1",
      simulatorWorkers: intFromEnv("RDS_SIM_WORKERS", Math.max(2, os.cpus().length), 0),
    };
  }
  return options;
}

/** Changes pool options for the rest of the process (tests, benchmarks, embedding programs). */
export function configurePool(changes: Partial<PoolOptions>): PoolOptions {
  const next = { ...poolOptions(), ...changes };
  for (const [name, value] of Object.entries(next)) {
    if (name === "naive") {
      if (typeof value !== "boolean") throw new RangeError("pool option naive must be a boolean");
    } else if (name === "simulatorWorkers") {
      if (!Number.isInteger(value) || (value as number) < 0) throw new RangeError("pool option simulatorWorkers must be 0 or a positive integer");
    } else if (!Number.isInteger(value) || (value as number) <= 0) {
      throw new RangeError(`pool option ${name} must be a positive integer`);
    }
  }
  options = next;
  for (const target of targets.values()) scheduleIdleClose(target);
  for (const group of groups.values()) for (const worker of group.workers) scheduleWorkerIdleClose(group, worker);
  return next;
}

export interface SessionStats {
  key: string;
  /** pid of the process Node spawned (the dotnet-tool launcher, or pwsh itself). */
  pid: number | undefined;
  /** pid of the pwsh that runs the scripts (differs from `pid` behind the dotnet-tool launcher). */
  pwshPid: number | undefined;
  busy: boolean;
  /** When the session last finished an operation (ms since epoch). */
  lastUsed: number;
}

export interface PoolStats {
  /** pwsh processes started since the process began. */
  started: number;
  /** pwsh processes that have not exited yet (including ones being closed). */
  alive: number;
  /** Warm pwsh: sessions attached to a target, plus shared workers (their key is the worker group's). */
  warm: number;
  /** Operations that timed out (each replaced its pwsh). */
  timeouts: number;
  /** Sessions whose pwsh died on its own (crash, exit from a script). */
  died: number;
  /** Operations started per target key (init operations not counted). */
  invocations: Record<string, number>;
  /**
   * Remote transports: sessions opened per target key (the connect operation succeeded: the first
   * connect of each warm pwsh and every reconnect after a lost session).
   */
  connects: Record<string, number>;
  /** Remote transports: connect attempts that failed, per target key (each retry counts). */
  connectFailures: Record<string, number>;
  sessions: SessionStats[];
}

const stats = { started: 0, timeouts: 0, died: 0 };
const connectCounts = new Map<string, number>();
const connectFailureCounts = new Map<string, number>();

/** A snapshot of the pool, for tests and benchmarks. */
export function poolStats(): PoolStats {
  const invocations: Record<string, number> = {};
  const warmSessions: SessionStats[] = [];
  for (const [key, count] of invocationCounts) invocations[key] = count;
  const connects: Record<string, number> = Object.fromEntries(connectCounts);
  const connectFailures: Record<string, number> = Object.fromEntries(connectFailureCounts);
  for (const target of targets.values()) {
    const s = target.session;
    if (s !== undefined && !s.exited) {
      warmSessions.push({ key: target.key, pid: s.pid, pwshPid: s.pwshPid, busy: s.busy, lastUsed: s.lastUsed });
    }
  }
  for (const group of groups.values()) {
    for (const s of group.workers) {
      if (!s.exited) warmSessions.push({ key: group.key, pid: s.pid, pwshPid: s.pwshPid, busy: s.busy, lastUsed: s.lastUsed });
    }
  }
  return {
    started: stats.started,
    alive: [...sessions].filter((s) => !s.exited).length,
    warm: warmSessions.length,
    timeouts: stats.timeouts,
    died: stats.died,
    invocations,
    connects,
    connectFailures,
    sessions: warmSessions,
  };
}

// ---------------------------------------------------------------------------------------------
// Command listeners (debug hook: tests check that no user value is ever in a command)

export interface CommandEvent {
  key: string;
  pid: number | undefined;
}
type CommandListener = (command: string, event: CommandEvent) => void;
const commandListeners = new Set<CommandListener>();

/** Calls `listener` with every command string sent to any pwsh. Returns the unsubscribe function. */
export function onCommand(listener: CommandListener): () => void {
  commandListeners.add(listener);
  return () => {
    commandListeners.delete(listener);
  };
}

// ---------------------------------------------------------------------------------------------
// Pool events (benchmarks count pwsh processes and script time from inside the provider host)

export type PoolEvent =
  /** A pwsh process was spawned for `key`. */
  | { type: "start"; key: string; pid: number | undefined }
  /** That process exited (closed, evicted, killed or died). */
  | { type: "exit"; key: string; pid: number | undefined }
  /**
   * One script ran (operations and init operations alike): `key` is the target it ran for (a shared
   * worker's init: the worker group), `pid` the pwsh that ran it; `durationMs` as the pool saw it
   * (command sent to document parsed), `scriptMs` the script's own run time in pwsh (Bootstrap.ps1).
   */
  | { type: "script"; key: string; pid: number | undefined; operation: string; durationMs: number; scriptMs: number | undefined };
type PoolListener = (event: PoolEvent) => void;
const poolListeners = new Set<PoolListener>();

/** Calls `listener` with every pool event. Returns the unsubscribe function. */
export function onPoolEvent(listener: PoolListener): () => void {
  poolListeners.add(listener);
  return () => {
    poolListeners.delete(listener);
  };
}

function emitPoolEvent(event: PoolEvent): void {
  for (const listener of poolListeners) {
    try {
      listener(event);
    } catch {
      // a debug hook never breaks an operation
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One pwsh process

/** child-shell internals the one-line invocation below uses (node-powershell 5 / child-shell 5). */
interface ShellGuts {
  streams: { stdin: NodeJS.WritableStream; stdout: NodeJS.ReadableStream; stderr: NodeJS.ReadableStream };
  exitPromise: Promise<void>;
  isExited: boolean;
  readBulkFromOutput(stream: NodeJS.ReadableStream, delimiter: string): Promise<Buffer>;
}

const DELIMITER_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** 16 random characters of [0-9A-Za-z], like child-shell's own delimiters (recentStderr drops such lines). */
function newDelimiter(): string {
  return [...crypto.randomBytes(16)].map((b) => DELIMITER_ALPHABET[b % DELIMITER_ALPHABET.length]).join("");
}

/** node-powershell's PowerShell, pinned to the executable we found (it would prefer $NODE_POWERSHELL). */
class PinnedPowerShell extends PowerShell {
  protected override setExecutable(opts: { executable?: string }): string {
    return opts.executable as string;
  }
}

/**
 * Replaces child-shell's (private) invokeCommand on a shell: each command goes to pwsh as ONE line.
 * child-shell sends five (two delimiter prints, the command, two more), and `pwsh -Command -` parses
 * and runs every stdin line as a pipeline of its own: four extra pipelines per operation. The
 * closing delimiters are printed in a `finally`, so a command that throws still ends its output.
 * Measured with the runner benchmark: provider/powershell/README.md ("One line per command").
 */
function sendCommandsAsOneLine(shell: PowerShell): void {
  const guts = shell as unknown as ShellGuts & { invokeCommand: (command: string) => Promise<unknown> };
  guts.invokeCommand = async (command: string) => {
    const delimiter = newDelimiter();
    const output = Promise.all([guts.readBulkFromOutput(guts.streams.stdout, delimiter), guts.readBulkFromOutput(guts.streams.stderr, delimiter)]);
    const marks = `[Console]::Error.WriteLine('${delimiter}'); [Console]::Out.WriteLine('${delimiter}')`;
    guts.streams.stdin.write(`${marks}; try { ${command} } finally { ${marks} }${os.EOL}`);
    await Promise.race([guts.exitPromise, output]);
    if (guts.isExited) return { hadErrors: true, raw: "" };
    const [stdout, stderr] = await output;
    return { stdout, stderr, hadErrors: stderr.length !== 0, raw: "" };
  };
}

interface ShellInternals {
  process: ChildProcess;
  exitPromise: Promise<void>;
  history: unknown[];
}

export interface ScriptRun {
  name: string;
  script: string;
  args: Record<string, unknown>;
  host: string;
  timeoutMs: number;
}

export interface ScriptOutcome {
  document: ResultDocument;
  durationMs: number;
  stderr: string;
}

const STDERR_TAIL = 8192;
const CLOSE_GRACE_MS = 3000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function signalQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Child pids of a process (Linux /proc; empty elsewhere). */
function childPids(pid: number | undefined): number[] {
  if (pid === undefined || process.platform !== "linux") return [];
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((part) => part.length > 0)
      .map(Number);
  } catch {
    return [];
  }
}

function childEnvironment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TERM: "dumb",
    NO_COLOR: "1",
    POWERSHELL_TELEMETRY_OPTOUT: "1",
    POWERSHELL_UPDATECHECK: "Off",
    DOTNET_CLI_TELEMETRY_OPTOUT: "1",
    DOTNET_NOLOGO: "1",
    RDS_RUNNER_PARENT_PID: String(process.pid),
  };
}

class Session {
  readonly shell: PinnedPowerShell;
  readonly child: ChildProcess;
  readonly pid: number | undefined;
  pwshPid: number | undefined;
  exited = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly whenExited: Promise<void>;
  busy = false;
  closing = false;
  lastUsed = Date.now();
  private stderrTail = "";

  constructor(
    readonly key: string,
    executable: string,
  ) {
    const executableOptions: Record<string, boolean | string> = { "-NoProfile": true, "-NonInteractive": true };
    if (process.platform === "win32") executableOptions["-ExecutionPolicy"] = "Bypass";
    this.shell = new PinnedPowerShell({
      executable,
      executableOptions,
      throwOnInvocationError: false,
      spawnOptions: { env: childEnvironment() },
    });
    if (process.env.RDS_POOL_FIVE_LINE_INVOKE !== "1") sendCommandsAsOneLine(this.shell);
    const internals = this.shell as unknown as ShellInternals;
    // node-powershell rejects this when pwsh exits abnormally; we watch the process ourselves.
    internals.exitPromise.catch(() => undefined);
    this.child = internals.process;
    this.pid = this.child.pid;
    this.child.stdin?.on("error", () => undefined);
    this.child.stderr?.on("data", (chunk: string | Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL);
    });
    this.whenExited = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exited) return;
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = signal;
        emitPoolEvent({ type: "exit", key: this.key, pid: this.pid });
        resolve();
        wakeSlotWaiters();
      };
      this.child.once("exit", done);
      this.child.once("error", () => {
        if (this.child.pid === undefined) done(null, null);
      });
    });
  }

  /** Keeps Node alive while this session works. */
  ref(): void {
    this.child.ref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (stream as unknown as { ref?: () => void } | null)?.ref?.();
    }
  }

  /** Lets Node exit while this session idles. */
  unref(): void {
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
  }

  /** Recent stderr of the process, node-powershell's delimiter lines removed. */
  recentStderr(): string {
    return stripAnsi(this.stderrTail)
      .split(/\r?\n/)
      .filter((line) => line.trim().length > 0 && !/^[0-9A-Za-z]{16}$/.test(line.trim()))
      .join("\n");
  }

  exitDescription(): string {
    if (this.exitSignal) return `signal ${this.exitSignal}`;
    return `exit code ${this.exitCode ?? "unknown"}`;
  }

  /**
   * Sends one command and returns what it printed. Rejects with RDS_TIMEOUT (after killing this
   * pwsh) or RDS_SCRIPT_ERROR when pwsh dies during the command.
   */
  async send(command: string, timeoutMs: number, ctx: CallContext): Promise<{ stdout: string; stderr: string; durationMs: number }> {
    const started = Date.now();
    if (this.exited) {
      throw new RdsError(ErrorCode.ScriptError, `running ${ctx.operation} on ${ctx.host}: pwsh had exited (${this.exitDescription()})`, {
        host: ctx.host,
        operation: ctx.operation,
        durationMs: 0,
        stderr: this.recentStderr(),
      });
    }
    for (const listener of commandListeners) {
      try {
        listener(command, { key: this.key, pid: this.pid });
      } catch {
        // a debug hook never breaks an operation
      }
    }
    type Outcome =
      | { kind: "done"; stdout: string; stderr: string }
      | { kind: "failed" }
      | { kind: "exited" }
      | { kind: "timeout" };
    const invocation: Promise<Outcome> = this.shell.invoke(command).then(
      (record) => ({ kind: "done", stdout: record.stdout?.toString("utf8") ?? "", stderr: record.stderr?.toString("utf8") ?? "" }),
      () => ({ kind: "failed" }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
    });
    const exited = this.whenExited.then((): Outcome => ({ kind: "exited" }));
    let outcome: Outcome;
    try {
      outcome = await Promise.race([invocation, timedOut, exited]);
    } finally {
      if (timer) clearTimeout(timer);
      // node-powershell keeps every invocation (with its output) in `history`; we do not need it.
      (this.shell as unknown as ShellInternals).history.length = 0;
    }
    const durationMs = Date.now() - started;

    if (outcome.kind === "timeout") {
      stats.timeouts++;
      await this.kill();
      throw new RdsError(
        ErrorCode.Timeout,
        `running ${ctx.operation} on ${ctx.host}: timed out after ${timeoutMs} ms; its pwsh was stopped and will be replaced`,
        { host: ctx.host, operation: ctx.operation, durationMs, stderr: this.recentStderr() },
      );
    }
    if (outcome.kind !== "done" || this.exited) {
      await Promise.race([this.whenExited, delay(CLOSE_GRACE_MS)]);
      if (!this.closing) stats.died++;
      throw new RdsError(
        ErrorCode.ScriptError,
        `running ${ctx.operation} on ${ctx.host}: pwsh exited during the operation (${this.exitDescription()}); the next operation starts a fresh one`,
        { host: ctx.host, operation: ctx.operation, durationMs, stderr: this.recentStderr() },
      );
    }
    return { stdout: outcome.stdout, stderr: stripAnsi(outcome.stderr).trim(), durationMs };
  }

  /** Sends a command that prints one result document (Bootstrap helpers) and parses it. */
  async sendForDocument(command: string, timeoutMs: number, ctx: CallContext): Promise<ScriptOutcome> {
    const output = await this.send(command, timeoutMs, ctx);
    const full: CallContext = { ...ctx, durationMs: output.durationMs, stderr: output.stderr || undefined };
    return { document: parseResultDocument(output.stdout, full), durationMs: output.durationMs, stderr: output.stderr };
  }

  /**
   * Runs an operation script: writes its envelope to a private file, sends the one
   * `Invoke-RdsOperation` command, parses the document. The envelope file is gone afterwards
   * whatever happened.
   */
  async runScript(run: ScriptRun, targetKey: string = this.key): Promise<ScriptOutcome> {
    const envelopePath = writeEnvelopeFile({ operation: run.name, host: run.host, args: run.args });
    try {
      const outcome = await this.sendForDocument(operationCommand(run.script, envelopePath), run.timeoutMs, {
        host: run.host,
        operation: run.name,
      });
      if (poolListeners.size > 0) {
        emitPoolEvent({ type: "script", key: targetKey, pid: this.pid, operation: run.name, durationMs: outcome.durationMs, scriptMs: outcome.document.scriptMs });
      }
      return outcome;
    } finally {
      removeEnvelopeFile(envelopePath);
    }
  }

  /** Kills the real pwsh first (so the launcher reaps it), then the launcher; waits for the exit. */
  async kill(): Promise<void> {
    this.closing = true;
    if (!this.exited) {
      const inner = new Set<number>(childPids(this.pid));
      if (this.pwshPid !== undefined && this.pwshPid !== this.pid) inner.add(this.pwshPid);
      for (const pid of inner) signalQuietly(pid, "SIGKILL");
      this.child.stdin?.destroy();
      if (inner.size > 0) await Promise.race([this.whenExited, delay(1000)]);
      if (!this.exited) this.child.kill("SIGKILL");
    }
    await Promise.race([this.whenExited, delay(CLOSE_GRACE_MS)]);
  }

  /** Closes gracefully: stdin EOF makes pwsh exit; killed if it has not after a grace period. */
  async close(): Promise<void> {
    if (this.exited) return;
    this.closing = true;
    this.ref();
    this.child.stdin?.end();
    await Promise.race([this.whenExited, delay(CLOSE_GRACE_MS)]);
    if (!this.exited) await this.kill();
  }

  /** Synchronous last-resort kill (process `exit` and signal handlers). */
  killNow(): void {
    if (this.exited) return;
    if (this.pwshPid !== undefined && this.pwshPid !== this.pid) signalQuietly(this.pwshPid, "SIGKILL");
    for (const pid of childPids(this.pid)) signalQuietly(pid, "SIGKILL");
    signalQuietly(this.pid, "SIGKILL");
  }
}

// ---------------------------------------------------------------------------------------------
// Targets and queues

/** What the pool needs to know about a target. */
export interface TargetSpec {
  key: string;
  /** For messages. */
  host: string;
  connection: Connection;
  transport: Transport;
}

/** The warm session handed to work on a target. */
export interface WarmSession {
  readonly pid: number | undefined;
  readonly pwshPid: number | undefined;
  runScript(run: ScriptRun): Promise<ScriptOutcome>;
}

interface Job {
  work: (session: WarmSession) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

interface Target {
  key: string;
  spec: TargetSpec;
  session: Session | undefined;
  queue: Job[];
  running: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

const targets = new Map<string, Target>();
const sessions = new Set<Session>();

/**
 * Shared workers (Transport.workerGroup): pwsh processes that serve any target of their group, one
 * operation at a time each. A target's FIFO still orders its own operations; a worker is held only
 * for the one operation it runs.
 */
interface WorkerGroup {
  key: string;
  workers: Session[];
  /** Workers being started (counted against the group's size before they exist). */
  starting: number;
  /** Woken when a worker goes idle or exits, or the pool closes. */
  waiters: (() => void)[];
  idleTimers: Map<Session, NodeJS.Timeout>;
}
const groups = new Map<string, WorkerGroup>();

/** The worker group a target's operations run in, or undefined for a pwsh of its own. */
function workerGroupOf(spec: TargetSpec): string | undefined {
  const options = poolOptions();
  if (options.naive || options.simulatorWorkers === 0) return undefined;
  if (spec.transport.workerGroup === undefined || spec.transport.workerInitOperation === undefined) return undefined;
  return spec.transport.workerGroup(spec.connection);
}
/** Operations started per target key, over the life of the process. */
const invocationCounts = new Map<string, number>();

/**
 * Runs `work` on the target's warm pwsh (starting one if needed) after every earlier operation on
 * the same target has finished.
 */
export function runOnTarget<T>(spec: TargetSpec, work: (session: WarmSession) => Promise<T>): Promise<T> {
  let target = targets.get(spec.key);
  if (target === undefined) {
    target = { key: spec.key, spec, session: undefined, queue: [], running: false, idleTimer: undefined };
    targets.set(spec.key, target);
  }
  cancelIdleClose(target);
  const queued = target;
  return new Promise<T>((resolve, reject) => {
    queued.queue.push({ work: work as Job["work"], resolve: resolve as Job["resolve"], reject });
    void pump(queued);
  });
}

async function pump(target: Target): Promise<void> {
  if (target.running) return;
  const job = target.queue.shift();
  if (job === undefined) {
    if (target.session === undefined) forget(target);
    else scheduleIdleClose(target);
    return;
  }
  target.running = true;
  let session: Session | undefined;
  const groupKey = workerGroupOf(target.spec);
  try {
    session = groupKey === undefined ? await ensureSession(target) : await acquireWorker(target, groupKey);
    session.busy = true;
    session.ref();
    invocationCounts.set(target.key, (invocationCounts.get(target.key) ?? 0) + 1);
    const warm = session;
    job.resolve(
      await job.work({
        pid: warm.pid,
        pwshPid: warm.pwshPid,
        runScript: (run) => runWithReconnect(target, warm, run),
      }),
    );
  } catch (err) {
    job.reject(err);
  } finally {
    if (session !== undefined) {
      session.busy = false;
      session.lastUsed = Date.now();
      if (groupKey !== undefined) releaseWorker(groupKey, session);
    }
    if (target.session !== undefined && (target.session.exited || target.session.closing)) {
      const dead = target.session;
      target.session = undefined;
      void dead.kill().finally(() => sessions.delete(dead));
    }
    // Naive baseline: no pwsh survives its operation (the next one starts a fresh pwsh).
    if (poolOptions().naive && target.session !== undefined) void retire(target);
    target.running = false;
    if (target.session !== undefined && target.queue.length === 0) target.session.unref();
    enforceCap(poolOptions().maxSessions);
    wakeSlotWaiters();
    void pump(target);
  }
}

async function ensureSession(target: Target): Promise<Session> {
  const current = target.session;
  if (current !== undefined && !current.exited && !current.closing) return current;
  target.session = undefined;
  const slot = await acquireSlot(target);
  try {
    const session = await startSession(target.spec, slot);
    target.session = session;
    return session;
  } finally {
    slot.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Shared workers

function groupFor(key: string): WorkerGroup {
  let group = groups.get(key);
  if (group === undefined) {
    group = { key, workers: [], starting: 0, waiters: [], idleTimers: new Map() };
    groups.set(key, group);
  }
  return group;
}

function wakeGroup(group: WorkerGroup): void {
  const waiting = group.waiters;
  group.waiters = [];
  for (const wake of waiting) wake();
}

/**
 * An idle worker of the group for one operation of `target` (marked busy), or a new one while the
 * group has fewer than `simulatorWorkers` (and the cap allows: acquireSlot); otherwise waits for
 * one to go idle.
 */
async function acquireWorker(target: Target, groupKey: string): Promise<Session> {
  const generation = poolGeneration;
  const group = groupFor(groupKey);
  for (;;) {
    if (generation !== poolGeneration) {
      throw new RdsError(ErrorCode.HostUnreachable, `running an operation on ${target.spec.host}: the session pool was closed`, { host: target.spec.host });
    }
    group.workers = group.workers.filter((w) => !w.exited && !w.closing);
    const idle = group.workers.find((w) => !w.busy);
    if (idle !== undefined) {
      cancelWorkerIdleClose(group, idle);
      idle.busy = true;
      return idle;
    }
    // Grow while the group is under its size, but past its first worker only into a free place
    // under the cap: evicting an idle session to start one more worker would just trade processes.
    const size = group.workers.length + group.starting;
    if (size < Math.max(1, poolOptions().simulatorWorkers) && (size === 0 || freePlaces() > 0)) {
      group.starting++;
      try {
        const slot = await acquireSlot(target);
        const worker = await startSession(workerSpec(target.spec, groupKey), slot);
        worker.busy = true;
        group.workers.push(worker);
        return worker;
      } finally {
        group.starting--;
        wakeGroup(group);
      }
    }
    await new Promise<void>((resolve) => group.waiters.push(resolve));
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

/** After an operation: a dead worker leaves the group; a live one idles (naive mode never gets here). */
function releaseWorker(groupKey: string, worker: Session): void {
  const group = groupFor(groupKey);
  if (worker.exited || worker.closing) {
    group.workers = group.workers.filter((w) => w !== worker);
    void worker.kill().finally(() => sessions.delete(worker));
  } else {
    worker.unref();
    scheduleWorkerIdleClose(group, worker);
  }
  wakeGroup(group);
}

function cancelWorkerIdleClose(group: WorkerGroup, worker: Session): void {
  const timer = group.idleTimers.get(worker);
  if (timer !== undefined) clearTimeout(timer);
  group.idleTimers.delete(worker);
}

function scheduleWorkerIdleClose(group: WorkerGroup, worker: Session): void {
  cancelWorkerIdleClose(group, worker);
  if (worker.busy || worker.exited) return;
  const timer = setTimeout(() => {
    group.idleTimers.delete(worker);
    if (!worker.busy) retireWorker(group, worker);
  }, poolOptions().idleMs);
  timer.unref();
  group.idleTimers.set(worker, timer);
}

/** Takes an idle worker out of its group and closes it gracefully. */
function retireWorker(group: WorkerGroup, worker: Session): Promise<void> {
  cancelWorkerIdleClose(group, worker);
  group.workers = group.workers.filter((w) => w !== worker);
  if (group.workers.length === 0 && group.starting === 0 && group.waiters.length === 0) groups.delete(group.key);
  return worker.close().finally(() => sessions.delete(worker));
}

/**
 * A place under the cap, held from the moment it is granted until the new pwsh is in `sessions`
 * (which then counts it), so concurrent starts cannot all see the same free place.
 */
interface Slot {
  release(): void;
}
let reservedSlots = 0;

/** Woken whenever a slot may have freed: a pwsh exited or a session went idle (evictable). */
let slotWaiters: (() => void)[] = [];
/** Bumped by closeAll(): an operation waiting for a slot then fails instead of starting a pwsh. */
let poolGeneration = 0;

function wakeSlotWaiters(): void {
  const waiting = slotWaiters;
  slotWaiters = [];
  for (const wake of waiting) wake();
}

/** pwsh processes that could start now without evicting anything. */
function freePlaces(): number {
  return poolOptions().maxSessions - [...sessions].filter((s) => !s.exited).length - reservedSlots;
}

/**
 * Waits until a new pwsh fits under the cap: fewer than `maxSessions` processes alive (starting,
 * warm, busy or still closing all count), evicting least recently used idle sessions to make room.
 * When every session is busy the operation waits for one to go idle, so the number of pwsh
 * processes never exceeds the cap (an operation never holds a session while it waits for another,
 * so this cannot deadlock).
 */
async function acquireSlot(target: Target): Promise<Slot> {
  const generation = poolGeneration;
  for (;;) {
    if (generation !== poolGeneration) {
      throw new RdsError(ErrorCode.HostUnreachable, `running an operation on ${target.spec.host}: the session pool was closed`, { host: target.spec.host });
    }
    const max = poolOptions().maxSessions;
    enforceCap(max - 1 - reservedSlots);
    if ([...sessions].filter((s) => !s.exited).length + reservedSlots < max) {
      reservedSlots++;
      let held = true;
      return {
        release: () => {
          if (!held) return;
          held = false;
          reservedSlots--;
          wakeSlotWaiters();
        },
      };
    }
    await new Promise<void>((resolve) => slotWaiters.push(resolve));
  }
}

function cancelIdleClose(target: Target): void {
  if (target.idleTimer !== undefined) {
    clearTimeout(target.idleTimer);
    target.idleTimer = undefined;
  }
}

function scheduleIdleClose(target: Target): void {
  cancelIdleClose(target);
  if (target.session === undefined || target.running || target.queue.length > 0) return;
  target.idleTimer = setTimeout(() => {
    target.idleTimer = undefined;
    if (target.running || target.queue.length > 0 || target.session === undefined) return;
    retire(target);
  }, poolOptions().idleMs);
  target.idleTimer.unref();
}

/** Drops an idle target without a session from the map (its key may never be used again). */
function forget(target: Target): void {
  if (!target.running && target.queue.length === 0 && target.session === undefined && targets.get(target.key) === target) {
    cancelIdleClose(target);
    targets.delete(target.key);
  }
}

/** Detaches a target's session and closes it gracefully. */
function retire(target: Target): Promise<void> {
  const session = target.session;
  target.session = undefined;
  cancelIdleClose(target);
  forget(target);
  if (session === undefined) return Promise.resolve();
  return session.close().finally(() => sessions.delete(session));
}

/** A warm pwsh the cap may close: a target's own session, or a shared worker. */
interface WarmEntry {
  session: Session;
  idle: boolean;
  retire(): void;
}

function warmEntries(): WarmEntry[] {
  const entries: WarmEntry[] = [];
  for (const t of targets.values()) {
    const session = t.session;
    if (session === undefined || session.exited) continue;
    entries.push({ session, idle: !t.running && t.queue.length === 0 && !session.busy, retire: () => void retire(t) });
  }
  for (const group of groups.values()) {
    for (const worker of group.workers) {
      if (worker.exited || worker.closing) continue;
      entries.push({ session: worker, idle: !worker.busy, retire: () => void retireWorker(group, worker) });
    }
  }
  return entries;
}

/** Closes least recently used idle sessions (own or shared) until at most `limit` are warm. */
function enforceCap(limit: number): void {
  for (;;) {
    const warm = warmEntries();
    if (warm.length <= Math.max(limit, 0)) return;
    const victim = warm.filter((e) => e.idle).sort((a, b) => a.session.lastUsed - b.session.lastUsed)[0];
    if (victim === undefined) return; // every warm session is busy: over the cap until one idles
    victim.retire();
  }
}

// ---------------------------------------------------------------------------------------------
// Starting a session

const sessionInfoSchema = z.object({ pid: z.number().int().positive(), psVersion: z.string() });

function hostUnreachable(spec: TargetSpec, cause: string, extra: { stderr?: string; cause?: unknown } = {}): RdsError {
  return new RdsError(ErrorCode.HostUnreachable, `starting pwsh for ${spec.host}: ${cause}`, {
    host: spec.host,
    operation: "session.start",
    ...extra,
  });
}

async function startSession(spec: TargetSpec, slot?: Slot): Promise<Session> {
  const lookup = spec.transport.executable ? spec.transport.executable(spec.connection) : findPwsh();
  if (!lookup.found) {
    if (lookup.unavailable) {
      throw new RdsError(ErrorCode.TransportUnavailable, `starting a shell for ${spec.host}: ${lookup.reason}`, {
        host: spec.host,
        operation: "session.start",
      });
    }
    throw hostUnreachable(spec, `${lookup.reason}; ${PWSH_INSTALL_HINT}`);
  }
  installExitHandlers();

  const session = new Session(spec.key, lookup.path);
  stats.started++;
  emitPoolEvent({ type: "start", key: spec.key, pid: session.pid });
  sessions.add(session);
  slot?.release(); // `sessions` counts it from here
  session.ref();
  const deadline = Date.now() + poolOptions().startupTimeoutMs;
  const remaining = () => Math.max(deadline - Date.now(), 1);
  const ctx: CallContext = { host: spec.host, operation: "session.start" };

  try {
    const bootstrap = providerFile("powershell/Bootstrap.ps1");
    const hello = await session.sendForDocument(`. ${quotePowerShellLiteral(bootstrap)}; Write-RdsSessionInfo`, remaining(), ctx);
    if (!hello.document.ok) throw errorFromDocument(hello.document.error, ctx);
    const info = sessionInfoSchema.safeParse(hello.document.result);
    if (!info.success) throw hostUnreachable(spec, "pwsh did not report its process id after loading Bootstrap.ps1");
    session.pwshPid = info.data.pid;

    for (const command of spec.transport.preamble(spec.connection)) {
      const step = await session.sendForDocument(command, remaining(), ctx);
      if (!step.document.ok) throw errorFromDocument(step.document.error, ctx);
    }

    await bindTarget(session, spec, "connect", deadline);
    return session;
  } catch (err) {
    const diedOnItsOwn = session.exited;
    await session.kill();
    sessions.delete(session);
    // Connect failures of remote transports are already typed and worded (connect step, below).
    if (isRdsError(err) && err.operation === CONNECT_OPERATION && !diedOnItsOwn) throw err;
    throw startupError(spec, err, session, diedOnItsOwn);
  }
}

// ---------------------------------------------------------------------------------------------
// Binding a pwsh to its target: the init operation; for remote transports the connect step

/** `operation` of the errors the connect step raises. */
const CONNECT_OPERATION = "session.connect";

/** What a remote transport's connect operation reports (transports/RemoteConnect.ps1). */
const connectInfoSchema = z
  .object({
    opens: z.number().optional(),
    remotePid: z.number().optional(),
    pendingRunStarted: z.boolean().nullable().optional(),
    command: z.string().optional(),
  })
  .passthrough();
type ConnectInfo = z.infer<typeof connectInfoSchema>;

/**
 * Runs the transport's init operation on a fresh (or disconnected) pwsh. Remote transports
 * (`transport.connect`) get bounded retries for transient failures, with a log line per attempt;
 * their failures are classified into typed errors (RDS_AUTH_REFUSED, RDS_HOST_KEY_UNKNOWN, ...).
 */
async function bindTarget(session: Session, spec: TargetSpec, phase: "connect" | "reconnect", deadline: number): Promise<ConnectInfo | undefined> {
  const init = spec.transport.initOperation(spec.connection);
  if (init === undefined) return undefined;
  const remaining = () => Math.max(deadline - Date.now(), 1);
  const policy = spec.transport.connect;
  if (policy === undefined) {
    const outcome = await session.runScript({ ...init, host: spec.host, timeoutMs: remaining() });
    if (!outcome.document.ok) {
      throw errorFromDocument(outcome.document.error, { host: spec.host, operation: init.name, durationMs: outcome.durationMs });
    }
    return undefined;
  }

  const attempts = Math.max(1, policy.attempts(spec.connection));
  const target = policy.describe(spec.connection);
  const base = { phase, key: spec.key, host: spec.host, target, attempts };
  for (let attempt = 1; ; attempt++) {
    emitConnectLog({ ...base, event: "attempt", attempt, message: `${phase === "reconnect" ? "reconnecting" : "connecting"} to ${spec.host} over ${target}: attempt ${attempt} of ${attempts}` });
    const started = Date.now();
    let failure: RdsError;
    try {
      const outcome = await session.runScript({ ...init, host: spec.host, timeoutMs: remaining() });
      if (outcome.document.ok) {
        const info = connectInfoSchema.safeParse(outcome.document.result);
        connectCounts.set(spec.key, (connectCounts.get(spec.key) ?? 0) + 1);
        emitConnectLog({ ...base, event: "connected", attempt, durationMs: Date.now() - started, message: `connected to ${spec.host} over ${target} in ${Date.now() - started} ms (attempt ${attempt} of ${attempts})` });
        return info.success ? info.data : {};
      }
      const raw = errorFromDocument(outcome.document.error, { host: spec.host, operation: CONNECT_OPERATION, durationMs: outcome.durationMs });
      failure = policy.classify(raw, outcome.stderr, spec.connection);
    } catch (err) {
      // The pwsh died or timed out while connecting: not worth another attempt on this pwsh.
      const wrapped = isRdsError(err) ? err : hostUnreachable(spec, String(err));
      connectFailureCounts.set(spec.key, (connectFailureCounts.get(spec.key) ?? 0) + 1);
      emitConnectLog({ ...base, event: "failed", attempt, code: wrapped.code, durationMs: Date.now() - started, message: `connecting to ${spec.host} over ${target} failed on attempt ${attempt} of ${attempts}: ${wrapped.code}` });
      throw wrapped;
    }
    failure.operation = CONNECT_OPERATION;
    connectFailureCounts.set(spec.key, (connectFailureCounts.get(spec.key) ?? 0) + 1);
    const delayMs = connectBackoffMs(attempt);
    const transient = TRANSIENT_CONNECT_CODES.has(failure.code);
    if (!transient || attempt >= attempts || remaining() <= delayMs) {
      const why = !transient ? "not retried" : attempt >= attempts ? "no attempts left" : "no time left";
      emitConnectLog({ ...base, event: "failed", attempt, code: failure.code, durationMs: Date.now() - started, message: `connecting to ${spec.host} over ${target} failed on attempt ${attempt} of ${attempts} (${failure.code}, ${why})` });
      throw failure;
    }
    emitConnectLog({ ...base, event: "retry", attempt, code: failure.code, delayMs, durationMs: Date.now() - started, message: `connecting to ${spec.host} over ${target} failed on attempt ${attempt} of ${attempts} (${failure.code}); retrying in ${delayMs / 1000} s` });
    await delay(delayMs);
  }
}

/** Error codes the remote invoker (RdsRemoting.psm1) reports instead of running an operation. */
const SESSION_LOST = "SESSION_LOST";
const CONNECTION_LOST_PENDING = "CONNECTION_LOST_PENDING";

/**
 * Runs an operation; when the invoker of a remote transport reports its session lost, reconnects
 * (the connect step again, with its retries) and runs the operation once more, but only when it
 * provably never started on the target: it was never sent (SESSION_LOST), or the reconnect found no
 * run marker for it. Otherwise the operation fails with RDS_CONNECTION_LOST (it may have run).
 */
async function runWithReconnect(target: Target, session: Session, run: ScriptRun): Promise<ScriptOutcome> {
  const first = await session.runScript(run, target.key);
  const spec = target.spec;
  if (first.document.ok || spec.transport.connect === undefined) return first;
  const code = first.document.error.code;
  if (code !== SESSION_LOST && code !== CONNECTION_LOST_PENDING) return first;
  const info = await bindTarget(session, spec, "reconnect", Date.now() + poolOptions().startupTimeoutMs);
  if (code === SESSION_LOST || info?.pendingRunStarted === false) return session.runScript(run, target.key);
  throw new RdsError(
    ErrorCode.ConnectionLost,
    `running ${run.name} on ${run.host}: the connection to the target dropped while the operation was running; it may or may not have completed (the session has been reopened: read the state again before retrying)`,
    { host: run.host, operation: run.name, durationMs: first.durationMs, stderr: first.stderr || undefined },
  );
}

/** Startup failures are RDS_HOST_UNREACHABLE unless the init reported something more specific (access denied). */
function startupError(spec: TargetSpec, err: unknown, session: Session, diedOnItsOwn: boolean): RdsError {
  const stderr = session.recentStderr() || undefined;
  if (diedOnItsOwn) {
    return hostUnreachable(spec, `pwsh exited while starting (${session.exitDescription()})`, { stderr, cause: err });
  }
  if (isRdsError(err)) {
    if (err.code === ErrorCode.Timeout) {
      return hostUnreachable(spec, `pwsh did not start within ${poolOptions().startupTimeoutMs} ms`, { stderr, cause: err });
    }
    const generic: string[] = [ErrorCode.ScriptError, ErrorCode.InvalidResult, ErrorCode.HostUnreachable];
    if (!generic.includes(err.code)) return err;
    const cause = err.message.replace(/^[^:]*: /, "");
    return hostUnreachable(spec, cause, { stderr: err.stderr ?? stderr, cause: err });
  }
  return hostUnreachable(spec, (err as Error)?.message ?? String(err), { stderr, cause: err });
}

// ---------------------------------------------------------------------------------------------
// Shutdown

/** Closes every session (gracefully, then by force) and rejects queued operations. For tests and shutdown. */
export async function closeAll(): Promise<void> {
  poolGeneration++;
  wakeSlotWaiters();
  const closing: Promise<void>[] = [];
  const handled = new Set<Session>();
  for (const target of targets.values()) {
    cancelIdleClose(target);
    for (const job of target.queue.splice(0)) {
      job.reject(
        new RdsError(ErrorCode.HostUnreachable, `running an operation on ${target.spec.host}: the session pool was closed`, {
          host: target.spec.host,
        }),
      );
    }
    const session = target.session;
    target.session = undefined;
    if (session !== undefined) {
      handled.add(session);
      closing.push((target.running ? session.kill() : session.close()).finally(() => sessions.delete(session)));
    }
  }
  for (const group of groups.values()) {
    for (const worker of group.workers) {
      cancelWorkerIdleClose(group, worker);
      handled.add(worker);
      closing.push((worker.busy ? worker.kill() : worker.close()).finally(() => sessions.delete(worker)));
    }
    group.workers = [];
    wakeGroup(group);
  }
  // Sessions still starting, or detached and still closing.
  for (const session of sessions) {
    if (!handled.has(session)) closing.push(session.kill().finally(() => sessions.delete(session)));
  }
  await Promise.all(closing);
  for (const [key, target] of targets) {
    if (!target.running && target.queue.length === 0) targets.delete(key);
  }
  for (const [key, group] of groups) {
    if (group.starting === 0 && group.waiters.length === 0) groups.delete(key);
  }
  // Nothing is in flight any more: drop the private envelope directory (recreated on next use).
  if (targets.size === 0) removeEnvelopeDir();
}

let handlersInstalled = false;

function killAllNow(): void {
  for (const session of sessions) session.killNow();
}

function onExit(): void {
  killAllNow();
  removeEnvelopeDir();
}

function onBeforeExit(): void {
  if ([...sessions].some((s) => !s.exited)) void closeAll();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  removeEnvelopeDir();
  // Keep Node's default behaviour (exit on the signal) when nobody else handles it.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", onExit);
  process.on("beforeExit", onBeforeExit);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
}
