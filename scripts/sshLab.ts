/**
 * The ssh lab: a real OpenSSH server on the loopback, for the ssh transport tests
 * (test/transports/sshLab.ts re-exports this module) and the fleet benchmark over ssh
 * (bench/sshFleet.ts). It lives outside test/ because the benchmark may not import from test/.
 *
 * Real: Debian's sshd, started by the test as `sshd -D -e -f <temp config>` on a free 127.0.0.1 port
 * with its own host key and authorized_keys in a temp directory (the system sshd and its config are
 * never touched), the `rdstest` account (password in /var/lib/rds-ssh-lab/password), a pwsh that
 * account can run as the `powershell` subsystem, and, on the far side, the WMI emulator (the lab
 * option `emulator: { stateDir }`). test/transports/ssh-lab-setup.sh prepares the machine (as root;
 * `npm test`'s pretest runs it); this module never installs anything, it says what is missing.
 *
 * Everything that makes connections is synchronous (keys, port, config), so suites that build their
 * connections when their module loads can use a lab prepared before they are required; `start()`
 * (async, in a beforeAll) starts sshd and waits for its banner.
 */
import { execFileSync, spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { SshConnection } from "../provider/powershell/transport";

const LAB_STATE = "/var/lib/rds-ssh-lab";
/** The checkout's root: this file is <root>/scripts/sshLab.ts, or <root>/bin/scripts/sshLab.js when built. */
function projectRoot(): string {
  const parts = __dirname.split(path.sep);
  const binAt = parts.lastIndexOf("bin");
  return binAt > 0 && parts[binAt + 1] === "scripts" ? parts.slice(0, binAt).join(path.sep) || path.sep : path.resolve(__dirname, "..");
}
const SETUP_SCRIPT = path.join(projectRoot(), "test", "transports", "ssh-lab-setup.sh");
/** The pwsh the lab account runs (the subsystem's, and the per-command baseline's `ssh ... pwsh`). */
export function labPwshPath(): string {
  return fs.readFileSync(path.join(LAB_STATE, "pwsh"), "utf8").trim();
}
export const LAB_USER = "rdstest";
export const LAB_ADDRESS = "127.0.0.1";

function sshdPath(): string {
  for (const candidate of ["/usr/sbin/sshd", "/usr/bin/sshd"]) if (fs.existsSync(candidate)) return candidate;
  return "sshd";
}

function labReady(): boolean {
  try {
    execFileSync("id", [LAB_USER], { stdio: "ignore" });
  } catch {
    return false;
  }
  return (
    fs.existsSync(sshdPath()) &&
    fs.existsSync(path.join(LAB_STATE, "password")) &&
    fs.existsSync(path.join(LAB_STATE, "pwsh")) &&
    fs.existsSync(fs.readFileSync(path.join(LAB_STATE, "pwsh"), "utf8").trim()) &&
    fs.existsSync("/run/sshd")
  );
}

/** Makes sure the machine is prepared; `npm test` prepares it first (test/prepare.sh), no test installs anything. */
export function ensureLabMachine(): void {
  if (labReady()) return;
  throw new Error(
    `the ssh lab is not prepared: run npm test (its pretest step prepares it as root), or run ${SETUP_SCRIPT} as root once ` +
      `(it installs openssh-server and creates the ${LAB_USER} account)`,
  );
}

/** A free TCP port on 127.0.0.1, found synchronously (a tiny node child binds port 0 and prints the port). */
function freePortSync(): number {
  const out = execFileSync(
    process.execPath,
    [
      "-e",
      "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});",
    ],
    { encoding: "utf8" },
  );
  const port = Number(out.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not find a free port (got ${out})`);
  return port;
}

function keygen(file: string, comment: string): void {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdio: "ignore" });
}

/** Children of a process, from every one of its threads (dotnet starts ssh from a worker thread). */
export function childPidsOf(pid: number): number[] {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/** Every descendant of a process, deepest first. */
function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  for (const child of childPidsOf(pid)) out.push(...descendantsOf(child), child);
  return out;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return "";
  }
}

/** A process that exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export type LabAuth = "key" | "password";

export class SshLab {
  readonly dir: string;
  readonly port: number;
  readonly user = LAB_USER;
  readonly address = LAB_ADDRESS;
  readonly password: string;
  /** The client key rdstest accepts (OpenSSH private key text) and its file. */
  readonly clientKey: string;
  readonly clientKeyFile: string;
  /** A well-formed key rdstest does not accept. */
  readonly strangerKey: string;
  /** The server's host key (`ssh-ed25519 AAAA... comment`). */
  readonly hostKey: string;
  /** Another ed25519 public key: "the host key we expected" when testing a changed key. */
  readonly otherHostKey: string;
  readonly logFile: string;
  private readonly configFile: string;
  private sshd: ChildProcess | undefined;
  private sshdPid: number | undefined;
  private readonly chowned = new Set<string>();
  private readonly uid: number;
  private readonly gid: number;

  constructor() {
    ensureLabMachine();
    this.password = fs.readFileSync(path.join(LAB_STATE, "password"), "utf8").trim();
    const pwsh = fs.readFileSync(path.join(LAB_STATE, "pwsh"), "utf8").trim();
    this.uid = Number(execFileSync("id", ["-u", LAB_USER], { encoding: "utf8" }).trim());
    this.gid = Number(execFileSync("id", ["-g", LAB_USER], { encoding: "utf8" }).trim());
    // sshd reads authorized_keys as the user: the directory must be reachable by rdstest (0755).
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-ssh-lab-"));
    fs.chmodSync(this.dir, 0o755);
    keygen(path.join(this.dir, "ssh_host_ed25519_key"), "rds-lab-host");
    keygen(path.join(this.dir, "client_ed25519"), "rds-lab-client");
    keygen(path.join(this.dir, "stranger_ed25519"), "rds-lab-stranger");
    keygen(path.join(this.dir, "other_host_ed25519"), "rds-lab-other-host");
    this.clientKeyFile = path.join(this.dir, "client_ed25519");
    this.clientKey = fs.readFileSync(this.clientKeyFile, "utf8");
    this.strangerKey = fs.readFileSync(path.join(this.dir, "stranger_ed25519"), "utf8");
    this.hostKey = fs.readFileSync(path.join(this.dir, "ssh_host_ed25519_key.pub"), "utf8").trim();
    this.otherHostKey = fs.readFileSync(path.join(this.dir, "other_host_ed25519.pub"), "utf8").trim();
    fs.writeFileSync(path.join(this.dir, "authorized_keys"), fs.readFileSync(`${this.clientKeyFile}.pub`), { mode: 0o644 });
    this.port = freePortSync();
    this.logFile = path.join(this.dir, "sshd.log");
    this.configFile = path.join(this.dir, "sshd_config");
    fs.writeFileSync(
      this.configFile,
      [
        `Port ${this.port}`,
        `ListenAddress ${LAB_ADDRESS}`,
        `HostKey ${path.join(this.dir, "ssh_host_ed25519_key")}`,
        `PidFile ${path.join(this.dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${path.join(this.dir, "authorized_keys")}`,
        // The lab directory lives under /tmp (world-writable): sshd's ownership check would refuse it.
        "StrictModes no",
        "UsePAM no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication yes",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin no",
        `AllowUsers ${LAB_USER}`,
        "MaxAuthTries 6",
        "MaxStartups 50",
        "LoginGraceTime 60",
        "X11Forwarding no",
        "AllowTcpForwarding no",
        "PrintMotd no",
        "LogLevel VERBOSE",
        `Subsystem powershell ${pwsh} -sshs -NoLogo -NoProfile`,
        "",
      ].join("\n"),
    );
  }

  /** Starts sshd and waits until it answers with its banner. */
  async start(): Promise<void> {
    if (this.sshd !== undefined) return;
    const log = fs.openSync(this.logFile, "a");
    this.sshd = spawn(sshdPath(), ["-D", "-e", "-f", this.configFile], { stdio: ["ignore", "ignore", log] });
    fs.closeSync(log);
    this.sshdPid = this.sshd.pid;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (this.sshd.exitCode !== null) throw new Error(`sshd exited (${this.sshd.exitCode}): ${fs.readFileSync(this.logFile, "utf8")}`);
      if (await this.banner()) return;
      if (Date.now() > deadline)
        throw new Error(`sshd did not answer on ${LAB_ADDRESS}:${this.port}: ${fs.readFileSync(this.logFile, "utf8")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private banner(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: LAB_ADDRESS, port: this.port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(2000, () => done(false));
      socket.once("data", (chunk) => done(chunk.toString().startsWith("SSH-2.0")));
      socket.once("error", () => done(false));
    });
  }

  /**
   * Stops sshd and everything it forked (per-connection sshd processes and the subsystem pwsh
   * processes under them, each by pid, deepest first), and removes the lab directory.
   */
  async stop(): Promise<void> {
    const pid = this.sshdPid;
    if (pid !== undefined) {
      const started = [...descendantsOf(pid), pid];
      for (const each of started) this.signal(each, "SIGTERM");
      const deadline = Date.now() + 5000;
      while (started.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const left of started.filter(isAlive)) this.signal(left, "SIGKILL");
    }
    this.sshd = undefined;
    this.sshdPid = undefined;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private signal(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }

  /** The listening sshd's pid while the lab runs (its descendants are the connections and their pwsh). */
  get listenerPid(): number | undefined {
    return this.sshdPid;
  }

  /** The sshd processes serving one connection each (children of the listening sshd). */
  connectionPids(): number[] {
    return this.sshdPid === undefined ? [] : childPidsOf(this.sshdPid);
  }

  /**
   * The sshd processes serving the connection whose subsystem runs `remotePid`, walking up from it:
   * the unprivileged `sshd: rdstest@notty` (it holds the socket and the subsystem's pipes) first, then
   * the privileged monitor `sshd: rdstest [priv]` (the listener's child).
   */
  sshdServing(remotePid: number): number[] {
    const chain: number[] = [];
    let pid: number | undefined = remotePid;
    for (let hops = 0; pid !== undefined && pid > 1 && hops < 10; hops++) {
      const parent = parentOf(pid);
      if (parent === undefined) return [];
      if (commandOf(parent).startsWith("sshd:")) chain.push(parent);
      if (parent === this.sshdPid) return chain.filter((p) => p !== this.sshdPid);
      pid = parent;
    }
    return [];
  }

  /** Lines of the sshd log that accepted a login of the lab user (one per connection). */
  acceptedLogins(): string[] {
    if (!fs.existsSync(this.logFile)) return [];
    return fs
      .readFileSync(this.logFile, "utf8")
      .split("\n")
      .filter((line) => /Accepted (publickey|password|keyboard-interactive\S*) for /.test(line) && line.includes(` for ${LAB_USER} `));
  }

  /** Gives a (local) state directory to the lab account, which writes it from the far side. */
  shareStateDir(stateDir: string): void {
    if (this.chowned.has(stateDir)) return;
    fs.mkdirSync(stateDir, { recursive: true });
    fs.chownSync(stateDir, this.uid, this.gid);
    this.chowned.add(stateDir);
  }

  /** An ssh connection to the lab for `host` on the far side's emulator, state in `stateDir`. */
  connection(host: string, stateDir: string, auth: LabAuth, extra: Partial<SshConnection> = {}): SshConnection {
    this.shareStateDir(stateDir);
    const base: SshConnection = {
      transport: "ssh",
      host,
      address: LAB_ADDRESS,
      port: this.port,
      user: LAB_USER,
      hostKey: this.hostKey,
      emulator: { stateDir },
    };
    const credentials = auth === "key" ? { privateKey: this.clientKey } : { password: this.password };
    // The exec channel starts the lab's pwsh by its path (the lab account's PATH does not have it);
    // a connection on the subsystem channel runs what the lab's sshd_config names instead.
    const subsystemChannel = extra.channel === "subsystem" || (extra.channel === undefined && extra.subsystem !== undefined);
    const shell = subsystemChannel ? {} : { shell: labPwshPath() };
    return { ...base, ...shell, ...credentials, ...extra } as SshConnection;
  }
}
