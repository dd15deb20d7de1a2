/**
 * The install lock: one CAL pack create at a time per license server and install journal, across
 * processes (README.md, "Never twice": "One create at a time"). Create holds it from the look at the
 * packs on the server until the journal records what it returned, so a second create (another
 * provider host: a second stack, a second `pulumi up`) sees the first one's pack and journal entry
 * instead of deciding from the same empty picture and installing it again.
 *
 * Across processes: a lock file `<journal dir>/install-<sha256(host)>.lock` created with O_EXCL
 * (`open(…, "wx")`), holding who holds it (pid, the process's start time, hostname, a random token).
 * A lock whose holder is gone (this machine, pid not alive or reused by another process) is taken
 * over safely: the stale file is first renamed to a unique name, and only the process whose rename
 * won goes on; if the renamed file turns out to be a newer, live lock, it is put back. A lock of
 * another machine (a journal folder shared over the network) is never broken: it is waited for.
 *
 * Inside one process, creates of one server queue in memory first (a chain of promises) and only the
 * head of the queue takes the file: the process never waits on itself, and a same-process waiter
 * holds no session of the pool while it waits (its scripts run only once it holds the lock).
 *
 * Waiting for another process is bounded: when the same holder keeps the lock longer than an install
 * may take (`maxWaitMs`: the install step's timeout), the wait ends with RDS_TIMEOUT naming the lock
 * file and the holder. The clock starts again whenever the lock changes hands (progress).
 * Every wait is said once on the progress channel (`waiting for the install lock …`).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ErrorCode, RdsError } from "../../errors";
import { pidExists, processStartTicks } from "../../powershell/pool/processes";
import { reportProgress } from "../../progress";

/** Who holds a lock file (its JSON content). */
export interface LockHolder {
  pid: number;
  /** The holder's start time as the OS counts it (Linux: /proc/<pid>/stat field 22), to see a reused pid. */
  processStart?: string;
  hostname: string;
  token: string;
  acquiredAt: string;
}

/** The lock file of a license server in a journal directory. */
export function lockFile(dir: string, host: string): string {
  const name = crypto.createHash("sha256").update(host.toLowerCase()).digest("hex").slice(0, 40);
  return path.join(dir, `install-${name}.lock`);
}

/** True when the holder is provably gone: on this machine, its pid is dead or now another process. */
export function holderIsGone(h: LockHolder): boolean {
  if (h.hostname !== os.hostname()) return false;
  if (!Number.isInteger(h.pid) || h.pid <= 0 || !pidExists(h.pid)) return true;
  const now = processStartTicks(h.pid);
  return h.processStart !== undefined && now !== undefined && now !== h.processStart;
}

/** How old an empty or torn lock file may get before it counts as left by a holder that died writing it. */
const TORN_LOCK_MS = 10_000;

type Seen = { kind: "holder"; holder: LockHolder } | { kind: "torn"; ageMs: number } | { kind: "none" };

function readLock(file: string): Seen {
  let text: string;
  let ageMs: number;
  try {
    ageMs = Date.now() - fs.statSync(file).mtimeMs;
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { kind: "none" };
    throw err;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (h && typeof h.token === "string" && typeof h.pid === "number") return { kind: "holder", holder: h };
  } catch {
    // Being written right now, or torn by a crash between create and write.
  }
  return { kind: "torn", ageMs };
}

function tokenOf(file: string): string | undefined {
  const seen = readLock(file);
  return seen.kind === "holder" ? seen.holder.token : undefined;
}

/** Creates the lock file exclusively; false when it exists. */
function tryCreate(file: string, me: LockHolder): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    fs.writeSync(fd, JSON.stringify(me));
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Removes a stale lock file without ever removing a live one: rename it away first (one process wins
 * the rename), then look at what was renamed: the stale token → delete it; another token (the lock
 * was taken over and taken again between our look and our rename) → put it back.
 */
