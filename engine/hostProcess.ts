/**
 * Starting and stopping the REAL dynamic-provider host shipped in @pulumi/pulumi
 * (`node <cwd>/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js`), as the Pulumi CLI launches
 * it: with the program directory as cwd (the host resolves `require()` from there), the project, stack
 * and config in its environment, and its gRPC port read from the first line it prints.
 *
 * Each host runs in its own process group, so a kill takes whatever it started (pwsh) with it. Every
 * host started is tracked: `stopAllHosts` stops those still running, and they are killed on exit.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { packageRoot } from "../provider/paths";
import { containsSecrets, stripSecrets, type Props } from "./secrets";

/** The project root (where package.json and node_modules are). */
export const PROJECT_ROOT = packageRoot();

export interface HostOptions {
  /** Program directory: the host's cwd; `@pulumi/pulumi` and the provider modules must resolve from it. Default: the project root. */
  cwd?: string;
  /** Default "proj" (PULUMI_NODEJS_PROJECT, PULUMI_PROJECT). */
  project?: string;
  /** Default "stack" (PULUMI_NODEJS_STACK). */
  stack?: string;
  /** Stack config, namespaced keys ("proj:key"); values may be `secret(...)`. Sent in PULUMI_CONFIG and by `configure()`. */
  config?: Props;
  /** Extra environment for the host (e.g. RDS_SIM_STATE_DIR). */
  env?: Record<string, string | undefined>;
  /** How long to wait for the port line. Default 30 s. */
  startTimeoutMs?: number;
  /** Deadline of each RPC. Default 120 s. */
  callTimeoutMs?: number;
  /** Copy the host's stderr to this process's stderr as it arrives. Default: env HARNESS_HOST_LOG=1. */
  echoStderr?: boolean;
  /**
   * Called with each complete line of the host's stderr as it arrives (without its newline): the
   * Pulumi CLI shows each such line as an info diagnostic of the update, the bundled harness forwards
   * the provider's progress lines (`[rds] …`, provider/progress.ts) the same way.
   */
  onStderrLine?: (line: string) => void;
}

const liveHosts = new Set<HostProcess>();
const startedPids: number[] = [];

/** PIDs (= process group ids) of every host started by this module, running or not. */
export function startedHostPids(): readonly number[] {
  return startedPids;
}

/** True while any process of the group `pgid` exists. */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Stops every host this module started and still running. */
export async function stopAllHosts(): Promise<void> {
  await Promise.all([...liveHosts].map((h) => h.close()));
}

process.once("exit", () => {
  for (const h of liveHosts) h.killSync();
});

/** One host process at a time; `start` again after it stopped starts a fresh one (new pid, port). */
export class HostProcess {
  pid = 0;
  port = 0;
  private closed: Promise<void> = Promise.resolve();
  private exited = true;
  private stderrText = "";

  constructor(private readonly options: HostOptions) {}

  get running(): boolean {
    return !this.exited;
  }

  /** What the current process printed on stderr (last 64 KB). */
  stderr(): string {
    return this.stderrText;
  }

  /** Spawns the host and resolves with its port once it printed it. */
  async start(): Promise<number> {
    const cwd = this.options.cwd ?? PROJECT_ROOT;
    const script = path.join(cwd, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
    if (!fs.existsSync(script)) throw new Error(`no dynamic-provider host at ${script}: is ${cwd} a program directory?`);
    const project = this.options.project ?? "proj";
    const config = this.options.config ?? {};
    const plainConfig = Object.fromEntries(
      Object.entries(stripSecrets(config)).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_NODEJS_PROJECT: project,
      PULUMI_PROJECT: project,
      PULUMI_NODEJS_STACK: this.options.stack ?? "stack",
      PULUMI_CONFIG: JSON.stringify(plainConfig),
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(Object.keys(config).filter((k) => containsSecrets(config[k]))),
      ...this.options.env,
    };
    const child = spawn(process.execPath, [script, "127.0.0.1:0"], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = false;
    this.stderrText = "";
    this.pid = child.pid ?? 0;
    if (!this.pid) throw new Error("could not spawn the dynamic-provider host");
    startedPids.push(this.pid);
    liveHosts.add(this);
    this.closed = new Promise((resolve) =>
      child.once("close", () => {
        this.exited = true;
        liveHosts.delete(this);
        resolve();
      }),
    );
    const echo = this.options.echoStderr ?? process.env.HARNESS_HOST_LOG === "1";
    const onLine = this.options.onStderrLine;
    let partialLine = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      this.stderrText = (this.stderrText + d).slice(-65536);
      if (echo) process.stderr.write(`[host ${this.pid}] ${d}`);
      if (!onLine) return;
      const lines = (partialLine + d).split(/\r?\n/);
      partialLine = lines.pop() ?? "";
      for (const line of lines) {
        try {
          onLine(line);
        } catch {
          // a failing listener must not stop the host's stderr from being read
        }
      }
    });
    const timeoutMs = this.options.startTimeoutMs ?? 30_000;
    this.port = await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => fail(new Error(`host ${this.pid} printed no port within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(new Error(`${e.message}\nstderr: ${this.stderrText}`));
      };
      const onData = (d: string) => {
        out += d;
        const nl = out.indexOf("\n");
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.stdout!.resume(); // keep draining anything the provider prints later
        const port = Number(out.slice(0, nl).trim());
        if (Number.isInteger(port) && port > 0) resolve(port);
        else fail(new Error(`host ${this.pid} printed "${out.slice(0, nl)}" instead of a port`));
      };
      child.stdout!.setEncoding("utf8").on("data", onData);
      child.once("close", (code, signal) =>
        fail(new Error(`host ${this.pid} exited (code ${code}, signal ${signal}) before printing its port`)),
      );
    }).catch(async (e) => {
      await this.kill("SIGKILL");
      throw e;
    });
    return this.port;
  }

  /** Signals the whole process group and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (this.exited) return;
    try {
      process.kill(-this.pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
    await this.closed;
  }

  killSync(): void {
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async close(): Promise<void> {
    const timer = setTimeout(() => this.killSync(), 5000);
    try {
      await this.kill("SIGTERM");
    } finally {
      clearTimeout(timer);
    }
  }
}
