/**
 * runOperation(): one PowerShell script + one JSON argument envelope -> one validated JSON result.
 *
 * The script runs on the target's warm pwsh (pool.ts), after every earlier operation on the same
 * target; a test may replace that step for the whole process (`setOperationRunner`, below). Its
 * arguments travel in an envelope file (envelope.ts); pwsh only ever receives
 * `Invoke-RdsOperation -ScriptPath '<path>' -EnvelopePath '<path>'`. The result document it prints
 * is validated with zod (result.ts); failures are RdsErrors with stable codes:
 *
 * | code                  | when                                                                   |
 * |-----------------------|------------------------------------------------------------------------|
 * | RDS_VALIDATION        | the connection or the operation spec is invalid (nothing ran)          |
 * | RDS_HOST_UNREACHABLE  | pwsh missing or would not start, or the target could not be bound      |
 * | RDS_TIMEOUT           | the operation ran past timeoutMs; its pwsh was killed and is replaced  |
 * | RDS_SCRIPT_ERROR      | the script threw, or pwsh died during the operation                    |
 * | RDS_INVALID_RESULT    | not exactly one result, stray pipeline output, or the zod schema failed|
 * | RDS_WMI_ERROR         | a WMI method returned / threw a WBEM code (`returnValue`, `wmiName`)   |
 * | RDS_ACCESS_DENIED     | ... the WBEM code was 0x80041003                                       |
 * | RDS_CLASS_NOT_READY   | ... the WBEM code was 0x80041010 (class not there: role missing)       |
 * | RDS_<other>           | the script threw New-RdsScriptError with that code (NOT_ACTIVATED, ...)|
 * | RDS_AUTH_REFUSED, ... | ssh / winrm could not connect (typed: CONNECTIONS.md, "Errors")       |
 * | RDS_CONNECTION_LOST   | the remote session dropped while the operation ran (it may have run)   |
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ErrorCode, RdsError } from "../errors";
import { encodeEnvelope } from "./envelope";
import { reconnectTarget, runOnTarget } from "./pool";
import { ResultDocument, errorFromDocument, parseResultDocument, validateResult } from "./result";
import { Connection, connectionSchema, transportFor } from "./transport";

/** Default per-operation timeout (ms). */
export const DEFAULT_TIMEOUT_MS = 120_000;

export interface OperationSpec<T> {
  /** "licenseServer.read": used in errors and logs. */
  name: string;
  /** Absolute path of the .ps1 (use providerFile() from provider/paths.ts). */
  script: string;
  /**
   * The operation's arguments: JSON-serializable; reach the script as `$in.args`. A function is
   * called when the script starts on the target's pwsh (after the operations queued before it), so a
   * batch of coalesced reads (coalesce.ts) can take every read that joined it until that moment.
   */
  args: Record<string, unknown> | (() => Record<string, unknown>);
  /** Validates the script's result. */
  result: z.ZodType<T>;
  /** Time the script may run once it has started (queueing and pwsh start excluded). Default 120 s. */
  timeoutMs?: number;
  /**
   * Receives the text of each progress record the script streams (`Write-RdsProgress`, RdsCommon.psm1)
   * while it runs, locally or on the far side of a remote session.
   */
  onProgress?: (text: string) => void;
}

function validationError(message: string, details: { host?: string; operation?: string } = {}): RdsError {
  return new RdsError(ErrorCode.Validation, message, details);
}

/** The connection, validated (RDS_VALIDATION names the failing fields, never their values). */
export function parseConnection(connection: unknown): Connection {
  const checked = connectionSchema.safeParse(connection);
  if (checked.success) return checked.data;
  const issues = checked.error.issues
    .slice(0, 5)
    .map((issue) => `${["connection", ...issue.path.map(String)].join(".")}: ${issue.message}`)
    .join("; ");
  throw validationError(`checking the connection: ${issues}`);
}

function checkSpec<T>(spec: OperationSpec<T>, host: string): void {
  const where = { host, operation: spec.name };
  if (typeof spec.name !== "string" || spec.name.length === 0)
    throw validationError(`running an operation on ${host}: the operation has no name`, where);
  if (typeof spec.script !== "string" || !path.isAbsolute(spec.script)) {
    throw validationError(`running ${spec.name} on ${host}: the script path must be absolute`, where);
  }
  if (!fs.existsSync(spec.script)) {
    throw new RdsError(ErrorCode.ScriptError, `running ${spec.name} on ${host}: the operation script ${spec.script} does not exist`, where);
  }
  if (typeof spec.args !== "function") checkArgs(spec.name, host, spec.args);
  if (spec.timeoutMs !== undefined && !(Number.isFinite(spec.timeoutMs) && spec.timeoutMs > 0)) {
    throw validationError(`running ${spec.name} on ${host}: timeoutMs must be a positive number`, where);
  }
}

