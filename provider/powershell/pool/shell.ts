/**
 * The pwsh process of a session, through node-powershell: spawned with our options, pinned to the
 * executable we found, each command sent as ONE stdin line and its output read between delimiters.
 *
 * Why our own framing: child-shell's `invoke()` writes five stdin lines per command (a delimiter
 * print to stderr and one to stdout, the command, the same two again), and `pwsh -Command -` handles
 * every stdin line as an input of its own (blank or not, each costs a round of its input loop). We
 * write one line on the shell's public stdin stream instead,
 * `<prints>; try { <command> } finally { <prints> }` (a command that throws still ends its output),
 * and read the text between the delimiters from its public stdout / stderr streams. Measured:
 * provider/powershell/README.md ("One line per command").
 *
 * node-powershell exposes no handle on the child process, and the pool needs one (its pid, its exit
 * code, ref/unref so an idle pwsh never keeps Node alive, kill). `childProcessOf` reads it (and the
 * exit promise, to silence its rejection) from the shell, read-only; nothing of node-powershell is
 * replaced or patched, and its `invoke()` is not used.
 */
import { type ChildProcess, spawn } from "child_process";
import * as crypto from "crypto";
import * as os from "os";
import { Writable } from "stream";
import { PowerShell } from "node-powershell";
import { childPids, removeDotnetLeftovers } from "./processes";
import { pwshCacheEnvironment } from "./startupProfile";

/** The pieces of child-shell's Shell the pool reads but the typings keep private. */
interface ShellProcessFields {
  process: ChildProcess;
  exitPromise: Promise<void>;
}

/** node-powershell's PowerShell, pinned to the executable we found (it would prefer `$NODE_POWERSHELL`). */
class PinnedPowerShell extends PowerShell {
  protected override setExecutable(opts: { executable?: string }): string {
    return opts.executable as string;
  }
}

const DELIMITER_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** 16 random characters of [0-9A-Za-z], like child-shell's (Session.recentStderr drops such lines). */
function newDelimiter(): string {
  return [...crypto.randomBytes(16)].map((b) => DELIMITER_ALPHABET[b % DELIMITER_ALPHABET.length]).join("");
}

/** A reader of one stream: the text between the first two occurrences of `delimiter`, trimmed. */
function readBetween(stream: NodeJS.ReadableStream, delimiter: string): { text: Promise<string>; stop(): void } {
  let buffer = "";
  let start = -1;
  let onData: (chunk: string | Buffer) => void = () => undefined;
  const text = new Promise<string>((resolve) => {
    onData = (chunk) => {
      const from = Math.max(0, buffer.length - delimiter.length); // a delimiter may straddle two chunks
      buffer += chunk.toString();
      if (start < 0) {
        const at = buffer.indexOf(delimiter, from);
        if (at < 0) return;
        start = at + delimiter.length;
      }
      const end = buffer.indexOf(delimiter, Math.max(start, from));
      if (end < 0) return;
      stream.removeListener("data", onData);
      resolve(buffer.slice(start, end).trim());
    };
    stream.on("data", onData);
  });
  return { text, stop: () => stream.removeListener("data", onData) };
}

/**
 * The mark of a progress line: a running script's `Write-RdsProgress` (RdsCommon.psm1) becomes, in the
 * warm pwsh, one stderr line `##rds-progress## "<text as a JSON string>"` (Bootstrap.ps1), whether
 * the script ran here or on the far side of a remote session. The reader below hands each one to the
 * caller as it arrives and keeps it out of the command's stderr text.
 */
export const PROGRESS_MARK = "##rds-progress## ";

/** The text of a progress line, or undefined when the line is not one. */
export function progressText(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith(PROGRESS_MARK.trim())) return undefined;
  const encoded = trimmed.slice(PROGRESS_MARK.trim().length).trim();
  try {
    const text: unknown = JSON.parse(encoded);
    return typeof text === "string" ? text : undefined;
  } catch {
    return undefined;
  }
}

/** The text without its progress lines (what the command printed on stderr besides them). */
export function withoutProgressLines(text: string): string {
  return text
    .split(/\r?\n/)
    .filter((line) => progressText(line) === undefined)
    .join("\n")
    .trim();
}

/** Calls `onText` for each progress line of a stream as it arrives, until stopped. */
function readProgress(stream: NodeJS.ReadableStream, onText: (text: string) => void): { stop(): void } {
  let partial = "";
  const onData = (chunk: string | Buffer) => {
    partial += chunk.toString();
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      const text = progressText(line);
      if (text === undefined) continue;
      try {
        onText(text);
      } catch {
        // a failing listener must not stop the command's own reading
      }
    }
  };
  stream.on("data", onData);
  return { stop: () => stream.removeListener("data", onData) };
}

/** One command's output, and a way to stop reading (the command timed out or pwsh exited). */
export interface Invocation {
  output: Promise<{ stdout: string; stderr: string }>;
  stop(): void;
}

