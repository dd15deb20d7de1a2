/**
 * The ssh benchmark's CPU accounts (bench/cpuAccount.ts): a cgroup counts the CPU time of every
 * process that ran in it, including processes already gone, which is why the benchmark uses it for
 * the per-command mode's short-lived remote pwsh.
 *
 * Real: the kernel's cgroup CPU accounting and /proc/stat, a child process (node) that burns CPU and
 * exits. Stands in: nothing. Runs where the benchmark runs (as root, as CI does here); elsewhere the
 * account cannot be made, and the test says so by failing rather than passing on nothing.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import { CpuAccount, machineTicks } from "../../bench/cpuAccount";

/** A child that spins for about `ms` of CPU time and exits; resolves when it has. */
function burnInChild(ms: number, account: CpuAccount): Promise<void> {
  const child = spawn(process.execPath, [
    "-e",
    `const end = process.cpuUsage().user + ${ms * 1000}; while (process.cpuUsage().user < end) {}`,
  ]);
  account.join(child.pid!);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`burner exited ${code}`))));
  });
}

describe("CpuAccount", () => {
  it("counts the CPU time of a process that has already exited", async () => {
    expect(process.getuid?.()).toBe(0);
    const account = CpuAccount.open("test");
    expect(account).toBeDefined();
    try {
      const before = account!.seconds();
      // Joined right after spawn: node's own start-up may run before the join, the spin runs after it.
      await burnInChild(400, account!);
      const counted = account!.seconds() - before;
      expect(counted).toBeGreaterThanOrEqual(0.3);
      // Not the whole machine's time: the group holds the child only (node start-up plus the spin).
      expect(counted).toBeLessThan(5);
    } finally {
      await account!.close();
    }
    // Closed: the group is gone, nothing left behind in the cgroup file system.
    expect(fs.existsSync(account!.dir)).toBe(false);
  });

  it("reads the machine's busy, stolen and total time, each only growing", () => {
    const a = machineTicks();
    const end = process.cpuUsage().user + 50_000;
    while (process.cpuUsage().user < end) {
      // spin 50 ms of CPU
    }
    const b = machineTicks();
    expect(b.total).toBeGreaterThan(a.total);
    expect(b.busy).toBeGreaterThan(a.busy);
    expect(b.steal).toBeGreaterThanOrEqual(a.steal);
    expect(b.busy).toBeLessThanOrEqual(b.total);
  });
});
