/**
 * An in-process stand-in for pwsh, for the pool's fast tests (pool.fast.test.ts). Not a test file.
 *
 * A SessionPool built with `startShell: shells.start` gets a FakeShell per session instead of a
 * pwsh. The shell answers the commands a Session sends the way Bootstrap.ps1 would: the
 * `Write-RdsSessionInfo` hello, and `Invoke-RdsOperation -ScriptPath <script> -EnvelopePath <file>`,
 * whose envelope it reads from the real envelope file. The "script" is a behaviour name:
 *
 * - `init`: the transport's init operation; answers at once.
 * - `echo`: answers `{ host, pid, args }` at once.
 * - `hang`: never answers (until the process is killed).
 * - `die`: the process exits with `args.code` before answering.
 * - `gate`: answers when the test calls `shells.open(args.gate)` (for "is it running yet?" checks).
 *
 * `shells.crashAtStart(code, signal)` makes the next shell started exit at its hello, before answering
 * anything, as a pwsh whose runtime crashes at start does.
 *
 * Everything happens in promise callbacks (no timers), so a test moves on with `settle()` and moves
 * the pool's clocks (idle close, timeouts) with jest's fake timers. The journal records what each
 * shell did, in order: the tests assert on event order and counts, never on durations.
 */
import type { ChildProcess } from "child_process";
import { EventEmitter } from "events";
import * as fs from "fs";
import type { Invocation, Shell, StartShell, TargetSpec } from "../../provider/powershell/pool";
import type { Connection, Transport } from "../../provider/powershell/transport";

/** Above Linux's largest possible pid (2^22): a signal the pool sends to a fake pid can reach no real process. */
const FIRST_FAKE_PID = 5_000_000;

export type JournalEntry =
  | { type: "spawn"; pid: number }
  | { type: "begin"; pid: number; script: string; host: string; args: Record<string, unknown> }
  | { type: "end"; pid: number; script: string; host: string; args: Record<string, unknown> }
  | { type: "exit"; pid: number; code: number | null; signal: NodeJS.Signals | null };

/** The stand-in for the spawned process: pid, exit event, stdin (EOF / destroy end it), kill, ref / unref. */
class FakeChild extends EventEmitter {
  exited = false;
  readonly stdin = {
    on: () => this.stdin,
    // EOF makes pwsh exit; a destroyed stdin (kill) leaves the launcher nothing to serve either.
    end: () => this.exit(0, null),
    destroy: () => this.exit(null, "SIGKILL"),
  };
  readonly stdout = null;
  readonly stderr = null;

  constructor(
    readonly pid: number,
    private readonly journal: JournalEntry[],
  ) {
    super();
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): boolean {
    this.exit(null, signal);
    return true;
  }

  ref(): void {}
  unref(): void {}

  /** Ends the process; like Node, the exit event comes after the current call returns. */
  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.journal.push({ type: "exit", pid: this.pid, code, signal });
    void Promise.resolve().then(() => this.emit("exit", code, signal));
  }
}

