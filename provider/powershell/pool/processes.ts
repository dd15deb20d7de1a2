/**
 * Small process helpers of the pool: signals that tolerate a gone process, child pids, unref'd delays,
 * and the removal of what a killed pwsh leaves in its temp folder.
 */
import * as fs from "fs";
import * as path from "path";

/** Resolves after `ms`; the timer never keeps Node alive. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function signalQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Child pids of a process (Linux /proc; empty elsewhere). */
export function childPids(pid: number | undefined): number[] {
  if (pid === undefined || process.platform !== "linux") return [];
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((part) => part.length > 0)
      .map(Number);
  } catch {
    return [];
  }
}

/** Sets whether a child process (and its stdio pipes) keeps Node's event loop alive. */
export function setKeepsNodeAlive(child: import("child_process").ChildProcess, keep: boolean): void {
  if (keep) child.ref();
  else child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    const handle = stream as unknown as { ref?: () => void; unref?: () => void } | null;
    if (keep) handle?.ref?.();
    else handle?.unref?.();
  }
}

/**
 * The fields of /proc/<pid>/stat after the command name (Linux), from the state (field 3) on; undefined
 * where /proc does not show the pid. The name (field 2) may hold spaces and parentheses: count from
 * the last ")".
 */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** When `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22), on Linux: tells a reused pid. */
export function processStartTicks(pid: number): string | undefined {
  return procStatFields(pid)?.[19];
}

/** Whether a process with this pid exists (a zombie included), as far as signal 0 can tell. */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True once no process runs with this pid (a zombie counts as gone: it runs no code and holds no file). */
export function isGone(pid: number): boolean {
  if (process.platform === "linux") {
    const fields = procStatFields(pid);
    return fields === undefined || fields[0] === "Z";
  }
  return !pidExists(pid);
}

/**
 * The names a .NET process with this pid leaves in its temp folder when it is killed (a normal exit
 * removes them): the runtime's diagnostics socket `dotnet-diagnostic-<pid>-<start>-socket` and debugger
 * FIFOs `clr-debug-pipe-<pid>-<start>-in|out` (not created with DOTNET_EnableDiagnostics=0, which
 * the pool sets, but a runtime that ignores it still must not leave them), and PowerShell's own
 * Enter-PSHostProcess pipe `CoreFxPipe_PSHost.<start>.<pid>.<appdomain>.<process name>`, which no
 * setting turns off.
 */
function dotnetLeftoverName(pid: number): RegExp {
  return new RegExp(
    `^(?:dotnet-diagnostic-${pid}-\\d+-socket|clr-debug-pipe-${pid}-\\d+-(?:in|out)|CoreFxPipe_PSHost\\.[0-9A-Fa-f]+\\.${pid}\\.[^.]+\\..+)$`,
  );
}

/**
 * Removes what killed .NET processes left in `tempDir`, for these pids only (the pool's own pwsh
 * processes), and only the sockets and FIFOs named after a pid that no process runs with any more
 * (a live process, or a recycled pid, keeps its files). Returns the pids still running: the caller
 * tries them again once they are gone. Never throws.
 */
export function removeDotnetLeftovers(tempDir: string, pids: Iterable<number>): number[] {
  const running: number[] = [];
  const patterns: RegExp[] = [];
  for (const pid of pids) {
    if (isGone(pid)) patterns.push(dotnetLeftoverName(pid));
    else running.push(pid);
  }
  if (patterns.length === 0) return running;
  let names: string[];
  try {
    names = fs.readdirSync(tempDir);
  } catch {
    return running;
  }
  for (const name of names) {
    if (!patterns.some((pattern) => pattern.test(name))) continue;
    const file = path.join(tempDir, name);
    try {
      const stat = fs.lstatSync(file);
      // Only what the runtime makes: a socket or a FIFO (never a file, folder or link of that name).
      if (stat.isSocket() || stat.isFIFO()) fs.unlinkSync(file);
    } catch {
      // gone already
    }
  }
  return running;
}
