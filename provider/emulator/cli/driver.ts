/**
 * The pwsh side of every command: one fresh pwsh per call running cli-driver.ps1 with the emulator
 * module, one request (base64 JSON) on stdin, one marked JSON line back on stdout.
 */
import { spawn } from "child_process";
import { providerFile } from "../../paths";
import { findPwsh as findRunnerPwsh, PWSH_INSTALL_HINT } from "../../powershell/executable";
import type { Context } from "./command";
import { CliError } from "./errors";

/** The runner's lookup (executable.ts: RDS_PWSH, PATH, ~/.dotnet/tools, the project-local .tools/pwsh). */
export function findPwsh(env: NodeJS.ProcessEnv = process.env): string {
  const found = findRunnerPwsh(env);
  if (found.found) return found.path;
  throw new CliError(`${found.reason}; ${PWSH_INSTALL_HINT}`);
}

export const MARKER = "@@rds-sim@@";

/**
 * A JSON view the emulator answers (a host, a fault list, the call log): the CLI prints it as it comes
 * and the emulator owns its shape, so it is not typed field by field here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: the one untyped document type of the CLI
export type EmulatorView = any;

export interface DriverError {
  message: string;
  type?: string;
  code?: string;
}

/** What answers one driver action: the pwsh driver below, or (in process) a stand-in a test sets. */
export type EmulatorCaller = (ctx: Context, action: string, args: Record<string, unknown>) => Promise<EmulatorView>;

let caller: EmulatorCaller = callDriverInPwsh;

/**
 * Replaces what answers driver actions (pass nothing to restore the pwsh driver). The seam lets the
 * CLI's own logic (parsing, validation, output) run in process without a pwsh per call.
 */
export function setEmulatorCaller(replacement?: EmulatorCaller): void {
  caller = replacement ?? callDriverInPwsh;
}

/** Runs one driver action (in a fresh pwsh unless replaced); resolves to its result, or throws CliError. */
export async function callEmulator<T = EmulatorView>(ctx: Context, action: string, args: Record<string, unknown>): Promise<T> {
  return (await caller(ctx, action, args)) as T;
}

/** Runs one driver action in a fresh pwsh; resolves to its result, or throws CliError. */
export async function callDriverInPwsh<T = EmulatorView>(ctx: Context, action: string, args: Record<string, unknown>): Promise<T> {
  const pwsh = findPwsh();
  const request = Buffer.from(JSON.stringify({ stateDir: ctx.stateDir, action, args }), "utf8").toString("base64");
  const child = spawn(
    pwsh,
    [
      "-NoLogo",
      "-NoProfile",
      "-NonInteractive",
      "-File",
      providerFile("emulator/cli-driver.ps1"),
      "-ModulePath",
      providerFile("emulator/RdsEmulator.psm1"),
    ],
    { stdio: ["pipe", "pipe", "pipe"], windowsHide: true },
  );
  // Ctrl-C / kill of the CLI ends its pwsh too (never leave one running).
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);

  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => stdout.push(d));
  child.stderr.on("data", (d: Buffer) => stderr.push(d));
  child.stdin.on("error", () => undefined); // pwsh died early; reported below
  child.stdin.end(request);

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  process.removeListener("SIGINT", onInt);
  process.removeListener("SIGTERM", onTerm);

  if (exit.error) {
    const e = exit.error as NodeJS.ErrnoException;
    if (e.code === "ENOENT") throw new CliError(`pwsh could not be started (${pwsh} not found); ${PWSH_INSTALL_HINT}`);
    throw new CliError(`pwsh could not be started (${pwsh}): ${e.message}`);
  }
  const out = Buffer.concat(stdout).toString("utf8");
  const line = out
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith(MARKER));
  if (line === undefined) {
    const err = Buffer.concat(stderr).toString("utf8").trim();
    const tail = err.split(/\r?\n/).slice(-5).join(" | ");
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    throw new CliError(`the emulator gave no answer (pwsh ${how})${tail ? `: ${tail}` : ""}`);
  }
  let doc: { ok: boolean; result?: T; error?: DriverError };
  try {
    doc = JSON.parse(line.slice(MARKER.length));
  } catch {
    throw new CliError("the emulator's answer was not valid JSON");
  }
  if (!doc.ok) throw new CliError(doc.error?.message ?? "the emulator reported an unknown error");
  return doc.result as T;
}
