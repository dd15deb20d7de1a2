/**
 * One pwsh child for one CLI request: every command's driver call (driver.ts) and `rds-sim run`
 * (runScript.ts) start pwsh with -File on one of the CLI's own scripts, and that script answers with
 * one marked JSON line on stdout (`@@rds-sim@@{"ok":true,"result":...}`). Whatever else pwsh prints
 * (a user's script may print anything) is not the answer.
 */
import { spawn } from "child_process";
import { findPwsh as findRunnerPwsh, PWSH_INSTALL_HINT } from "../../powershell/executable";
import { pwshCacheEnvironment } from "../../powershell/pool/startupProfile";
import { CliError } from "./errors";

/** Starts the answer line; cli-driver.ps1 and cli/run-host.ps1 write it. */
export const MARKER = "@@rds-sim@@";

/** The runner's lookup (executable.ts: RDS_PWSH, PATH, ~/.dotnet/tools, the project-local .tools/pwsh). */
export function findPwsh(env: NodeJS.ProcessEnv = process.env): string {
  const found = findRunnerPwsh(env);
  if (found.found) return found.path;
  throw new CliError(`${found.reason}; ${PWSH_INSTALL_HINT}`);
}

export interface PwshChildRequest {
  /** The script pwsh runs (`-File`). */
  file: string;
  /** What follows the file on pwsh's command line: parameter names and values, never script text. */
  parameters: string[];
  /** Written to pwsh's stdin, then closed; without it pwsh gets no stdin at all. */
  stdin?: string;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: NodeJS.ErrnoException;
}

/** Runs the script in a fresh pwsh; resolves to the answer's result, or throws CliError. */
export async function runPwshChild<T>(req: PwshChildRequest): Promise<T> {
  const pwsh = findPwsh();
  const child = spawn(pwsh, ["-NoLogo", "-NoProfile", "-NonInteractive", "-File", req.file, ...req.parameters], {
    stdio: [req.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    // The provider's pwsh cache folder, where no startup profile can be corrupted (startupProfile.ts).
    env: { ...process.env, ...pwshCacheEnvironment() },
    windowsHide: true,
  });
  // Ctrl-C / kill of the CLI ends its pwsh too (never leave one running).
  const onInt = () => child.kill("SIGINT");
  const onTerm = () => child.kill("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);

  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout!.on("data", (d: Buffer) => stdout.push(d));
  child.stderr!.on("data", (d: Buffer) => stderr.push(d));
  if (req.stdin !== undefined) {
    child.stdin!.on("error", () => undefined); // pwsh died early: reported below, from how it exited
    child.stdin!.end(req.stdin);
  }

  const exit = await new Promise<Exit>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  process.removeListener("SIGINT", onInt);
  process.removeListener("SIGTERM", onTerm);

  if (exit.error) throw startFailure(pwsh, exit.error);
  return answerOf<T>(Buffer.concat(stdout).toString("utf8"), Buffer.concat(stderr).toString("utf8"), exit);
}

function startFailure(pwsh: string, e: NodeJS.ErrnoException): CliError {
  if (e.code === "ENOENT") return new CliError(`pwsh could not be started (${pwsh} not found); ${PWSH_INSTALL_HINT}`);
  return new CliError(`pwsh could not be started (${pwsh}): ${e.message}; ${PWSH_INSTALL_HINT}`);
}

/** The last marked line is the answer; without one, pwsh's exit and the end of its stderr say why. */
function answerOf<T>(stdout: string, stderr: string, exit: Exit): T {
  const line = stdout
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith(MARKER));
  if (line === undefined) {
    const tail = stderr.trim().split(/\r?\n/).slice(-5).join(" | ");
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    throw new CliError(`the emulator gave no answer (pwsh ${how})${tail ? `: ${tail}` : ""}`);
  }
  let doc: { ok: boolean; result?: T; error?: { message?: string } };
  try {
    doc = JSON.parse(line.slice(MARKER.length));
  } catch {
    throw new CliError("the emulator's answer was not valid JSON");
  }
  if (!doc.ok) throw new CliError(doc.error?.message ?? "the emulator reported an unknown error");
  return doc.result as T;
}
