/**
 * The ssh benchmark's controller group (bench/controllerGroup.ts): the benchmark process joins a cpu
 * cgroup with a high weight once the lab has started, so what it starts next (the provider host, its
 * ssh clients) runs the moment it has work; the lab's sshd, started before, stays in the root group, so
 * the sessions sshd starts (each in a new session, as sshd does) get their own autogroups as before.
 *
 * Real: the kernel's cgroup v1 cpu hierarchy, /proc/<pid>/cgroup, cpu.shares, child processes (node)
 * and a grandchild started in a new session (spawn's `detached`: setsid, as sshd does for every
 * connection). Stands in: a node child plays the lab's sshd, and this jest worker the benchmark
 * process (it joins the group and leaves it again). Runs where the benchmark runs (as root, as CI
 * does here); elsewhere the group cannot be made and the test fails rather than passing on nothing.
 */
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CONTROLLER_SHARES, ControllerGroup, systemScheduling } from "../../bench/controllerGroup";

/** The cpu hierarchy's path of `pid` (cgroup v1 line `N:cpu,...:/path`). */
function cpuGroupOf(pid: number): string | undefined {
  const line = fs
    .readFileSync(`/proc/${pid}/cgroup`, "utf8")
    .split("\n")
    .find((l) => l.split(":")[1]?.split(",").includes("cpu"));
  return line?.split(":")[2];
}

/** A node child standing in for sshd: on a line on stdin it starts a grandchild in a new session and prints its pid. */
function startSshdStandIn(): ChildProcess {
  return spawn(
    process.execPath,
    [
      "-e",
      `process.stdin.once("data", () => {
         const c = require("child_process").spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { detached: true, stdio: "ignore" });
         console.log(c.pid);
       });`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
}

async function startSession(sshd: ChildProcess): Promise<number> {
  const pidLine = new Promise<string>((resolve) => sshd.stdout!.once("data", (d: Buffer) => resolve(d.toString())));
  sshd.stdin!.write("go\n");
  return Number((await pidLine).trim());
}

describe("ControllerGroup", () => {
  it("holds the benchmark and what it starts next, leaves the lab's sshd and its sessions in the root group, and leaves nothing behind", async () => {
    expect(process.getuid?.()).toBe(0);
    const before = cpuGroupOf(process.pid);
    expect(before).toBe("/");
    // The lab starts first, as in the benchmark.
    const sshd: ChildProcess = startSshdStandIn();
    let group: ControllerGroup | undefined;
    let host: ChildProcess | undefined;
    let session: number | undefined;
    try {
      group = ControllerGroup.open();
      expect(group).toBeDefined();
      const leaf = `/${path.basename(group!.dir)}`;
      expect(cpuGroupOf(process.pid)).toBe(leaf);
      expect(Number(fs.readFileSync(path.join(group!.dir, "cpu.shares"), "utf8"))).toBe(CONTROLLER_SHARES);
      // What the benchmark starts next (the provider host) is in the group; the lab's sshd is not.
      host = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
      expect(cpuGroupOf(host.pid!)).toBe(leaf);
      expect(cpuGroupOf(sshd.pid!)).toBe("/");
      // A session the lab's sshd starts now is in the root group too, in a session of its own (its
      // session id is its pid), so it gets an autogroup of its own.
      session = await startSession(sshd);
      expect(Number(fs.readFileSync(`/proc/${session}/stat`, "utf8").split(") ")[1].split(" ")[3])).toBe(session);
      expect(cpuGroupOf(session)).toBe("/");
      expect(cpuGroupOf(host.pid!)).toBe(leaf);
    } finally {
      if (session) process.kill(session, "SIGKILL");
      for (const child of [sshd, host]) {
        if (!child) continue;
        child.kill("SIGKILL");
        if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once("exit", resolve));
      }
      await group?.close();
    }
    // This process is back where it was, and the group is gone.
    expect(cpuGroupOf(process.pid)).toBe(before);
    expect(fs.existsSync(group!.dir)).toBe(false);
  });

  it("names the system's own scheduling when no group is made (autogroup here)", () => {
    const enabled = fs.readFileSync("/proc/sys/kernel/sched_autogroup_enabled", "utf8").trim() === "1";
    expect(systemScheduling()).toBe(enabled ? "a group per session (autogroup)" : "per process");
  });
});
