/**
 * The result (JSON out): parse what Invoke-RdsOperation printed, validate it with zod, and turn an
 * error document into a typed RdsError. Pure functions: no process, no I/O.
 *
 * Messages read `running <operation> on <host>: <cause>`. They never contain the envelope: the only
 * text taken from the script side is what the script chose to put in its error message.
 */
import { z } from "zod";
import { ErrorCode, RdsError, wbemName } from "../errors";

/** The error document a script produces (Bootstrap.ps1 / New-RdsScriptError). */
export const scriptErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  method: z.string().optional(),
  className: z.string().optional(),
  returnValue: z.number().int().nonnegative().optional(),
  hresult: z.number().int().nonnegative().optional(),
  exceptionType: z.string().optional(),
  position: z.string().optional(),
});
export type ScriptErrorDocument = z.infer<typeof scriptErrorSchema>;

/**
 * The outer document: `{ok:true, result}` or `{ok:false, error}`, each with `scriptMs` (the script's
 * own run time in pwsh, measured by Bootstrap.ps1; absent from older bootstraps).
 */
export const resultDocumentSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), result: z.unknown(), scriptMs: z.number().nonnegative().optional() }),
  z.object({ ok: z.literal(false), error: scriptErrorSchema, scriptMs: z.number().nonnegative().optional() }),
]);
export type ResultDocument = ({ ok: true; result: unknown } | { ok: false; error: ScriptErrorDocument }) & { scriptMs?: number };