/**
 * What a Session drives: a process that runs one command at a time. The pool starts one per session
 * through a StartShell; the default is `startPwsh` (a real pwsh). The pool's tests pass a stand-in
 * that answers commands in process, so queue, cap and timeout rules are checked without pwsh.
 */
export interface Shell {
  /** The spawned process: its pid, exit and error events, stdin, kill, ref / unref. */
  readonly child: ChildProcess;
  /** The last 8 KiB the process wrote to stderr. */
  readonly stderrTail: string;
  /** Resolves once the process's output streams have closed (all it wrote has been read); optional. */
  readonly outputClosed?: Promise<void>;
  /**
   * Runs one command; `onProgress` receives the text of each progress line while it runs. `data`:
   * lines written right after the command line, which the command reads itself from stdin (the exec
   * channel's envelope and script files: values never become command text).
   */
  invoke(command: string, onProgress?: (text: string) => void, data?: readonly string[]): Invocation;
}

/** The standard streams a framed command is written to and read from. */
interface FramedStreams {
  stdin: NodeJS.WritableStream;
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
}

/**
 * Writes one framed command line (and its data lines) and reads what it prints between the
 * delimiters, on stdout and stderr; progress lines go to `onProgress` as they arrive. `learnDuring`
 * sees the output promise (PwshProcess learns its real pid then).
 */
function invokeFramed(
  streams: FramedStreams,
  command: string,
  onProgress: ((text: string) => void) | undefined,
  data: readonly string[] | undefined,
  learnDuring?: (output: Promise<unknown>) => (() => void) | undefined,
): Invocation {
  const delimiter = newDelimiter();
  const { stdin, stdout, stderr } = streams;
  const out = readBetween(stdout, delimiter);
  const err = readBetween(stderr, delimiter);
  const progress = onProgress ? readProgress(stderr, onProgress) : undefined;
  const prints = `[Console]::Error.WriteLine('${delimiter}'); [Console]::Out.WriteLine('${delimiter}')`;
  const lines = [`${prints}; try { ${command} } finally { ${prints} }`, ...(data ?? [])];
  stdin.write(lines.map((line) => line + os.EOL).join(""));
  const output = Promise.all([out.text, err.text]).then(([stdoutText, stderrText]) => ({
    stdout: stdoutText,
    stderr: withoutProgressLines(stderrText),
  }));
  const learning = learnDuring?.(output);
  return {
    output,
    stop: () => {
      out.stop();
      err.stop();
      progress?.stop();
      learning?.();
    },
  };
}

/** A Writable that keeps the last `STDERR_TAIL` characters written to it. */
function tailKeeper(keep: (text: string) => void): Writable {
  let tail = "";
  return new Writable({
    write: (chunk: Buffer | string, _encoding, done) => {
      tail = (tail + chunk.toString()).slice(-STDERR_TAIL);
      keep(tail);
      done();
    },
  });
}

/** Starts the shell of a new session from the executable the transport found. */
export type StartShell = (executable: string) => Shell;

/** The default StartShell: a real pwsh through node-powershell. */
export const startPwsh: StartShell = (executable) => new PwshProcess(executable);

const STDERR_TAIL = 8192;

/** A pwsh process that runs one command at a time, each as one stdin line. */
export class PwshProcess implements Shell {
  private readonly shell: PinnedPowerShell;
  readonly child: ChildProcess;
  /** The last 8 KiB pwsh wrote to stderr (delimiter lines included). */
  stderrTail = "";

  /** The pids of this pwsh whose leftovers are removed after it exits (see LeftoverSweeper). */
  private readonly leftovers: LeftoverSweeper | undefined;

  constructor(executable: string) {
    const executableOptions: Record<string, boolean | string> = { "-NoProfile": true, "-NonInteractive": true };
    if (process.platform === "win32") executableOptions["-ExecutionPolicy"] = "Bypass";
    const env = childEnvironment();
    this.shell = new PinnedPowerShell({
      executable,
      executableOptions,
      throwOnInvocationError: false,
      spawnOptions: { env },
    });
    this.child = childProcessOf(this.shell);
    // On Windows the runtime's pipes are kernel objects that go with the process: nothing to sweep.
    if (process.platform !== "win32") this.leftovers = new LeftoverSweeper(this.child, dotnetTempDir(env));
    // The tail is kept by a pipe that stays for the life of the process, and it must be a pipe:
    // child-shell pipes stderr into its own exit reader and unpipes it after three chunks, and Node
    // pauses a stream when its last pipe goes, which would stall the command readers below.
    this.shell.streams.stderr.pipe(tailKeeper((tail) => (this.stderrTail = tail)));
  }

  /** Sends `command` (one line, never a newline in it) and reads what it prints. One at a time. */
  invoke(command: string, onProgress?: (text: string) => void, data?: readonly string[]): Invocation {
    return invokeFramed(this.shell.streams, command, onProgress, data, (output) => this.leftovers?.learnDuring(output));
  }
}

