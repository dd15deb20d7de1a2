/**
 * The pwsh side of `rds-sim run`: one pwsh running cli/run-host.ps1, which loads the emulator, selects
 * the host, runs the user's script unchanged and answers one marked JSON line (the script's exit code,
 * output and errors, every host's licensing state before and after, the calls made). Unlike the other
 * commands' driver, the user's script is real script text by design; everything else (the host, the
 * state dir, the script's arguments) reaches pwsh as parameter values, never as script text.
 */
import { providerFile } from "../../paths";
import { CliError } from "./errors";
import { runPwshChild } from "./pwshChild";

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
  const parameters = [
    "-ModulePath",
    providerFile("emulator/RdsEmulator.psm1"),
    "-StateDir",
    req.stateDir,
    "-HostName",
    req.host,
    "-ScriptPath",
    req.scriptPath,
  ];
  if (req.fresh) parameters.push("-Fresh");
  if (req.args.length > 0) parameters.push("-ArgsBase64", Buffer.from(JSON.stringify(req.args), "utf8").toString("base64"));
  const result = await runPwshChild<RunResult | undefined>({ file: providerFile("emulator/cli/run-host.ps1"), parameters });
  // run-host.ps1 always answers a result when ok: without one there is nothing to report, so say so.
  if (!result) throw new CliError("the emulator reported an unknown error");
  return result;
}
