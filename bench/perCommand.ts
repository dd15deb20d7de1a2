/**
 * The per-command baseline of the fleet benchmark over ssh: what a `remote.Command` per step does, a
 * new ssh connection and a new remote pwsh for every script. Preloaded into the provider host by
 * hostTap.ts (with $RDS_BENCH_PER_COMMAND), it replaces the runner's core (runner.ts
 * `setOperationRunner`), so the provider code, the steps, the operation scripts and their envelopes
 * are the same as with warm sessions; only how each script reaches the target changes:
 *
 *   ssh -p PORT -i KEY -o BatchMode=yes -o StrictHostKeyChecking=yes ... rdstest@127.0.0.1 \
 *       <pwsh> -NoLogo -NoProfile -NonInteractive -Command -
 *
 * with a short program on stdin: dot-source Bootstrap.ps1, import the emulator (the far side's lab
 * setup, as the warm session's connect does), select the emulated host, run the script with its
 * envelope through Invoke-RdsOperationCore (as the warm session's far side does) and print the result
 * document. The envelope (it may hold secrets) travels on stdin, never on the command line.
 *
 * Favouring the baseline: the far side reads the scripts from this checkout (the loopback shares the
 * file system) instead of receiving them, and no run marker is written. The ssh client starts
 * directly (no local pwsh in between), as `remote.Command` does.
 */
import { spawn } from "child_process";
import { ErrorCode, RdsError } from "../provider/errors";
import { providerFile } from "../provider/paths";
import { encodeEnvelope, quotePowerShellLiteral } from "../provider/powershell/envelope";
import { parseResultDocument } from "../provider/powershell/result";
import type { OperationCall, OperationOutcome, OperationRunner } from "../provider/powershell/runner";
import { transportFor, type Connection } from "../provider/powershell/transport";

/**
 * How long one per-command script may take before it is taken for hung and killed. Not the
 * operation's own timeout: a `remote.Command` has none unless given one, and a baseline killed for
 * being slow would be timed on less work than the warm sessions did. With 16 in flight on the 2 cores
 * both ends share, a refresh's scripts took p50 54 s, p95 99 s in a run on 2026-12-04 (the operation
 * timeout plus 30 s, the limit before, killed 3 to 10 of them in each of that afternoon's runs).
 */
export const PER_COMMAND_LIMIT_MS = 600_000;

/** What the baseline needs besides the connection: how the ssh client logs in, and the far side's pwsh. */
export interface PerCommandSettings {
  /** The client key file (the connection's inline key, as a file `ssh -i` reads). */
  keyFile: string;
  /** A known_hosts file holding the lab's host key for `[address]:port`. */
  knownHostsFile: string;
  /** The pwsh the lab account runs on the far side. */
  remotePwsh: string;
}

/** One event for the benchmark's tap (same shapes as the pool's: start / exit / script). */
export type PerCommandEvent =
  | { type: "start" | "exit"; key: string; pid: number | undefined }
  | { type: "script"; key: string; pid: number | undefined; operation: string; durationMs: number; scriptMs: number | undefined };

interface SshTarget {
  user: string;
  address: string;
  port: number;
}

/** The ssh client's arguments for one command: a new connection running a new pwsh that reads stdin. */
export function perCommandArgv(target: SshTarget, settings: PerCommandSettings): string[] {
  return [
    "-p",
    String(target.port),
    "-i",
    settings.keyFile,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${settings.knownHostsFile}`,
    "-o",
    "UpdateHostKeys=no",
    "-o",
    "ConnectTimeout=15",
    "-o",
    "LogLevel=ERROR",
    `${target.user}@${target.address}`,
    settings.remotePwsh,
    "-NoLogo",
    "-NoProfile",
    "-NonInteractive",
    "-Command",
    "-",
  ];
}

/** What the far side runs (stdin of `pwsh -Command -`: one statement per line). */
export interface FarSideRun {
  stateDir: string;
  host: string;
  script: string;
  /** base64 envelope (encodeEnvelope). */
  envelope: string;
}

export function perCommandProgram(run: FarSideRun): string {
  const q = quotePowerShellLiteral;
  return [
    "$ErrorActionPreference = 'Stop'; $ProgressPreference = 'SilentlyContinue'",
    `. ${q(providerFile("powershell/Bootstrap.ps1"))}`,
    `Import-Module -Name ${q(providerFile("emulator/RdsEmulator.psm1"))} -Global -Force -DisableNameChecking 3>$null 4>$null 5>$null 6>$null`,
    `Set-RdsEmulatorContext -StateDir ${q(run.stateDir)} -HostName ${q(run.host)}`,
    `Write-RdsDocument -DocumentJson (Invoke-RdsOperationCore -ScriptPath ${q(run.script)} -Envelope ${q(run.envelope)})`,
    "exit 0",
    "",
  ].join("\n");
}

/** The runner core of the baseline: one ssh + one remote pwsh per script; `emit` feeds the tap. */
export function perCommandRunner(settings: PerCommandSettings, emit: (event: PerCommandEvent) => void): OperationRunner {
  return async (connection: Connection, call: OperationCall): Promise<OperationOutcome> => {
    if (connection.transport !== "ssh" || connection.emulator === undefined)
      throw new RdsError(ErrorCode.Validation, `the per-command baseline runs ssh lab connections only (${call.name} on ${call.host})`);
    const key = transportFor(connection).targetKey(connection);
    const target = { user: connection.user ?? "", address: connection.address ?? connection.host, port: connection.port ?? 22 };
    const envelope = encodeEnvelope({ operation: call.name, host: call.host, args: call.args() });
    const program = perCommandProgram({ stateDir: connection.emulator.stateDir, host: call.host, script: call.script, envelope });
    const started = performance.now();
    const child = spawn("ssh", perCommandArgv(target, settings), { stdio: ["pipe", "pipe", "pipe"] });
    emit({ type: "start", key, pid: child.pid });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.stdin.end(program);
    const timer = setTimeout(() => child.kill("SIGKILL"), PER_COMMAND_LIMIT_MS);
    const code = await new Promise<number | null>((resolve) => {
      child.once("error", () => resolve(null));
      child.once("close", (exitCode) => resolve(exitCode));
    });
    clearTimeout(timer);
    emit({ type: "exit", key, pid: child.pid });
    const durationMs = performance.now() - started;
    const ctx = { host: call.host, operation: call.name, durationMs };
    if (!stdout.includes("{"))
      throw new RdsError(
        ErrorCode.HostUnreachable,
        `running ${call.name} on ${call.host} per command: ssh exited ${code} without a result (${stderr.trim().slice(-300)})`,
        ctx,
      );
    const document = parseResultDocument(stdout, ctx);
    emit({ type: "script", key, pid: child.pid, operation: call.name, durationMs, scriptMs: document.scriptMs });
    return { document, durationMs, stderr };
  };
}
