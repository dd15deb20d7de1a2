/**
 * Binding a pwsh to its target: the transport's init operation. For remote transports
 * (`transport.connect`) that is a connect step with bounded retries for transient failures, a log
 * line per attempt, typed errors (RDS_AUTH_REFUSED, RDS_HOST_KEY_UNKNOWN, ...), and a reconnect when
 * the remote invoker reports its session lost.
 */
import { z } from "zod";
import { ErrorCode, RdsError, isRdsError } from "../../errors";
import { emitConnectLog } from "../connectLog";
import { errorFromDocument } from "../result";
import type { InitOperation } from "../transport";
import { TRANSIENT_CONNECT_CODES, connectBackoffMs } from "../transports/remote";
import { delay } from "./processes";
import type { ScriptOutcome, ScriptRun, Session } from "./session";
import type { TargetSpec } from "./target";
import type { PoolTelemetry } from "./telemetry";

/** `operation` of the errors the connect step raises. */
export const CONNECT_OPERATION = "session.connect";

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

export function hostUnreachable(spec: TargetSpec, cause: string, extra: { stderr?: string; cause?: unknown } = {}): RdsError {
  return new RdsError(ErrorCode.HostUnreachable, `starting pwsh for ${spec.host}: ${cause}`, {
    host: spec.host,
    operation: "session.start",
    ...extra,
  });
}

/**
 * Runs the transport's init operation on a fresh (or disconnected) pwsh, within `deadline`.
 * Connect counts and failures go to `telemetry`, per target key.
 */
export async function bindTarget(
  session: Session,
  spec: TargetSpec,
  phase: "connect" | "reconnect",
  deadline: number,
  telemetry: PoolTelemetry,
): Promise<ConnectInfo | undefined> {
  const declared = spec.transport.initOperation(spec.connection);
  if (declared === undefined) return undefined;
  // The private folder of the connect (key material, askpass): made for all its attempts and removed
  // as soon as it ends, whatever happened (exit and signals: the folder's own module).
  const folder = declared.privateFolder?.create();
  const init: InitOperation = folder === undefined ? declared : { ...declared, args: { ...declared.args, workDir: folder } };
  try {
    return await runInit(session, spec, init, phase, deadline, telemetry);
  } finally {
    if (folder !== undefined) declared.privateFolder!.remove(folder);
  }
}

async function runInit(
  session: Session,
  spec: TargetSpec,
  init: InitOperation,
  phase: "connect" | "reconnect",
  deadline: number,
  telemetry: PoolTelemetry,
): Promise<ConnectInfo | undefined> {
  const remaining = () => Math.max(deadline - Date.now(), 1);
  const policy = spec.transport.connect;
  if (policy === undefined) {
    const outcome = await session.runScript({ ...init, host: spec.host, timeoutMs: remaining() });
    if (!outcome.document.ok) {
      throw errorFromDocument(outcome.document.error, { host: spec.host, operation: init.name, durationMs: outcome.durationMs });
    }
    return undefined;
  }

  return withConnectAttempts(spec, phase, deadline, telemetry, async (): Promise<AttemptOutcome<ConnectInfo>> => {
    try {
      const outcome = await session.runScript({ ...init, host: spec.host, timeoutMs: remaining() });
      if (outcome.document.ok) {
        const info = connectInfoSchema.safeParse(outcome.document.result);
        return { kind: "connected", value: info.success ? info.data : {} };
      }
      const raw = errorFromDocument(outcome.document.error, {
        host: spec.host,
        operation: CONNECT_OPERATION,
        durationMs: outcome.durationMs,
      });
      return { kind: "failed", failure: policy.classify(raw, outcome.stderr, spec.connection) };
    } catch (err) {
      // The pwsh died or timed out while connecting: not worth another attempt on this pwsh.
      return { kind: "died", failure: isRdsError(err) ? err : hostUnreachable(spec, String(err)) };
    }
  });
}

/** What one connect attempt came to. */
export type AttemptOutcome<T> =
  | { kind: "connected"; value: T }
  /** Refused, typed by the transport's `classify`: tried again when transient. */
  | { kind: "failed"; failure: RdsError }
  /** The process died or timed out while connecting: no further attempt. */
  | { kind: "died"; failure: RdsError };

/**
 * Runs `attempt` until it connects, or fails in a way that is not transient, or the attempts
 * (`transport.connect.attempts`) or the time before `deadline` run out: a log line per attempt and
 * per outcome (connectLog.ts), the backoff between attempts, the pool's connect counters. Used by the
 * connect step of a local pwsh (runInit) and by the exec channel's session opening (remoteShell.ts).
 */