const OPERATION = /^Invoke-RdsOperation -ScriptPath '((?:[^']|'')*)' -EnvelopePath '((?:[^']|'')*)'$/;

function unquote(literal: string): string {
  return literal.replace(/''/g, "'");
}

function document(result: unknown): { stdout: string; stderr: string } {
  return { stdout: JSON.stringify({ ok: true, result, scriptMs: 0 }), stderr: "" };
}

/** One fake pwsh. */
class FakeShell implements Shell {
  readonly stderrTail = "";
  private readonly fake: FakeChild;

  constructor(
    pid: number,
    private readonly shells: FakeShells,
    private readonly crash?: { code: number | null; signal: NodeJS.Signals | null },
  ) {
    this.fake = new FakeChild(pid, shells.journal);
  }

  get child(): ChildProcess {
    return this.fake as unknown as ChildProcess;
  }

  invoke(command: string): Invocation {
    const pid = this.fake.pid;
    if (command.includes("Write-RdsSessionInfo")) {
      if (this.crash !== undefined) {
        this.fake.exit(this.crash.code, this.crash.signal);
        return { output: new Promise(() => undefined), stop: () => undefined };
      }
      // Behind the dotnet-tool launcher, the pwsh that runs scripts is the launcher's child.
      return { output: Promise.resolve(document({ pid: pid + 1, psVersion: "7.6.9" })), stop: () => undefined };
    }
    const match = OPERATION.exec(command);
    if (match === null) throw new Error(`the fake shell got a command it does not know: ${command}`);
    const script = unquote(match[1]);
    const envelope = JSON.parse(Buffer.from(fs.readFileSync(unquote(match[2]), "utf8"), "base64").toString("utf8")) as {
      host: string;
      args: Record<string, unknown>;
    };
    const entry = { pid, script, host: envelope.host, args: envelope.args };
    this.shells.journal.push({ type: "begin", ...entry });
    const answer = (): { stdout: string; stderr: string } => {
      this.shells.journal.push({ type: "end", ...entry });
      return document({ host: envelope.host, pid, args: envelope.args });
    };
    switch (script) {
      case "init":
      case "echo":
        return { output: Promise.resolve().then(answer), stop: () => undefined };
      case "hang":
        return { output: new Promise(() => undefined), stop: () => undefined };
      case "die":
        this.fake.exit(Number(envelope.args.code ?? 1), null);
        return { output: new Promise(() => undefined), stop: () => undefined };
      case "gate":
        return { output: this.shells.gate(String(envelope.args.gate)).then(answer), stop: () => undefined };
      default:
        throw new Error(`the fake shell has no script ${script}`);
    }
  }
}

/** The fake shells of one test: how to start one, what they did, and the gates the test opens. */
export class FakeShells {
  readonly journal: JournalEntry[] = [];
  private nextPid = FIRST_FAKE_PID;
  private readonly gates = new Map<string, { opened: Promise<void>; open(): void }>();
  private nextCrash: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  /** The StartShell to hand the SessionPool. */
  readonly start: StartShell = () => {
    const pid = this.nextPid;
    this.nextPid += 2; // pid + 1 is the session's inner pwsh
    this.journal.push({ type: "spawn", pid });
    const crash = this.nextCrash;
    this.nextCrash = undefined;
    return new FakeShell(pid, this, crash);
  };

  /** The next shell started exits with `code` / `signal` at its hello, having answered nothing. */
  crashAtStart(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.nextCrash = { code, signal };
  }

  gate(name: string): Promise<void> {
    let gate = this.gates.get(name);
    if (gate === undefined) {
      let open: () => void = () => undefined;
      const opened = new Promise<void>((resolve) => (open = resolve));
      gate = { opened, open };
      this.gates.set(name, gate);
    }
    return gate.opened;
  }

  /** Lets every `gate` script waiting on `name` (now or later) answer. */
  open(name: string): void {
    void this.gate(name);
    this.gates.get(name)!.open();
  }

  /** Journal entries of one type. */
  entries<K extends JournalEntry["type"]>(type: K): Extract<JournalEntry, { type: K }>[] {
    return this.journal.filter((e): e is Extract<JournalEntry, { type: K }> => e.type === type);
  }

  /** Operation scripts (not the init) that began, as `script:host` in order. */
  begun(): string[] {
    return this.entries("begin")
      .filter((e) => e.script !== "init")
      .map((e) => `${e.script}:${e.host}`);
  }
}

/** Lets every promise chain the pool has in flight run to its next wait on a timer or a gate. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The init operation every fake transport binds a session with. */
const init = () => ({ name: "session.init", script: "init", args: {} });

/**
 * A transport for the fake shells: a pwsh per target (like ssh / winrm), or, with `shared`, worker
 * groups per state directory like the simulator's. Its executable is never looked up.
 */
export function fakeTransport(shared: boolean): Transport {
  const transport: Transport = {
    kind: "simulator",
    targetKey: (c: Connection) => JSON.stringify(["fake", stateDirOf(c), c.host]),
    preamble: () => [],
    initOperation: init,
    executable: () => ({ found: true, path: "fake-pwsh" }),
  };
  if (shared) {
    transport.workerGroup = (c: Connection) => JSON.stringify(["fake-workers", stateDirOf(c)]);
    transport.workerInitOperation = () => ({ ...init(), args: { shared: true } });
  }
  return transport;
}

function stateDirOf(c: Connection): string {
  return c.transport === "simulator" ? (c.stateDir ?? "default") : "none";
}

/** A target of a fake transport. */
export function fakeTarget(transport: Transport, host: string, stateDir = "state-a"): TargetSpec {
  const connection: Connection = { transport: "simulator", host, stateDir };
  return { key: transport.targetKey(connection), host, connection, transport };
}