/** What an error message needs to name. */
export interface CallContext {
  host: string;
  operation: string;
  durationMs?: number;
  stderr?: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;

/** Removes terminal escape sequences (the console host's keypad-mode toggles, colours). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** Lines of output, escape sequences removed, blank lines dropped. */
function outputLines(stdout: string): string[] {
  return stripAnsi(stdout)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/**
 * The result document in pwsh's stdout: its last non-blank line (Bootstrap prints it last, on a
 * line of its own; anything before it is host noise and is ignored). Throws RDS_INVALID_RESULT when
 * there is no such line or it is not a valid document.
 */
export function parseResultDocument(stdout: string, ctx: CallContext): ResultDocument {
  const lines = outputLines(stdout);
  const last = lines[lines.length - 1];
  if (last === undefined) {
    throw invalidResult(ctx, "the script printed no result document");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(last);
  } catch {
    throw invalidResult(ctx, `the last line pwsh printed is not JSON (${lines.length} line(s) of output)`);
  }
  if (typeof parsed === "object" && parsed !== null && (parsed as { ok?: unknown }).ok === true && !("result" in parsed)) {
    throw invalidResult(ctx, "the result document has no `result`");
  }
  const checked = resultDocumentSchema.safeParse(parsed);
  if (!checked.success) {
    throw invalidResult(ctx, `the result document is malformed: ${formatIssues(checked.error.issues, "document")}`);
  }
  return checked.data as ResultDocument;
}

/** Validates the `result` with the operation's schema; RDS_INVALID_RESULT names the failing fields. */
export function validateResult<T>(schema: z.ZodType<T>, value: unknown, ctx: CallContext): T {
  const checked = schema.safeParse(value);
  if (checked.success) return checked.data;
  throw invalidResult(ctx, `the result does not match the expected shape: ${formatIssues(checked.error.issues)}`);
}

/** `result.activationStatus: expected number, received string; ...` (first five issues). No values. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], root = "result"): string {
  const shown = issues.slice(0, 5).map((issue) => {
    const where = [root, ...issue.path.map((part) => (typeof part === "number" ? `[${part}]` : String(part)))]
      .join(".")
      .replace(/\.\[/g, "[");
    return `${where}: ${issue.message}`;
  });
  const more = issues.length > 5 ? `; and ${issues.length - 5} more` : "";
  return shown.join("; ") + more;
}

function invalidResult(ctx: CallContext, cause: string): RdsError {
  return new RdsError(ErrorCode.InvalidResult, `running ${ctx.operation} on ${ctx.host}: ${cause}`, {
    host: ctx.host,
    operation: ctx.operation,
    durationMs: ctx.durationMs,
    stderr: ctx.stderr,
  });
}

/** True for an unsigned code in the WBEM / FACILITY_ITF range 0x8004xxxx. */
export function isWbemCode(code: number): boolean {
  return code >>> 16 === 0x8004;
}

/** The specific code for a WBEM return value: access denied and invalid class have their own. */
export function codeForWbem(returnValue: number): ErrorCode {
  switch (returnValue >>> 0) {
    case 0x80041003:
      return ErrorCode.AccessDenied;
    case 0x80041010:
      return ErrorCode.ClassNotReady;
    default:
      return ErrorCode.Wmi;
  }
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/** `NOT_ACTIVATED` or `RDS_NOT_ACTIVATED` -> RDS_NOT_ACTIVATED, when it is one of ours. */
function providerCode(scriptCode: string): ErrorCode | undefined {
  if (KNOWN_CODES.has(scriptCode)) return scriptCode as ErrorCode;
  const prefixed = `RDS_${scriptCode}`;
  if (KNOWN_CODES.has(prefixed)) return prefixed as ErrorCode;
  return undefined;
}

function hex(code: number): string {
  return `0x${(code >>> 0).toString(16).toUpperCase().padStart(8, "0")}`;
}

/** "WBEM_E_INVALID_PARAMETER (0x80041008)", or just the hex when the code has no known name. */
function describeWbem(code: number): string {
  const name = wbemName(code);
  return name.startsWith("0x") ? name : `${name} (${hex(code)})`;
}

function withPosition(message: string, doc: ScriptErrorDocument): string {
  return doc.position ? `${message} (at ${doc.position})` : message;
}

/** The typed error for an `{ok:false}` document. */
export function errorFromDocument(doc: ScriptErrorDocument, ctx: CallContext): RdsError {
  const base = {
    host: ctx.host,
    operation: ctx.operation,
    durationMs: ctx.durationMs,
    stderr: ctx.stderr,
    scriptCode: doc.code,
    method: doc.method,
    className: doc.className,
  };
  const prefix = `running ${ctx.operation} on ${ctx.host}`;

  // A WMI failure, reported as a return value or thrown as an exception carrying a WBEM HRESULT.
  const wmiCode =
    doc.code === "WMI_ERROR" && doc.returnValue !== undefined
      ? doc.returnValue
      : doc.hresult !== undefined && isWbemCode(doc.hresult)
        ? doc.hresult
        : undefined;
  if (wmiCode !== undefined) {
    const unsigned = wmiCode >>> 0;
    const what = doc.method ? `${doc.className ? `${doc.className}.` : ""}${doc.method}` : "a WMI call";
    const verb = doc.code === "WMI_ERROR" ? "returned" : "failed with";
    const detail = doc.code === "WMI_ERROR" ? "" : `: ${doc.message}`;
    return new RdsError(codeForWbem(unsigned), withPosition(`${prefix}: ${what} ${verb} ${describeWbem(unsigned)}${detail}`, doc), {
      ...base,
      returnValue: unsigned,
      wmiName: wbemName(unsigned),
    });
  }

  if (doc.code === "RESULT_COUNT" || doc.code === "STRAY_OUTPUT") {
    return new RdsError(ErrorCode.InvalidResult, `${prefix}: ${doc.message}`, base);
  }

  const mapped = doc.code === "SCRIPT_EXCEPTION" || doc.code === "WMI_ERROR" ? undefined : providerCode(doc.code);
  if (mapped !== undefined) {
    return new RdsError(mapped, `${prefix}: ${doc.message}`, base);
  }
  const label = doc.code === "SCRIPT_EXCEPTION" ? "" : `${doc.code}: `;
  const hresult = doc.hresult !== undefined ? ` [HRESULT ${hex(doc.hresult)}]` : "";
  return new RdsError(ErrorCode.ScriptError, withPosition(`${prefix}: ${label}${doc.message}${hresult}`, doc), base);
}
