/** Small process helpers of the pool: signals that tolerate a gone process, child pids, unref'd delays. */
import * as fs from "fs";

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