function checkArgs(name: string, host: string, args: unknown): asserts args is Record<string, unknown> {
  const where = { host, operation: name };
  if (args === null || typeof args !== "object" || Array.isArray(args)) {
    throw validationError(`running ${name} on ${host}: args must be an object`, where);
  }
  try {
    encodeEnvelope({ operation: name, host, args: args as Record<string, unknown> });
  } catch (err) {
    throw validationError(`running ${name} on ${host}: ${(err as Error).message}`, where);
  }
}

/** One operation as the runner's core receives it: validated, with its timeout resolved. */
export interface OperationCall {
  name: string;
  /** Absolute path of the .ps1 (it exists). */
  script: string;
  /** The connection's host, for messages. */
  host: string;
  /**
   * The operation's arguments, checked (RDS_VALIDATION otherwise). Call it when the script starts:
   * a function `args` (a coalesced batch, coalesce.ts) takes its reads at that moment.
   */
  args(): Record<string, unknown>;
  /** The result schema (runOperation applies it to the document's `result`). */
  result: z.ZodType<unknown>;
  timeoutMs: number;
  /** Each progress record's text while the script runs (a core that runs no script may never call it). */
  onProgress?: (text: string) => void;
}

/** What the core hands back: the script's result document, as pwsh printed it, parsed. */
export interface OperationOutcome {
  document: ResultDocument;
  durationMs: number;
  stderr: string;
}

/** The step of runOperation that runs a script: by default on the target's warm pwsh (`poolRunner`). */
export type OperationRunner = (connection: Connection, call: OperationCall) => Promise<OperationOutcome>;

/**
 * What `reconnectSession` does for a core: the pool drops the target's warm session; a replaced core
 * (setOperationRunner) is told, or nothing happens when it keeps no sessions.
 */
export type SessionReconnector = (connection: Connection) => Promise<void>;

function targetSpec(connection: Connection) {
  const transport = transportFor(connection);
  return { key: transport.targetKey(connection), host: connection.host, connection, transport };
}

const poolReconnector: SessionReconnector = (connection) => reconnectTarget(targetSpec(connection));

/** The default core: the target's warm pwsh, through the pool (after the target's earlier operations). */
export const poolRunner: OperationRunner = (connection, call) => {
  const spec = targetSpec(connection);
  return runOnTarget(spec, (session) =>
    session.runScript({
      name: call.name,
      script: call.script,
      args: call.args(),
      host: call.host,
      timeoutMs: call.timeoutMs,
      onProgress: call.onProgress,
    }),
  );
};

let core: OperationRunner = poolRunner;
let reconnector: SessionReconnector = poolReconnector;

/**
 * Replaces the core for the rest of the process (until resetOperationRunner): e.g. a fake that
 * answers from recorded result documents, in process, without pwsh. Validation before the core and
 * the result schema after it still run, and the fake's document goes through the same JSON text
 * parse as pwsh's output, so a fake cannot return what a real script could not.
 */
export function setOperationRunner(runner: OperationRunner, reconnect?: SessionReconnector): void {
  reconnector = reconnect ?? (() => Promise.resolve());
  core = async (connection, call) => {
    const outcome = await runner(connection, call);
    const ctx = { host: call.host, operation: call.name, durationMs: outcome.durationMs };
    return { ...outcome, document: parseResultDocument(JSON.stringify(outcome.document) ?? "", ctx) };
  };
}

/** Puts the pool core back. */
export function resetOperationRunner(): void {
  core = poolRunner;
  reconnector = poolReconnector;
}

/**
 * Ends the warm session to the connection's target: its next operation opens a new one. For a host
 * that restarted (RdsSessionHostLicensing installRole): every session to it is gone, and the pool
 * must not hand out the dead one.
 */
export function reconnectSession(connection: Connection): Promise<void> {
  return reconnector(parseConnection(connection));
}

/**
 * Runs one operation script on the connection's target and returns its validated result.
 * Rejects with an RdsError (see the table above).
 */
export async function runOperation<T>(connection: Connection, op: OperationSpec<T>): Promise<T> {
  const conn = parseConnection(connection);
  checkSpec(op, conn.host);
  const given = op.args;
  const args =
    typeof given === "function"
      ? () => {
          const taken = given();
          checkArgs(op.name, conn.host, taken);
          return taken;
        }
      : () => given;
  const outcome = await core(conn, {
    name: op.name,
    script: op.script,
    host: conn.host,
    args,
    result: op.result,
    timeoutMs: op.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    onProgress: op.onProgress,
  });
  const ctx = { host: conn.host, operation: op.name, durationMs: outcome.durationMs, stderr: outcome.stderr || undefined };
  if (!outcome.document.ok) throw errorFromDocument(outcome.document.error, ctx);
  return validateResult(op.result, outcome.document.result, ctx);
}
