/**
 * The controller (this benchmark process, the provider host it starts and the host's ssh clients)
 * in a cpu group of its own with a high weight, so that on the 2 cores it shares with the ssh lab it
 * runs the moment it has work, as on a machine of its own; the lab's targets get all the rest.
 *
 * Why: Linux gives every session a scheduling group of its own (autogroup,
 * /proc/sys/kernel/sched_autogroup_enabled), and sshd starts every connection in a new session. So
 * with twelve busy warm targets (their pwsh compiling in the background) the controller, one
 * session, got a thirteenth of the machine: the host took up to 1.4 s to hand one wave of 16 reads
 * to the coalescer, up to 220 ms apart (README, "Over ssh"), which no real fleet shows. Only the
 * controller moves, once the lab has started: the lab's sshd stays in the root group, so its sessions
 * keep their autogroups and the targets share the cores among themselves exactly as before, in both
 * modes. (The lab's
 * sessions in one group of their own would also feed the controller, but would change how the
 * targets share the cores among themselves: thread by thread instead of session by session.)
 *
 * Needs root and cgroup v1's cpu hierarchy (the benchmark runs as root); elsewhere `open` answers
 * undefined and the benchmark records that the controller was scheduled as the system does it.
 */
import * as fs from "fs";
import * as path from "path";
import { removeCgroup } from "./cpuAccount";

const V1_CPU = "/sys/fs/cgroup/cpu";

/** The controller group's weight: 64 times a session's (an autogroup's is 1024), close to "never waits". */
export const CONTROLLER_SHARES = 65536;

/** How the controller shared the CPU with the lab, as the results record it. */
export const CONTROLLER_SCHEDULING = `own cpu group, weight ${CONTROLLER_SHARES}` as const;
export type ControllerScheduling = typeof CONTROLLER_SCHEDULING | "a group per session (autogroup)" | "per process";

export function systemScheduling(): ControllerScheduling {
  try {
    return fs.readFileSync("/proc/sys/kernel/sched_autogroup_enabled", "utf8").trim() === "1"
      ? "a group per session (autogroup)"
      : "per process";
  } catch {
    return "per process";
  }
}

export class ControllerGroup {
  private constructor(readonly dir: string) {}

  /**
   * A new cpu group (named with this process's pid, so parallel runs do not share one) with this
   * process in it, or undefined. Everything this process starts from now on is in it too; what it
   * started before (the lab's sshd) stays where it is.
   */
  static open(): ControllerGroup | undefined {
    const dir = path.join(V1_CPU, `rds-bench-controller-${process.pid}`);
    try {
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, "cpu.shares"), String(CONTROLLER_SHARES));
      fs.writeFileSync(path.join(dir, "cgroup.procs"), String(process.pid));
      return new ControllerGroup(dir);
    } catch {
      void removeCgroup(dir, 0);
      return undefined;
    }
  }

  /** Moves this process back to the root group and removes the group once its last process has gone. */
  close(waitMs?: number): Promise<void> {
    fs.writeFileSync(path.join(V1_CPU, "cgroup.procs"), String(process.pid));
    return removeCgroup(this.dir, waitMs);
  }
}
