/**
 * No key, askpass secret or ssh client left behind when the provider host dies while it connects
 * with an inline private key (issue 16): SIGTERM 10 times, SIGKILL 10 times, each in the middle of a
 * login (the ssh client connected to a server that never answers, the key copy on disk).
 *
 * Each kill signals the host PROCESS only (not its group, as hostProcess.ts's own kill would): what
 * the host, its pwsh and its ssh client do about it is what is measured. Counted twice:
 * - right after the host has exited: connect folders (rds-remote-<pid>-*) and the key / askpass files
 *   in them, and which of the pwsh, ssh watchdog and ssh client processes seen before the kill still
 *   run;
 * - settled: once those processes are gone, and after the next start of a provider host (a `check`
 *   loads the transports, which sweep the folders of providers that are gone).
 * The connection uses the default exec channel: the host starts the ssh client itself, through the
 * ssh watchdog (RdsRemoting/ssh-watchdog.sh). SIGTERM: the host's own handlers kill the client and
 * remove the folders before it exits. SIGKILL: nothing in the host runs; the watchdog ends the
 * client once the host is gone, and the folder is left until the next start sweeps it. The numbers
 * are printed for the report.
 *
 * Real: the dynamic-provider host process (engine/hostProcess.ts) with the built provider (bin/),
 * its runner and pool, the ssh watchdog and the OpenSSH client. Stands in: the
 * target, by a TCP server of this file that accepts and never sends the SSH banner (so every kill
 * lands while ssh waits in its login, without timing); the key, by one ssh-keygen made here.
 * Only what this file started is counted (its own TMPDIR for the hosts; process trees of its hosts).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { SshConnection } from "../../provider/powershell/transport";
import { RdsLicenseServer } from "../../provider/resources/licenseServer/resource";
import { captureProvider } from "../helpers/captureProvider";
import { pwshExecutable } from "../helpers/pwshSession";
import { assertBuilt, makeUrn, startProviderHost, type ProviderHost } from "../helpers/providerHost";
import { childPidsOf, isAlive } from "./sshLab";

jest.setTimeout(900_000);

const KILLS_PER_SIGNAL = Number(process.env.RDS_KILLS ?? 10);
const TYPE = "pulumi-nodejs:dynamic/rds:LicenseServer";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rds-ssh-kill-"));
/** The TMPDIR of every host this file starts: what is left there is theirs. */
const hostTmp = path.join(work, "tmp");
fs.mkdirSync(hostTmp, { mode: 0o700 });
const keyFile = path.join(work, "id_ed25519");
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "rds-kill-test", "-f", keyFile], { stdio: "ignore" });
const privateKey = fs.readFileSync(keyFile, "utf8");
const hostKey = fs.readFileSync(`${keyFile}.pub`, "utf8").trim();

/** Accepts TCP connections and never answers: an ssh client connected here waits in its login. */
const silentSockets = new Set<net.Socket>();
let connectionsSeen = 0;
const silent = net.createServer((socket) => {
  connectionsSeen++;
  silentSockets.add(socket);
  socket.on("error", () => undefined);
  socket.on("close", () => silentSockets.delete(socket));
});
let providerCode = "";

beforeAll(async () => {
  assertBuilt(["provider/resources/licenseServer", "provider/shim.ts", "provider/powershell"]);
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const captured = await captureProvider(
    () =>
      new RdsLicenseServer("ls", {
        connection: { transport: "simulator", host: "x" },
        contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso Ltd", countryRegion: "United Kingdom" },
        activation: { method: "automatic" },
      }),
  );
  providerCode = captured.provider;
}, 120_000);

afterAll(async () => {
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  fs.rmSync(work, { recursive: true, force: true });
});

function connection(): SshConnection {
  return {
    transport: "ssh",
    host: "ls-kill.contoso.com",
    address: "127.0.0.1",
    port: (silent.address() as net.AddressInfo).port,
    user: "rdsadmin",
    privateKey,
    hostKey,
    connectTimeoutSeconds: 300,
    connectAttempts: 1,
  };
}

function startHost(): Promise<ProviderHost> {
  return startProviderHost({ env: { TMPDIR: hostTmp, RDS_PWSH: pwshExecutable(), RDS_SIM_WORKERS: "0" } });
}

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((name) => {
    try {
      return fs.lstatSync(path.join(dir, name)).isFile();
    } catch {
      return false;
    }
  });
}

/** What the hosts left in their TMPDIR that this change is about: connect folders, and key / askpass files in them. */
function connectLeftovers(): { folders: string[]; secrets: string[] } {
  const folders = fs.readdirSync(hostTmp).filter((name) => name.startsWith("rds-remote-"));
  const secrets = folders.flatMap((folder) =>
    filesUnder(path.join(hostTmp, folder)).filter((file) => /(^|\/)(identity|askpass[^/]*)$/.test(file)),
  );
  return { folders, secrets };
}

