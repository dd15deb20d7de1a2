/**
 * The pwsh side of `rds-sim run`: one pwsh running cli/run-host.ps1, which loads the emulator, selects
 * the host, runs the user's script unchanged and answers one marked JSON line (the script's exit code,
 * output and errors, every host's licensing state before and after, the calls made). Unlike the other
 * commands' driver, the user's script is real script text by design; everything else (the host, the
 * state dir, the script's arguments) reaches pwsh as parameter values, never as script text.
 */
import { spawn } from "child_process";
import { providerFile } from "../../paths";
import { PWSH_INSTALL_HINT } from "../../powershell/executable";
import { findPwsh, MARKER } from "./driver";
import { CliError } from "./errors";

/** One line the script wrote, by stream (output, error, warning, verbose, debug, information). */
export interface ScriptRecord {
  stream: string;
  text: string;
}

/** The licensing state `rds-sim run` compares (run-host.ps1 Get-RunHostSummary); never the license server ID. */
export interface HostSummary {
  roleInstalled: boolean;
  serviceStatus: string | null;
  activated: boolean;
  activationMethod: string | null;
  reactivations: number;
  contact: Record<string, string | null>;
  packs: Array<{
    KeyPackId: number;
    TypeAndModel: string;
    ProductVersion: string;
    program: string;
    TotalLicenses: number;
    IssuedLicenses: number;
  }>;
  licensingType: number;
  effectiveLicensingType: number;
  licenseServers: string[];
  effectiveLicenseServers: string[];
  isConnectionBroker: boolean;
  deploymentMode: string;
  deploymentLicenseServers: string[];
  sessionHostRole: boolean;
  sessionHostRolePending: boolean;
  restarts: number;
}

export interface LoggedCall {
  host: string;
  seq: number;
  at: string;
  cmdlet: string;
  className: string | null;
  method: string | null;
  result: number;
  properties?: string[];
}

export interface RunResult {
  host: string;
  fresh: boolean;
  exitCode: number;
  terminated: boolean;
  errors: string[];
  output: ScriptRecord[];
  /** Every simulated host: its state before the script (null = created by it) and after. */
  hosts: Record<string, { before: HostSummary | null; after: HostSummary }>;
  calls: LoggedCall[];
}

export interface RunRequest {
  stateDir: string;
  host: string;
  scriptPath: string;
  fresh: boolean;
  args: string[];
}

/** Runs the script in a fresh pwsh; resolves to what run-host.ps1 answered, or throws CliError. */
export async function runScriptOnHost(req: RunRequest): Promise<RunResult> {
  const pwsh = findPwsh();
  const argv = [
    "-NoLogo",
    "-NoProfile",
    "-NonInteractive",
    "-File",
    providerFile("emulator/cli/run-host.ps1"),
    "-ModulePath",
    providerFile("emulator/RdsEmulator.psm1"),
    "-StateDir",
    req.stateDir,
    "-HostName",
    req.host,
    "-ScriptPath",
    req.scriptPath,
  ];
  if (req.fresh) argv.push("-Fresh");
  if (req.args.length > 0) argv.push("-ArgsBase64", Buffer.from(JSON.stringify(req.args), "utf8").toString("base64"));
  const child = spawn(pwsh, argv, { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
  // Ctrl-C / kill of the CLI ends its pwsh too (never leave one running).
  const onInt = () => child.kill("SIGINT");
  const onTerm = () => child.kill("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => stdout.push(d));
  child.stderr.on("data", (d: Buffer) => stderr.push(d));
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  process.removeListener("SIGINT", onInt);
  process.removeListener("SIGTERM", onTerm);
  if (exit.error) throw new CliError(`pwsh could not be started (${pwsh}): ${exit.error.message}; ${PWSH_INSTALL_HINT}`);
  const line = Buffer.concat(stdout)
    .toString("utf8")
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith(MARKER));
  if (line === undefined) {
    const tail = Buffer.concat(stderr).toString("utf8").trim().split(/\r?\n/).slice(-5).join(" | ");
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    throw new CliError(`the emulator gave no answer (pwsh ${how})${tail ? `: ${tail}` : ""}`);
  }
  let doc: { ok: boolean; result?: RunResult; error?: { message: string } };
  try {
    doc = JSON.parse(line.slice(MARKER.length));
  } catch {
    throw new CliError("the emulator's answer was not valid JSON");
  }
  if (!doc.ok || !doc.result) throw new CliError(doc.error?.message ?? "the emulator reported an unknown error");
  return doc.result;
}