function takeOverStale(file: string, staleToken: string | undefined): void {
  const aside = `${file}.stale-${process.pid}-${crypto.randomBytes(6).toString("hex")}`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // another process won the rename
    throw err;
  }
  const moved = tokenOf(aside);
  if (moved !== staleToken) {
    try {
      fs.linkSync(aside, file); // a live lock: back where it was (unless a new one is there already)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  fs.rmSync(aside, { force: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface LockRequest {
  /** The license server host (lower-cased here). */
  host: string;
  /** The install journal directory the lock belongs to. */
  dir: string;
  /** The longest time one holder may keep the lock before a waiter gives up (ms). */
  maxWaitMs: number;
  /** What the caller does, for the timeout message: "installing 2022 Per User CAL pack (spla)". */
  doing: string;
}

/** The file lock, taken (waiting for other processes, bounded); resolves to the token to release with. */
async function acquireFile(r: LockRequest, file: string): Promise<string> {
  fs.mkdirSync(r.dir, { recursive: true, mode: 0o700 });
  const me: LockHolder = {
    pid: process.pid,
    processStart: processStartTicks(process.pid),
    hostname: os.hostname(),
    token: crypto.randomBytes(16).toString("hex"),
    acquiredAt: new Date().toISOString(),
  };
  let lastToken: string | undefined;
  let since = Date.now();
  let pause = 10;
  for (;;) {
    if (tryCreate(file, me)) return me.token;
    const seen = readLock(file);
    if (seen.kind === "none") continue; // released between our create and our look: try again
    if (seen.kind === "torn") {
      if (seen.ageMs > TORN_LOCK_MS) takeOverStale(file, undefined);
    } else if (holderIsGone(seen.holder)) {
      takeOverStale(file, seen.holder.token);
      continue;
    } else if (seen.holder.token !== lastToken) {
      // A new holder: the bounded wait starts again (the lock is changing hands, nothing is stuck).
      lastToken = seen.holder.token;
      since = Date.now();
      pause = 10;
      reportProgress(r.host, `waiting for the install lock held by pid ${seen.holder.pid} on ${seen.holder.hostname} (${file})`);
    } else if (Date.now() - since > r.maxWaitMs) {
      throw lockTimeout(r, file, seen.holder);
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 250);
  }
}

function lockTimeout(r: LockRequest, file: string, h: LockHolder): RdsError {
  return new RdsError(
    ErrorCode.Timeout,
    `${r.doing} on ${r.host}: waited ${Math.round(r.maxWaitMs / 1000)} s for the install lock ${file}, held by pid ${h.pid} on ${h.hostname} ` +
      `since ${h.acquiredAt} (another CAL pack create on this license server): let it finish and run pulumi up again; ` +
      `if that process is gone (another machine sharing the journal folder), remove the lock file`,
    { host: r.host },
  );
}

function releaseFile(file: string, token: string): void {
  // Only our own lock: a lock we no longer hold (taken over as stale) belongs to someone else now.
  if (tokenOf(file) === token) fs.rmSync(file, { force: true });
}

/** The in-process queue of each lock file: the promise the next create waits for. */
let queues = new Map<string, Promise<void>>();

/** Runs `fn` holding the install lock of `r.host` in `r.dir` (in-process queue first, then the file). */
export async function withInstallLock<T>(r: LockRequest, fn: () => Promise<T>): Promise<T> {
  const file = lockFile(r.dir, r.host);
  const ahead = queues.get(file) ?? Promise.resolve();
  let done!: () => void;
  const mine = new Promise<void>((resolve) => (done = resolve));
  const tail = ahead.then(() => mine);
  queues.set(file, tail);
  try {
    await ahead;
    const token = await acquireFile(r, file);
    try {
      return await fn();
    } finally {
      releaseFile(file, token);
    }
  } finally {
    done();
    if (queues.get(file) === tail) queues.delete(file);
  }
}

/**
 * What the death of this process does to its locks, for hosts that "die" inside a test process (their
 * pending calls never settle, so their `finally` never runs): forgets the in-process queues and
 * removes the lock files this process holds, as a takeover of a dead pid would. Never called by the
 * provider itself.
 */
export function abandonLocksOfThisProcess(dir: string): void {
  queues = new Map();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!/^install-[0-9a-f]{40}\.lock$/.test(name)) continue;
    const seen = readLock(path.join(dir, name));
    if (seen.kind === "holder" && seen.holder.pid === process.pid && seen.holder.hostname === os.hostname())
      fs.rmSync(path.join(dir, name), { force: true });
  }
}
