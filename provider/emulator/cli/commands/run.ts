/** `rds-sim run`: run an admin's own script against a simulated host and show what it changed. */
import * as fs from "fs";
import * as path from "path";
import type { Command, Context, Parsed } from "../command";
import { UsageError, CliError } from "../errors";
import { emit, printable } from "../format";
import { formatRun, hostChanges } from "../runReport";
import { runScriptOnHost } from "../runScript";
import { hostArg } from "../validate";

export const runCommand: Command = {
  name: "run",
  usage: "<script.ps1> --host <host> [--fresh] [-- <script arguments>...]",
  positionals: [{ name: "script", help: "the PowerShell script to run (run unchanged)" }],
  rest: {
    name: "script arguments",
    help: "given to the script untouched (-Name value, -Switch; even --json, -h)",
  },
  options: {
    host: { type: "string", value: "HOST", help: "the simulated host the script runs on (required)" },
    fresh: { type: "boolean", help: "reset the host to a fresh state first (default: its existing state)" },
  },
  summary: "run your own script on a simulated host and show what it changed",
  details: [
    "Runs the script unchanged in a pwsh with the emulator loaded and the host selected, as if it",
    "ran on that Windows host ($env:COMPUTERNAME is the host's name): the CIM and legacy WMI",
    "cmdlets, -ComputerName to other simulated hosts, Import-Module RemoteDesktop and",
    "RemoteDesktopServices (the RDS: drive), the feature and service cmdlets all reach the emulator.",
    "Then prints the script's output and errors, its exit code, what changed on the host",
    "(role, activation, contact, CAL packs, licensing mode, license servers; other hosts the script",
    "changed too) and the emulated calls it made (never argument values).",
    "Arguments after -- go to the script as `pwsh -File` passes them (-Name value, -Switch).",
    "Exit code: 1 when the script's exit code is not 0.",
  ],
  examples: [
    "rds-sim run ./activate-ls.ps1 --host ls01 --fresh",
    "rds-sim run ./cal-report.ps1 --host ls01 -- -LicenseServer ls02 -Verbose",
    "rds-sim --json run ./setup.ps1 --host rdsh01",
  ],
  run: runRun,
};

async function runRun(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const script = p.positionals.script!;
  const host = hostArg(p, cmd);
  const scriptPath = path.resolve(script);
  if (!fs.existsSync(scriptPath) || !fs.statSync(scriptPath).isFile()) throw new UsageError(`no script at '${printable(script)}'`, cmd);
  if (!/\.ps1$/i.test(scriptPath)) throw new UsageError(`<script> must be a .ps1 file (got '${printable(script)}')`, cmd);
  const result = await runScriptOnHost({ stateDir: ctx.stateDir, host, scriptPath, fresh: p.values.fresh === true, args: p.rest ?? [] });
  emit(ctx, { ...result, changes: hostChanges(result) }, () => formatRun(result, script));
  if (result.exitCode !== 0) throw new CliError(`the script exited with code ${result.exitCode}`);
}
