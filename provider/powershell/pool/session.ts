/**
 * One pwsh process (a Session): send a command and get what it printed, run an operation script
 * through its envelope file, close gracefully or kill. A session knows nothing of targets, queues or
 * the cap: it reports what happens to it through the hooks the pool hands it (telemetry, exit).
 */
import type { ChildProcess } from "child_process";
import { ErrorCode, RdsError } from "../../errors";
import { operationCommand, removeEnvelopeFile, writeEnvelopeFile } from "../envelope";
import { CallContext, ResultDocument, parseResultDocument, stripAnsi } from "../result";
import { childPids, delay, setKeepsNodeAlive, signalQuietly } from "./processes";
import { progressText, type Shell } from "./shell";
import { crashKind, startupCrashAdvice, suffix } from "./startupCrash";
import type { PoolTelemetry } from "./telemetry";

export interface ScriptRun {
  name: string;
  script: string;
  args: Record<string, unknown>;
  host: string;
  timeoutMs: number;
  /** Receives the text of each progress line the script streams (Write-RdsProgress) while it runs. */
  onProgress?: (text: string) => void;
}

export interface ScriptOutcome {
  document: ResultDocument;
  durationMs: number;
  stderr: string;
}

/**
 * How a session whose pwsh is the target's own (the ssh exec channel, remoteShell.ts) runs an
 * operation script: the script's folder is shipped and the envelope travels as a data line, instead
 * of a local path and an envelope file.
 */
export interface RemoteScriptChannel {
  runScript(session: Session, run: ScriptRun): Promise<ScriptOutcome>;
  /** The run in flight when this session died (its answer never came), if any. */
  readonly pendingRunId: string | undefined;
  /** On a new session: did that run start on the target? */
  runStarted(session: Session, runId: string, timeoutMs: number, ctx: CallContext): Promise<boolean>;
}

/** What a session reports to its pool. */
export interface SessionHooks {
  readonly telemetry: PoolTelemetry;
  /** The process exited, whatever the cause: a place under the cap may be free. */
  exited(session: Session): void;
}

const CLOSE_GRACE_MS = 3000;

type SendOutcome = { kind: "done"; stdout: string; stderr: string } | { kind: "exited" } | { kind: "timeout" };

export class Session {
  private readonly pwsh: Shell;
  private readonly child: ChildProcess;
  readonly pid: number | undefined;
  /**
   * The local pwsh that runs the scripts (Write-RdsSessionInfo): the launcher's child behind the
   * dotnet tool. Undefined when the scripts run on the target's own PowerShell (`remote`).
   */
  pwshPid: number | undefined;
  /** Set when this session's process is a channel to the target's own PowerShell (the ssh exec channel). */
  remote: RemoteScriptChannel | undefined;
  exited = false;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  /** Whether a command has ever come back: a crash before that is a crash at start (startupCrash.ts). */
  answered = false;
  readonly whenExited: Promise<void>;
  busy = false;
  closing = false;
  lastUsed = Date.now();