function commandOf(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

function descendantsOf(pid: number): number[] {
  return childPidsOf(pid).flatMap((child) => [child, ...descendantsOf(child)]);
}

interface Tree {
  pwsh: number[];
  sshWatchdogs: number[];
  sshClients: number[];
}

/** The host's pwsh, ssh watchdog and ssh client processes. */
function processTree(hostPid: number): Tree {
  const tree: Tree = { pwsh: [], sshWatchdogs: [], sshClients: [] };
  for (const pid of descendantsOf(hostPid)) {
    const argv = commandOf(pid);
    if (argv.length === 0) continue;
    if (path.basename(argv[0]) === "ssh") tree.sshClients.push(pid);
    // The watchdog: the subsystem channel's copy is named ssh; the exec channel runs ssh-watchdog.sh.
    else if (argv.length > 1 && /^ssh(-watchdog\.sh)?$/.test(path.basename(argv[1])) && /sh$/.test(path.basename(argv[0])))
      tree.sshWatchdogs.push(pid);
    else if (argv.some((a) => /pwsh/.test(path.basename(a)))) tree.pwsh.push(pid);
  }
  return tree;
}

async function until(what: string, done: () => boolean, polls = 6000): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

interface Measure {
  atExit: { folders: number; secrets: number; pwsh: number; sshWatchdogs: number; sshClients: number };
  settled: { folders: number; secrets: number; processes: number };
}

/** One kill in the middle of a login with an inline key; what is left right after and once settled. */
async function killWhileConnecting(signal: "SIGTERM" | "SIGKILL"): Promise<Measure> {
  const host = await startHost();
  const seenBefore = connectionsSeen;
  const c = connection();
  const read = host
    .read({ urn: makeUrn(TYPE, "ls-kill"), id: c.host, properties: { connection: c, __provider: providerCode } })
    .catch(() => undefined);
  // The ssh client has connected (so the key copy is on disk and ssh is in its login).
  await until("the ssh client to connect", () => connectionsSeen > seenBefore);
  const tree = processTree(host.pid);
  expect(tree.sshClients.length).toBe(1);
  expect(connectLeftovers().secrets.length).toBeGreaterThan(0);

  process.kill(host.pid, signal);
  await until("the host to exit", () => !host.running);
  const alive = (pids: number[]) => pids.filter(isAlive).length;
  const left = connectLeftovers();
  const atExit = {
    folders: left.folders.length,
    secrets: left.secrets.length,
    pwsh: alive(tree.pwsh),
    sshWatchdogs: alive(tree.sshWatchdogs),
    sshClients: alive(tree.sshClients),
  };
  await read;
  const all = [...tree.pwsh, ...tree.sshWatchdogs, ...tree.sshClients];
  // Measured while the silent server still holds every connection open: the clients must end
  // because their pwsh is gone, not because the server hung up.
  await until("the host's pwsh and ssh processes to end", () => alive(all) === 0, 3000).catch(() => undefined);
  const processesLeft = alive(all);
  for (const socket of silentSockets) socket.destroy();
  // The next start: a fresh host whose check loads the transports (the sweep).
  const next = await startHost();
  try {
    await next.check({ urn: makeUrn(TYPE, "ls-kill"), olds: {}, news: { connection: c, __provider: providerCode } }).catch(() => undefined);
  } finally {
    await next.close();
  }
  const settledLeft = connectLeftovers();
  return { atExit, settled: { folders: settledLeft.folders.length, secrets: settledLeft.secrets.length, processes: processesLeft } };
}

describe.each(["SIGTERM", "SIGKILL"] as const)("the provider host gets %s while it connects with an inline key", (signal) => {
  test(`${KILLS_PER_SIGNAL} times: no key file, askpass or ssh process left`, async () => {
    const measures: Measure[] = [];
    for (let i = 0; i < KILLS_PER_SIGNAL; i++) measures.push(await killWhileConnecting(signal));
    const sum = (pick: (m: Measure) => number) => measures.reduce((total, m) => total + pick(m), 0);
    const report = {
      signal,
      kills: measures.length,
      rightAfterExit: {
        connectFolders: sum((m) => m.atExit.folders),
        keyOrAskpassFiles: sum((m) => m.atExit.secrets),
        pwsh: sum((m) => m.atExit.pwsh),
        sshWatchdogs: sum((m) => m.atExit.sshWatchdogs),
        sshClients: sum((m) => m.atExit.sshClients),
      },
      afterNextStart: {
        connectFolders: sum((m) => m.settled.folders),
        keyOrAskpassFiles: sum((m) => m.settled.secrets),
        processes: sum((m) => m.settled.processes),
      },
    };
    process.stdout.write(`ssh kill report: ${JSON.stringify(report)}\n`);
    expect(report.afterNextStart).toEqual({ connectFolders: 0, keyOrAskpassFiles: 0, processes: 0 });
    if (signal === "SIGTERM") {
      // The host's own handlers ran: nothing on disk even right after it exited.
      expect(report.rightAfterExit.connectFolders).toBe(0);
      expect(report.rightAfterExit.keyOrAskpassFiles).toBe(0);
    }
  });
});
