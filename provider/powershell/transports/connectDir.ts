/**
 * Connect folders: where a remote connect step writes what ssh reads while it logs in (a copy of an
 * inline private key, the pinned known_hosts file, the askpass helper and the secret it hands over
 * once). The provider process owns them, not the pwsh that writes into them, because a pwsh killed
 * with SIGKILL (a timeout, the provider's own exit) runs no cleanup of its own:
 *
 * - one folder per connect (all of its attempts), `$TMPDIR/rds-remote-<provider pid>-<random>`, 0700,
 *   made here before the connect step runs and removed as soon as it ends, whatever happened;
 * - every folder still there is removed when the provider exits and on SIGINT, SIGTERM and SIGHUP
 *   (through the pool's exit handlers, pool/shutdown.ts, after its pwsh processes are killed);
 * - SIGKILL cannot be caught: the next provider process that loads this module removes the folders
 *   of providers that are gone (the pid in the name is not running, or is a later process that
 *   reused the pid). Folders of live providers are never touched.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { pidExists, processStartTicks } from "../pool/processes";
import { cleanUpAtExit } from "../pool/shutdown";

/** `rds-remote-<pid>-<random>`: the name of a connect folder, with the pid of the provider that owns it. */
export const CONNECT_DIR_PREFIX = "rds-remote-";
const OWNED = /^rds-remote-(\d+)-[A-Za-z0-9]+$/;

const live = new Set<string>();
let exitCleanupRegistered = false;

/**
 * The temp directory, as the pwsh processes this provider starts see it: `$TMPDIR` read when asked
 * (they inherit this process's environment), else the system's.
 */
function tempRoot(): string {
  const fromEnvironment = process.platform === "win32" ? undefined : process.env.TMPDIR;
  return fromEnvironment ? path.resolve(fromEnvironment) : os.tmpdir();
}

/** Makes this process's next connect folder (0700, checked: ours, a real directory, private). */
export function createConnectDir(): string {
  const dir = fs.mkdtempSync(path.join(tempRoot(), `${CONNECT_DIR_PREFIX}${process.pid}-`));
  const stat = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (process.platform !== "win32" && (stat.mode & 0o077) !== 0)) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`the connect folder ${dir} is not a private directory of this user`);
  }
  live.add(dir);
  if (!exitCleanupRegistered) {
    exitCleanupRegistered = true;
    cleanUpAtExit({ killNow: removeAllConnectDirs, hasLiveSessions: () => false, close: async () => removeAllConnectDirs() });
  }
  return dir;
}

/** Removes a connect folder and everything in it (a pwsh still writing into it cannot keep it). */
export function removeConnectDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 10 });
  } catch {
    // Left for the exit handler or the next start's sweep.
    return;
  }
  live.delete(dir);
}

/** Removes every connect folder of this process (exit and signal handlers: synchronous). */
export function removeAllConnectDirs(): void {
  for (const dir of [...live]) removeConnectDir(dir);
}

/** The connect folders this process has made and not yet removed (tests, diagnostics). */
export function liveConnectDirs(): string[] {
  return [...live];
}

/**
 * Removes the connect folders in `root` whose provider is gone: the pid in the name is not running,
 * or the process running under it started after the folder was last changed (a reused pid). Only
 * folders of this user. Returns what was removed.
 */
export function sweepStaleConnectDirs(root: string = tempRoot()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return removed;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    const match = OWNED.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid) continue;
    const dir = path.join(root, name);
    try {
      const stat = fs.lstatSync(dir);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      if (ownerRunning(pid, stat.mtimeMs)) continue;
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 10 });
      removed.push(dir);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
  return removed;
}

/** Whether `pid` runs and could be the process that last changed a folder at `changedMs`. */
function ownerRunning(pid: number, changedMs: number): boolean {
  if (!pidExists(pid)) return false;
  const started = processStartMs(pid);
  // A process that started after the folder's last change cannot own it: the pid was reused.
  return started === undefined || started <= changedMs + 1000;
}

/** When a process started (epoch ms), on Linux; undefined where /proc does not tell. */
function processStartMs(pid: number): number | undefined {
  try {
    const startTicks = Number(processStartTicks(pid));
    const bootLine = /^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"));
    if (!Number.isFinite(startTicks) || bootLine === null) return undefined;
    // Clock ticks are 1/100 s on every Linux Node runs on (USER_HZ).
    return Number(bootLine[1]) * 1000 + startTicks * 10;
  } catch {
    return undefined;
  }
}

// The sweep runs when a provider process loads the transports (the first thing it does with any
// connection), so a SIGKILLed provider's key material does not wait for the next ssh connect.
sweepStaleConnectDirs();
