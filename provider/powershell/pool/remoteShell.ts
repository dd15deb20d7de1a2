/**
 * Sessions whose pwsh is the target's own (the ssh exec channel): the process started here is the
 * ssh client, its remote command the target's PowerShell reading one framed command per line
 * (shell.ts ChildProcessShell), so a session costs one login and one PowerShell there, and nothing
 * here but the client. Measured against the subsystem channel (a local pwsh, PowerShell remoting
 * over ssh, a remote pwsh): README, "Over ssh".
 *
 * Opening (`startRemoteShellSession`), with the connect step's retries, log lines and typed errors
 * (connect.ts, transports/remote.ts): start the client with the login's private files in a connect
 * folder removed once the session answers; send the far side's functions (RdsRemoting/FarSide.ps1 +
 * ExecSide.ps1) as a data line and prepare the per-user folders; ship Bootstrap.ps1 + RdsCommon.psm1
 * (and the emulator in a lab) unless the target already holds them by hash; load them.
 *
 * Each operation (`ExecChannel.runScript`): the script's folder is shipped once per session (by
 * content hash), then `Invoke-RdsExecOperation` runs it with the envelope as the data line after the
 * command (never command text, never a file), behind a run marker. A session found dead before
 * anything was sent answers SESSION_LOST; one that dies while the operation runs answers
 * CONNECTION_LOST_PENDING. The pool then opens a new session (`reconnect`) and runs the operation
 * again only if the marker shows it never started (connect.ts runWithReconnect).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ErrorCode, RdsError, isRdsError } from "../../errors";
import { providerFile } from "../../paths";
import { encodeEnvelope, quotePowerShellLiteral } from "../envelope";
import { type CallContext, errorFromDocument } from "../result";
import type { RemoteShellSpec } from "../transport";
import { createConnectDir, removeConnectDir } from "../transports/connectDir";
import { scriptBundle } from "../transports/scriptBundle";
import { type AttemptOutcome, CONNECT_OPERATION, hostUnreachable, withConnectAttempts } from "./connect";
import type { RemoteScriptChannel, ScriptOutcome, ScriptRun, Session } from "./session";
import { ChildProcessShell } from "./shell";
import type { SessionStarter } from "./start";
import type { TargetSpec } from "./target";

/** What opening a session needs from the pool: its starter without `spawn` (the process here is the ssh client, adopted). */
export type RemoteShellStarter = Omit<SessionStarter, "spawn">;

const prepareSchema = z
  .object({ pid: z.number(), psVersion: z.string(), edition: z.string().optional(), os: z.string().optional() })
  .passthrough();
const missingSchema = z.object({ missing: z.array(z.string()).nullable().optional() });
const loadedSchema = z.object({ pid: z.number(), psVersion: z.string() });

let farSide: string | undefined;

/** The far side's functions: FarSide.ps1's script blocks and ExecSide.ps1, as one data line (read once per process). */
function farSideLine(): string {
  if (farSide === undefined) {
    const dir = providerFile("powershell/transports/RdsRemoting");
    const text = ["FarSide.ps1", "ExecSide.ps1"].map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("\n");
    farSide = Buffer.from(text, "utf8").toString("base64");
  }
  return farSide;
}

/** Dot-sources the data line that follows at global scope: the far side's functions (farSideLine). */
const LOAD_FAR_SIDE =
  ". ([scriptblock]::Create([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String([Console]::In.ReadLine()))))";

/**
 * Refuses a PowerShell older than Windows PowerShell 5.1, and 6.x / 7.0 / 7.1 (out of support): the
 * operation scripts need 5.1 or 7.2+ (as RdsRemoting.psm1 Assert-RdsRemoteVersion for the subsystem
 * channel).
 */