  constructor(
    readonly key: string,
    shell: Shell,
    private readonly hooks: SessionHooks,
  ) {
    this.pwsh = shell;
    this.child = this.pwsh.child;
    this.pid = this.child.pid;
    this.child.stdin?.on("error", () => undefined);
    this.whenExited = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exited) return;
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = signal;
        hooks.telemetry.event({ type: "exit", key: this.key, pid: this.pid });
        resolve();
        hooks.exited(this);
      };
      this.child.once("exit", done);
      this.child.once("error", () => {
        if (this.child.pid === undefined) done(null, null);
      });
    });
  }

  /** Keeps Node alive while this session works. */
  ref(): void {
    setKeepsNodeAlive(this.child, true);
  }

  /** Lets Node exit while this session idles. */
  unref(): void {
    setKeepsNodeAlive(this.child, false);
  }

  /** Recent stderr of the process, the 16-character delimiter lines of the framing removed. */
  recentStderr(): string {
    return stripAnsi(this.pwsh.stderrTail)
      .split(/\r?\n/)
      .filter((line) => line.trim().length > 0 && !/^[0-9A-Za-z]{16}$/.test(line.trim()) && progressText(line) === undefined)
      .join("\n");
  }

  /** recentStderr once the process's output has been read to its end (at most `graceMs` after its exit). */
  async finalStderr(graceMs = 1000): Promise<string> {
    if (this.pwsh.outputClosed !== undefined) await Promise.race([this.pwsh.outputClosed, delay(graceMs)]);
    return this.recentStderr();
  }

  exitDescription(): string {
    if (this.exitSignal) return `signal ${this.exitSignal}`;
    return `exit code ${this.exitCode ?? "unknown"}`;
  }

  /** For a crash before any answer (a crash at start): its known cause and fix (startupCrash.ts). */
  startupCrash(): string | undefined {
    const crash = this.answered ? undefined : crashKind(this.exitCode, this.exitSignal);
    return crash === undefined ? undefined : startupCrashAdvice(crash);
  }

  /**
   * Sends one command and returns what it printed. Rejects with RDS_TIMEOUT (after killing this
   * pwsh) or RDS_SCRIPT_ERROR when pwsh dies during the command. `onProgress`: each progress line
   * the command prints, as it arrives.
   */
  async send(
    command: string,
    timeoutMs: number,
    ctx: CallContext,
    onProgress?: (text: string) => void,
    data?: readonly string[],
  ): Promise<{ stdout: string; stderr: string; durationMs: number }> {
    const started = Date.now();
    if (this.exited) {
      throw new RdsError(
        ErrorCode.ScriptError,
        `running ${ctx.operation} on ${ctx.host}: pwsh had exited (${this.exitDescription()})${suffix(this.startupCrash())}`,
        {
          host: ctx.host,
          operation: ctx.operation,
          durationMs: 0,
          stderr: this.recentStderr(),
        },
      );
    }
    this.hooks.telemetry.command(command, { key: this.key, pid: this.pid });
    const invocation = this.pwsh.invoke(command, onProgress, data);
    const printed = invocation.output.then(({ stdout, stderr }): SendOutcome => ({ kind: "done", stdout, stderr }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<SendOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
    });
    const exited = this.whenExited.then((): SendOutcome => ({ kind: "exited" }));
    let outcome: SendOutcome;
    try {
      outcome = await Promise.race([printed, timedOut, exited]);
    } finally {
      if (timer) clearTimeout(timer);
      invocation.stop();
    }
    const durationMs = Date.now() - started;

    if (outcome.kind === "timeout") {
      this.hooks.telemetry.timeouts++;
      await this.kill();
      throw new RdsError(
        ErrorCode.Timeout,
        `running ${ctx.operation} on ${ctx.host}: timed out after ${timeoutMs} ms; its pwsh was stopped and will be replaced`,
        { host: ctx.host, operation: ctx.operation, durationMs, stderr: this.recentStderr() },
      );
    }
    if (outcome.kind !== "done" || this.exited) {
      await Promise.race([this.whenExited, delay(CLOSE_GRACE_MS)]);
      if (!this.closing) this.hooks.telemetry.died++;
      throw new RdsError(
        ErrorCode.ScriptError,
        `running ${ctx.operation} on ${ctx.host}: pwsh exited during the operation (${this.exitDescription()}); ${this.startupCrash() ?? "the next operation starts a fresh one"}`,
        { host: ctx.host, operation: ctx.operation, durationMs, stderr: this.recentStderr() },
      );
    }
    this.answered = true;
    return { stdout: outcome.stdout, stderr: stripAnsi(outcome.stderr).trim(), durationMs };
  }

  /** Sends a command that prints one result document (Bootstrap helpers) and parses it. */
  async sendForDocument(
    command: string,
    timeoutMs: number,
    ctx: CallContext,
    onProgress?: (text: string) => void,
    data?: readonly string[],
  ): Promise<ScriptOutcome> {
    const output = await this.send(command, timeoutMs, ctx, onProgress, data);
    const full: CallContext = { ...ctx, durationMs: output.durationMs, stderr: output.stderr || undefined };
    return { document: parseResultDocument(output.stdout, full), durationMs: output.durationMs, stderr: output.stderr };
  }

  /**
   * Runs an operation script: writes its envelope to a private file, sends the one
   * `Invoke-RdsOperation` command, parses the document. The envelope file is gone afterwards
   * whatever happened. `targetKey`: the target it runs for (a shared worker's own key is its group's).
   */
  async runScript(run: ScriptRun, targetKey: string = this.key): Promise<ScriptOutcome> {
    const outcome = this.remote !== undefined ? await this.remote.runScript(this, run) : await this.runLocalScript(run);
    const telemetry = this.hooks.telemetry;
    if (telemetry.hasPoolListeners) {
      telemetry.event({
        type: "script",
        key: targetKey,
        pid: this.pid,
        operation: run.name,
        durationMs: outcome.durationMs,
        scriptMs: outcome.document.scriptMs,
      });
    }
    return outcome;
  }

  private async runLocalScript(run: ScriptRun): Promise<ScriptOutcome> {
    const envelopePath = writeEnvelopeFile({ operation: run.name, host: run.host, args: run.args });
    try {
      return await this.sendForDocument(
        operationCommand(run.script, envelopePath),
        run.timeoutMs,
        { host: run.host, operation: run.name },
        run.onProgress,
      );
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