export async function withConnectAttempts<T>(
  spec: TargetSpec,
  phase: "connect" | "reconnect",
  deadline: number,
  telemetry: PoolTelemetry,
  attempt: () => Promise<AttemptOutcome<T>>,
): Promise<T> {
  const policy = spec.transport.connect!;
  const attempts = Math.max(1, policy.attempts(spec.connection));
  const target = policy.describe(spec.connection);
  const base = { phase, key: spec.key, host: spec.host, target, attempts };
  for (let n = 1; ; n++) {
    emitConnectLog({
      ...base,
      event: "attempt",
      attempt: n,
      message: `${phase === "reconnect" ? "reconnecting" : "connecting"} to ${spec.host} over ${target}: attempt ${n} of ${attempts}`,
    });
    const started = Date.now();
    const outcome = await attempt();
    if (outcome.kind === "connected") {
      telemetry.connected(spec.key);
      emitConnectLog({
        ...base,
        event: "connected",
        attempt: n,
        durationMs: Date.now() - started,
        message: `connected to ${spec.host} over ${target} in ${Date.now() - started} ms (attempt ${n} of ${attempts})`,
      });
      return outcome.value;
    }
    telemetry.connectFailed(spec.key);
    const failure = outcome.failure;
    if (outcome.kind === "died") {
      emitConnectLog({
        ...base,
        event: "failed",
        attempt: n,
        code: failure.code,
        durationMs: Date.now() - started,
        message: `connecting to ${spec.host} over ${target} failed on attempt ${n} of ${attempts}: ${failure.code}`,
      });
      throw failure;
    }
    failure.operation = CONNECT_OPERATION;
    const delayMs = connectBackoffMs(n);
    const transient = TRANSIENT_CONNECT_CODES.has(failure.code);
    if (!transient || n >= attempts || deadline - Date.now() <= delayMs) {
      const why = !transient ? "not retried" : n >= attempts ? "no attempts left" : "no time left";
      emitConnectLog({
        ...base,
        event: "failed",
        attempt: n,
        code: failure.code,
        durationMs: Date.now() - started,
        message: `connecting to ${spec.host} over ${target} failed on attempt ${n} of ${attempts} (${failure.code}, ${why})`,
      });
      throw failure;
    }
    emitConnectLog({
      ...base,
      event: "retry",
      attempt: n,
      code: failure.code,
      delayMs,
      durationMs: Date.now() - started,
      message: `connecting to ${spec.host} over ${target} failed on attempt ${n} of ${attempts} (${failure.code}); retrying in ${delayMs / 1000} s`,
    });
    await delay(delayMs);
  }
}

/**
 * Replaces a target's lost session by a new one (the exec channel), opened with the asking job's
 * connection: the pool's part of a reconnect.
 */
export type ReopenSession = (spec: TargetSpec) => Promise<Session>;

/** Error codes the remote invoker (RdsRemoting.psm1, pool/remoteShell.ts) reports instead of running an operation. */
const SESSION_LOST = "SESSION_LOST";
const CONNECTION_LOST_PENDING = "CONNECTION_LOST_PENDING";

/**
 * Runs an operation; when the invoker of a remote transport reports its session lost, reconnects
 * (the connect step again, with its retries, within `startupTimeoutMs`) and runs the operation once
 * more, but only when it provably never started on the target: it was never sent (SESSION_LOST), or
 * the reconnect found no run marker for it. Otherwise the operation fails with RDS_CONNECTION_LOST
 * (it may have run).
 */
export async function runWithReconnect(
  session: Session,
  spec: TargetSpec,
  run: ScriptRun,
  startupTimeoutMs: number,
  telemetry: PoolTelemetry,
  reopen: ReopenSession,
): Promise<ScriptOutcome> {
  const first = await session.runScript(run, spec.key);
  if (first.document.ok || spec.transport.connect === undefined) return first;
  const code = first.document.error.code;
  if (code !== SESSION_LOST && code !== CONNECTION_LOST_PENDING) return first;
  let again: Session;
  let pendingRunStarted: boolean | null | undefined;
  if (session.remote !== undefined) {
    // The exec channel: the session was the connection; a new one replaces it (remoteShell.ts).
    const pending = session.remote.pendingRunId;
    again = await reopen(spec);
    if (code === CONNECTION_LOST_PENDING && pending !== undefined && again.remote !== undefined) {
      pendingRunStarted = await again.remote.runStarted(again, pending, startupTimeoutMs, { host: run.host, operation: CONNECT_OPERATION });
    }
  } else {
    // The subsystem channel and WinRM: the local pwsh reconnects its PSSession.
    again = session;
    pendingRunStarted = (await bindTarget(session, spec, "reconnect", Date.now() + startupTimeoutMs, telemetry))?.pendingRunStarted;
  }
  if (code === SESSION_LOST || pendingRunStarted === false) return again.runScript(run, spec.key);
  throw new RdsError(
    ErrorCode.ConnectionLost,
    `running ${run.name} on ${run.host}: the connection to the target dropped while the operation was running; it may or may not have completed (the session has been reopened: read the state again before retrying)`,
    { host: run.host, operation: run.name, durationMs: first.durationMs, stderr: first.stderr || undefined },
  );
}