export function remoteVersionProblem(psVersion: string, edition: string | undefined): string | undefined {
  const match = /^(\d+)\.(\d+)/.exec(psVersion);
  if (match === null)
    return `the target's PowerShell did not report a version ('${psVersion}'): Windows PowerShell 5.1 or PowerShell 7.2+ is needed`;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const supported = (major === 5 && minor >= 1) || major > 7 || (major === 7 && minor >= 2);
  if (supported) return undefined;
  const name = edition === "Core" ? "PowerShell" : "Windows PowerShell";
  return `the target runs ${name} ${psVersion}: the operation scripts need Windows PowerShell 5.1 or PowerShell 7.2 or later (install WMF 5.1 or pwsh 7, and set shell to it)`;
}

/** The exec channel of one session: what it has shipped, and the run markers it leaves. */
export class ExecChannel implements RemoteScriptChannel {
  /** Hashes of the script folders the target holds (checked or shipped in this session). */
  private readonly shipped = new Set<string>();
  /** The last run whose answer came back: the next run removes its marker. */
  private answeredRunId = "";
  /** The run in flight when the session died, for the next session's marker check. */
  pendingRunId: string | undefined;

  constructor(private readonly remote: RemoteShellSpec) {}

  /** Loads the far side and the operation runtime into a fresh session (refusing a PowerShell too old). */
  async boot(session: Session, deadline: number, ctx: CallContext): Promise<void> {
    const remaining = () => Math.max(deadline - Date.now(), 1);
    const info = await this.ask(session, `${LOAD_FAR_SIDE}; Initialize-RdsExecSide`, [farSideLine()], remaining(), ctx, prepareSchema);
    const problem = remoteVersionProblem(info.psVersion, info.edition);
    if (problem !== undefined)
      throw new RdsError(ErrorCode.TransportUnavailable, `connecting to ${ctx.host}: ${problem}`, {
        host: ctx.host,
        operation: CONNECT_OPERATION,
      });

    const runtime = scriptBundle(providerFile("powershell"));
    const emulator = this.remote.labStateDir !== undefined ? scriptBundle(providerFile("emulator"), true) : undefined;
    const bundles = [runtime, ...(emulator ? [emulator] : [])];
    const { missing } = await this.ask(
      session,
      "Find-RdsExecMissingBundle",
      [JSON.stringify(bundles.map((b) => b.hash))],
      remaining(),
      ctx,
      missingSchema,
    );
    for (const bundle of bundles) {
      if ((missing ?? []).includes(bundle.hash)) await this.install(session, bundle, remaining(), ctx);
      this.shipped.add(bundle.hash);
    }
    const emulatorArg = emulator ? ` -EmulatorHash '${emulator.hash}'` : "";
    await this.ask(
      session,
      `Import-RdsExecSide -BootstrapHash '${runtime.hash}'${emulatorArg}`,
      [JSON.stringify({ labStateDir: this.remote.labStateDir ?? "" })],
      remaining(),
      ctx,
      loadedSchema,
    );
  }

  async runScript(session: Session, run: ScriptRun): Promise<ScriptOutcome> {
    const ctx: CallContext = { host: run.host, operation: run.name };
    if (session.exited) return lost("SESSION_LOST", "the session to the target had ended; nothing was sent");
    const bundle = scriptBundle(path.dirname(run.script));
    try {
      if (!this.shipped.has(bundle.hash)) {
        await this.install(session, bundle, run.timeoutMs, ctx);
        this.shipped.add(bundle.hash);
      }
    } catch (err) {
      if (session.exited)
        return lost("SESSION_LOST", `the session to the target ended while the scripts were shipped; the operation did not start`);
      throw err;
    }
    const runId = crypto.randomBytes(16).toString("hex");
    const envelope = encodeEnvelope({ operation: run.name, host: run.host, args: run.args });
    const command =
      `Invoke-RdsExecOperation -Hash '${bundle.hash}' -Leaf ${quotePowerShellLiteral(path.basename(run.script))}` +
      ` -RunId '${runId}' -AnsweredRunId '${this.answeredRunId}'`;
    try {
      const outcome = await session.sendForDocument(command, run.timeoutMs, ctx, run.onProgress, [envelope]);
      this.answeredRunId = runId;
      return outcome;
    } catch (err) {
      if (!(session.exited && isRdsError(err) && err.code === ErrorCode.ScriptError)) throw err;
      this.pendingRunId = runId;
      return lost("CONNECTION_LOST_PENDING", `the connection dropped during the operation (${session.exitDescription()})`, err.durationMs);
    }
  }

