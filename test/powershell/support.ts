/**
 * Shared bits of the runner tests (test/powershell/*.test.ts). Not a test file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { isRdsError, RdsError } from "../../provider/errors";
import { packageRoot } from "../../provider/paths";
import type { Connection } from "../../provider/powershell/transport";

/** Absolute path of a fixture script under test/fixtures/scripts. */
export function fixture(name: string): string {
  return path.join(packageRoot(), "test", "fixtures", "scripts", `${name}.ps1`);
}

const madeDirs: string[] = [];

/** A fresh private directory under the OS temp dir (removed by removeTempDirs()). */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  madeDirs.push(dir);
  return dir;
}

/** Removes every directory tempDir() made in this test file. */
export function removeTempDirs(): void {
  for (const dir of madeDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A simulator connection on its own state directory. */
export function sim(host: string, stateDir: string): Connection {
  return { transport: "simulator", host, stateDir };
}

/** What Echo.ps1 returns. */
export const echoSchema = z.object({
  envelope: z.object({ operation: z.string(), host: z.string(), args: z.record(z.string(), z.unknown()) }),
  pid: z.number().int(),
});

/** What Sleep.ps1 returns. */
export const sleepSchema = z.object({
  id: z.unknown(),
  started: z.number(),
  ended: z.number(),
  pid: z.number().int(),
});

/** A process identified by pid AND start time, so a recycled pid is never mistaken for it. */
export interface ProcessRef {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  start: string;
}

function readStat(pid: number): { state: string; start: string } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], start: fields[19] };
  } catch {
    return undefined;
  }
}

/** A reference to a running process, or undefined when there is none with that pid. */
export function processRef(pid: number | undefined): ProcessRef | undefined {
  if (pid === undefined) return undefined;
  const stat = readStat(pid);
  if (stat === undefined || stat.state === "Z") return undefined;
  return { pid, start: stat.start };
}

/** True while that very process runs (not a zombie, and its pid not recycled by another process). */
export function isRunning(ref: ProcessRef | undefined): boolean {
  if (ref === undefined) return false;
  const stat = readStat(ref.pid);
  return stat !== undefined && stat.state !== "Z" && stat.start === ref.start;
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Awaits a promise that must reject with an RdsError and returns that error. */
export async function rdsErrorOf(promise: Promise<unknown>): Promise<RdsError> {
  try {
    await promise;
  } catch (err) {
    if (isRdsError(err)) return err;
    throw new Error(`expected an RdsError, got: ${String(err)}`);
  }
  throw new Error("expected the operation to fail, but it succeeded");
}
