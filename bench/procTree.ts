/**
 * Memory and counts of process trees, sampled from /proc (Linux): the ssh benchmark's view of what
 * the provider host started (local pwsh, ssh clients) and what the lab's sshd started (one sshd pair
 * per connection, the remote pwsh under it). A timer samples every `everyMs`; `take()` hands out the
 * peaks since the last take. Only the trees under the given pids are counted (never other processes
 * on the machine, which other jobs share).
 */
import * as fs from "fs";

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  rssBytes: number;
}

const PAGE = 4096;

function scan(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      if (fields[0] === "Z") continue;
      const statm = fs.readFileSync(`/proc/${name}/statm`, "utf8").split(" ");
      out.set(Number(name), { pid: Number(name), ppid: Number(fields[1]), comm, rssBytes: Number(statm[1]) * PAGE });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function descendants(procs: Map<number, Proc>, root: number): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of procs.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

export interface TreePeaks {
  /** Peak RSS of everything the provider host started (its pwsh, their ssh clients), MiB. */
  hostChildrenRssMiB: number;
  /** Peak RSS summed over the remote PowerShell processes under the lab's sshd (launcher + runtime), MiB. */
  remotePwshRssMiB: number;
  /** Most remote pwsh (launchers) alive at one sample. */
  remotePwshPeak: number;
  /** Most ssh connections (children of the listening sshd) alive at one sample. */
  sshConnectionsPeak: number;
  samples: number;
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

export class TreeSampler {
  private timer: NodeJS.Timeout | undefined;
  private peaks: TreePeaks = TreeSampler.empty();

  constructor(
    private readonly hostPid: number,
    private readonly sshdPid: number,
    private readonly everyMs = 500,
  ) {}

  private static empty(): TreePeaks {
    return { hostChildrenRssMiB: 0, remotePwshRssMiB: 0, remotePwshPeak: 0, sshConnectionsPeak: 0, samples: 0 };
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The peaks since the last take (one last sample first), and a fresh start. */
  take(): TreePeaks {
    this.sample();
    const out = this.peaks;
    this.peaks = TreeSampler.empty();
    return out;
  }

  private sample(): void {
    const procs = scan();
    const local = descendants(procs, this.hostPid);
    const remote = descendants(procs, this.sshdPid);
    // A remote PowerShell is the pwsh launcher (comm "pwsh", the dotnet tool's apphost) and its
    // runtime child (comm "dotnet"): count launchers, sum the memory of both.
    const remotePwsh = remote.filter((p) => p.comm === "pwsh");
    const remotePowerShell = remote.filter((p) => p.comm !== "sshd");
    const connections = [...procs.values()].filter((p) => p.ppid === this.sshdPid).length;
    const p = this.peaks;
    p.samples++;
    p.hostChildrenRssMiB = Math.max(p.hostChildrenRssMiB, mib(local.reduce((a, x) => a + x.rssBytes, 0)));
    p.remotePwshRssMiB = Math.max(p.remotePwshRssMiB, mib(remotePowerShell.reduce((a, x) => a + x.rssBytes, 0)));
    p.remotePwshPeak = Math.max(p.remotePwshPeak, remotePwsh.length);
    p.sshConnectionsPeak = Math.max(p.sshConnectionsPeak, connections);
  }
}