  /** Did the run `runId` (cut off with an earlier session) start on the target? Its marker is removed once read. */
  async runStarted(session: Session, runId: string, timeoutMs: number, ctx: CallContext): Promise<boolean> {
    return this.ask(session, `Test-RdsExecRunStarted -RunId '${runId}'`, [], timeoutMs, ctx, z.boolean());
  }

  private async install(session: Session, bundle: { hash: string; files: Record<string, string> }, timeoutMs: number, ctx: CallContext) {
    await this.ask(session, `Install-RdsExecBundle -Hash '${bundle.hash}'`, [JSON.stringify(bundle.files)], timeoutMs, ctx, z.null());
  }

  private async ask<T>(
    session: Session,
    command: string,
    data: string[],
    timeoutMs: number,
    ctx: CallContext,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const outcome = await session.sendForDocument(command, timeoutMs, ctx, undefined, data);
    if (!outcome.document.ok) throw errorFromDocument(outcome.document.error, { ...ctx, durationMs: outcome.durationMs });
    const parsed = schema.safeParse(outcome.document.result);
    if (!parsed.success) {
      throw new RdsError(
        ErrorCode.InvalidResult,
        `running ${ctx.operation} on ${ctx.host}: the target answered ${command.split(" ")[0]} with an unexpected document`,
        {
          host: ctx.host,
          operation: ctx.operation,
        },
      );
    }
    return parsed.data;
  }
}

function lost(code: string, message: string, durationMs = 0): ScriptOutcome {
  return { document: { ok: false, error: { code, message } }, durationMs, stderr: "" };
}

/**
 * Opens a session on the target's own PowerShell, with the transport's connect policy: attempts for
 * transient failures with backoff, one log line per attempt, typed errors. `spawned` runs once the
 * first process exists (the caller releases its cap slot there).
 */
export async function startRemoteShellSession(
  starter: RemoteShellStarter,
  spec: TargetSpec,
  remote: RemoteShellSpec,
  phase: "connect" | "reconnect",
  spawned: () => void = () => undefined,
): Promise<Session> {
  const deadline = Date.now() + starter.startupTimeoutMs();
  const ctx: CallContext = { host: spec.host, operation: CONNECT_OPERATION };
  return withConnectAttempts(spec, phase, deadline, starter.telemetry, async (): Promise<AttemptOutcome<Session>> => {
    const folder = createConnectDir();
    let session: Session | undefined;
    try {
      const launch = remote.launch(folder);
      session = starter.adopt(spec.key, new ChildProcessShell(launch.file, launch.args, launch.env));
      spawned();
      session.ref();
      const channel = new ExecChannel(remote);
      await channel.boot(session, deadline, ctx);
      session.remote = channel;
      return { kind: "connected", value: session };
    } catch (err) {
      return { kind: "failed", failure: await failedAttempt(starter, spec, session, err) };
    } finally {
      removeConnectDir(folder);
    }
  });
}

/** Ends a failed attempt's process and says why it failed, typed from what ssh wrote. */
async function failedAttempt(starter: RemoteShellStarter, spec: TargetSpec, session: Session | undefined, err: unknown): Promise<RdsError> {
  if (session === undefined) return isRdsError(err) ? err : hostUnreachable(spec, (err as Error)?.message ?? String(err));
  const spawnFailed = session.pid === undefined;
  await session.kill();
  const stderr = await session.finalStderr();
  starter.discard(session);
  if (spawnFailed) {
    return new RdsError(
      ErrorCode.TransportUnavailable,
      `connecting to ${spec.host}: the ssh client (OpenSSH's ssh) was not found on this machine's PATH: install it`,
      {
        host: spec.host,
        operation: CONNECT_OPERATION,
      },
    );
  }
  const raw = isRdsError(err) ? err : hostUnreachable(spec, (err as Error)?.message ?? String(err));
  return spec.transport.connect!.classify(raw, stderr, spec.connection);
}
