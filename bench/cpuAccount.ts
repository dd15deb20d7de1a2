/**
 * Exact CPU time of a group of processes, dead ones included: a cgroup of its own (v1 `cpuacct`, or
 * v2's `cpu.stat`) that the root process joins before it starts anything; its children inherit it.
 * The ssh benchmark puts the provider host in one and the lab's sshd in another: the per-command
 * mode's remote pwsh live a few seconds each and are reparented by sshd on their way out, so neither
 * sampling /proc nor the children times of /proc/<pid>/stat sees all of their CPU time; the cgroup does.
 *
 * Needs root and a writable cgroup file system (the ssh benchmark runs as root); elsewhere `open`
 * answers undefined and the benchmark reports no CPU time rather than a partial one.
 */
import * as fs from "fs";
import * as path from "path";

const V1 = "/sys/fs/cgroup/cpuacct";
const V2 = "/sys/fs/cgroup/unified";

export class CpuAccount {
  private constructor(
    /** The group's folder in the cgroup file system. */
    readonly dir: string,
    private readonly read: (dir: string) => number,
  ) {}

  /** A new group named `name` (with this process's pid, so parallel runs do not share one), or undefined. */
  static open(name: string): CpuAccount | undefined {
    const leaf = `rds-bench-${name}-${process.pid}`;
    const kinds: [string, (dir: string) => number][] = [
      [V1, (dir) => Number(fs.readFileSync(path.join(dir, "cpuacct.usage"), "utf8")) / 1e9],
      [V2, (dir) => Number(/usage_usec (\d+)/.exec(fs.readFileSync(path.join(dir, "cpu.stat"), "utf8"))?.[1]) / 1e6],
    ];
    for (const [root, read] of kinds) {
      const dir = path.join(root, leaf);
      try {
        fs.mkdirSync(dir);
        read(dir);
        return new CpuAccount(dir, read);
      } catch {
        try {
          fs.rmdirSync(dir);
        } catch {
          // never made
        }
      }
    }
    return undefined;
  }

  /** Moves `pid` into the group: what it starts from now on is counted too. */
  join(pid: number): void {
    fs.writeFileSync(path.join(this.dir, "cgroup.procs"), String(pid));
  }

  /** CPU time of everything that ever ran in the group, seconds. */
  seconds(): number {
    return this.read(this.dir);
  }

  /**
   * Removes the group once its last process has gone (a stopped sshd takes a moment to exit), waiting
   * up to `waitMs`; a group still in use after that is left for the next boot.
   */
  close(waitMs?: number): Promise<void> {
    return removeCgroup(this.dir, waitMs);
  }
}

/** Removes a cgroup folder once its last process has gone, waiting up to `waitMs`; one still in use is left for the next boot. */
export async function removeCgroup(dir: string, waitMs = 5000): Promise<void> {
  const until = Date.now() + waitMs;
  for (;;) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch {
      if (Date.now() >= until) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Busy, stolen and total CPU time of the whole machine so far (/proc/stat's first line), in ticks.
 * Steal is time the hypervisor gave this VM's virtual CPUs to others: a phase with steal ran on less
 * than the 2 cores (busy counts it, as the VM could not run then).
 */
export function machineTicks(): { busy: number; steal: number; total: number } {
  const values = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - values[3] - values[4], steal: values[7], total };
}