/**
 * A shell that is a plain child process speaking the same framing: the ssh client of the exec
 * channel, whose remote command is the target's PowerShell (transports/sshExec.ts). Its stdin,
 * stdout and stderr are the remote PowerShell's, plus whatever ssh itself writes on stderr (why a
 * login failed), which `stderrTail` keeps for the connect step's classification.
 */
export class ChildProcessShell implements Shell {
  readonly child: ChildProcess;
  readonly outputClosed: Promise<void>;
  stderrTail = "";

  constructor(file: string, args: readonly string[], extraEnv: Record<string, string>) {
    this.child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...extraEnv }, windowsHide: true });
    this.child.stdout!.setEncoding("utf8");
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.pipe(tailKeeper((tail) => (this.stderrTail = tail)));
    // 'close' comes after 'exit', once stdout and stderr have ended: why a login failed is read then.
    this.outputClosed = new Promise<void>((resolve) => {
      this.child.once("close", () => resolve());
      this.child.once("error", () => resolve());
    });
  }

  invoke(command: string, onProgress?: (text: string) => void, data?: readonly string[]): Invocation {
    return invokeFramed({ stdin: this.child.stdin!, stdout: this.child.stdout!, stderr: this.child.stderr! }, command, onProgress, data);
  }
}

/** The temp folder the .NET runtime of a child uses: `$TMPDIR`, else /tmp (Path.GetTempPath on Unix). */
function dotnetTempDir(env: NodeJS.ProcessEnv): string {
  return env.TMPDIR !== undefined && env.TMPDIR.length > 0 ? env.TMPDIR : "/tmp";
}

const LEFTOVER_RETRY_MS = 100;
const LEFTOVER_RETRIES = 50;

/**
 * Removes what a killed pwsh leaves in its temp folder, once it has exited (processes.ts
 * `removeDotnetLeftovers`: its PowerShell host pipe; the runtime's diagnostics files too if they
 * were made). The pids are this pwsh's own: the spawned process and, behind the dotnet-tool
 * launcher, the real pwsh it starts as its child. That child is learned while the first command
 * runs (it is the process that answers it), and not later: a pwsh's later children (the ssh client
 * of a remote session) are not .NET processes of ours. A pwsh that exits normally removed its files
 * itself, and the sweep finds nothing. A pid still running at the exit (the real pwsh when only the
 * launcher was killed: it exits on stdin EOF and removes its own) is tried again a few times.
 */
class LeftoverSweeper {
  private readonly pids = new Set<number>();
  private learning = true;

  constructor(
    private readonly child: ChildProcess,
    private readonly tempDir: string,
  ) {
    if (child.pid === undefined) return;
    this.pids.add(child.pid);
    // Runs before the session's own exit listener, so the sweep is done when a kill() resolves.
    child.once("exit", () => {
      this.learning = false;
      this.sweep(LEFTOVER_RETRIES);
    });
  }

  /** Learns the real pwsh while the first command runs: when its output arrives or it is stopped. */
  learnDuring(output: Promise<unknown>): (() => void) | undefined {
    if (!this.learning) return undefined;
    const learn = () => {
      if (!this.learning) return;
      this.learning = false;
      for (const pid of childPids(this.child.pid)) this.pids.add(pid);
    };
    output.then(learn, learn);
    return learn;
  }

  private sweep(retries: number): void {
    const running = removeDotnetLeftovers(this.tempDir, this.pids);
    if (running.length === 0 || retries === 0) return;
    setTimeout(() => this.sweep(retries - 1), LEFTOVER_RETRY_MS).unref();
  }
}

/** The spawned process behind a shell (see the file comment for why this is read from the shell). */
function childProcessOf(shell: PowerShell): ChildProcess {
  const fields = shell as unknown as ShellProcessFields;
  // child-shell rejects this promise when pwsh exits abnormally; the session watches the process itself.
  fields.exitPromise.catch(() => undefined);
  return fields.process;
}

/**
 * The environment of a pwsh: no colour, no telemetry, and our pid for its parent watchdog
 * (Bootstrap.ps1). .NET diagnostics off: the runtime would otherwise make a diagnostics socket and
 * two debugger FIFOs in `$TMPDIR` per process (the dotnet-tool launcher and the real pwsh each),
 * which a killed pwsh never removes; nothing of ours attaches a debugger or profiler to it. On Linux
 * and macOS, a cache folder of the provider's in which no startup profile can be written
 * (startupProfile.ts: pwsh processes exiting together corrupt a shared one).
 */
function childEnvironment(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...pwshCacheEnvironment(),
    TERM: "dumb",
    NO_COLOR: "1",
    POWERSHELL_TELEMETRY_OPTOUT: "1",
    POWERSHELL_UPDATECHECK: "Off",
    DOTNET_CLI_TELEMETRY_OPTOUT: "1",
    DOTNET_NOLOGO: "1",
    DOTNET_EnableDiagnostics: "0",
    RDS_RUNNER_PARENT_PID: String(process.pid),
  };
}
