/**
 * The codes every resource passes through from below it (the transports' and the runner's), provoked
 * through the REAL dynamic-provider host for each of the three resources: one read RPC per resource
 * and code, the user's message naming the host and ending with `[THAT_CODE]`, said once.
 * Which codes this file covers, and the one it cannot: passThroughCodes.ts.
 *
 * Real: the dynamic-provider host process and gRPC, the built provider (bin/) loaded through the
 * `__provider` string the SDK registers for each resource, the runner, its pool and pwsh, the ssh
 * client, a Debian sshd on 127.0.0.1 (test/transports/sshLab.ts: its own host key, the `rdstest`
 * account, pwsh as the `powershell` subsystem), name resolution, TCP.
 * Stands in: the engine (each case is the raw read RPC it would send); Windows, by the WMI emulator
 * (on the far side of ssh, or the simulator); a port where nothing listens and a listener that
 * accepts and never answers, both opened here; for RDS_INVALID_RESULT, a second host started on a copy
 * of the package whose three get.ps1 print a result their schemas refuse (the host resolves the
 * provider from its program directory, the provider its scripts from its own package root: nothing in
 * the product is switched for the test).
 * Every remote connection has connectAttempts 1, so no case waits on a retry's backoff. For a connect
 * that fails, the three resources' reads go at once and share the one failed connect, as they would in a
 * refresh (the pool's rule, tested in process in test/powershell/pool.fast.test.ts).
 */
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PASSED_THROUGH_CODES, type ErrorCode } from "../../provider/errors";
import { closeAll } from "../../provider/powershell/pool";
import type { Connection, SshConnection } from "../../provider/powershell/transport";
import { RdsCalPack } from "../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../provider/resources/licenseServer/resource";
import { RdsSessionHostLicensing } from "../../provider/resources/sessionHostLicensing/resource";
import { captureProvider, captureRegistrations } from "../helpers/captureProvider";
import {
  assertBuilt,
  HostRpcError,
  makeUrn,
  PROJECT_ROOT,
  startProviderHost,
  type ProviderHost,
  type Props,
} from "../helpers/providerHost";
import { childPidsOf, SshLab } from "../transports/sshLab";
import { pwshExecutable } from "../helpers/pwshSession";
import { simAdmin } from "./licenseServer/simAdmin";
import { NOT_PROVOKED_ON_THIS_MACHINE, PROVOKED_FOR_EVERY_RESOURCE } from "./passThroughCodes";

jest.setTimeout(120_000);

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rds-pass-through-"));
/** The emulator's state directory of every simulator and ssh case (each case its own emulated hosts). */
const stateDir = path.join(work, "state");
// The lab account writes stateDir from the far side of ssh: it must be able to reach it.
fs.chmodSync(work, 0o755);
const lab = new SshLab();

/** What the three resources share here: how the engine would read one, given a connection. */
interface Resource {
  readonly name: string;
  readonly type: string;
  providerCode: unknown;
  /** The id and state of a read, as the engine sends them (the connection is what matters). */
  readonly state: (connection: Connection) => { id: string; properties: Props };
}

const RESOURCES: Resource[] = [
  {
    name: "licenseServer",
    type: "pulumi-nodejs:dynamic/rds:LicenseServer",
    providerCode: undefined,
    state: (connection) => ({ id: connection.host, properties: { connection } }),
  },
  {
    name: "sessionHostLicensing",
    type: "pulumi-nodejs:dynamic/rds:SessionHostLicensing",
    providerCode: undefined,
    state: (connection) => ({
      id: `sessionHost:${connection.host}`,
      properties: { connection, scope: "sessionHost", mode: "perDevice", licenseServers: ["ls01.contoso.com"], resetOnDelete: false },
    }),
  },
  {
    name: "calPack",
    type: "pulumi-nodejs:dynamic/rds:CalPack",
    providerCode: undefined,
    state: (connection) => ({
      id: "7",
      properties: {
        connection,
        licenseServerName: "LS",
        journalKey: "proj/stack/pass-through",
        program: "spla",
        agreementNumber: "1234567",
        productVersion: "2022",
        calType: "perDevice",
        quantity: 5,
        keyPackId: 7,
        totalLicenses: 5,
      },
    }),
  },
];

let host: ProviderHost;
/** A host on the copy of the package whose get.ps1 scripts print results their schemas refuse. */
let brokenHost: ProviderHost;
let closedPort: number;
/** Accepts TCP connections and never sends the SSH banner. */
let silent: net.Server;
const silentSockets = new Set<net.Socket>();

/** The message the user sees for a read that fails (a read never records a partial failure). */
async function readFailure(on: ProviderHost, resource: Resource, connection: Connection): Promise<string> {
  const { id, properties } = resource.state(connection);
  const urn = makeUrn(resource.type, `${resource.name}-pass-through`);
  const err = await on.read({ urn, id, properties: { ...properties, __provider: resource.providerCode } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof HostRpcError)) throw new Error(`expected the read of ${resource.name} to fail, got ${String(err)}`);
  return err.details;
}

/** A lab connection with one connect attempt (no backoff); `hostName` is what messages name. */
function labConnection(hostName: string, extra: Partial<SshConnection> = {}): SshConnection {
  return lab.connection(hostName, stateDir, "key", { connectAttempts: 1, ...extra });
}

/** A free port nothing listens on (bound, then closed). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A program directory whose `pulumi-rds-licensing` is a copy of this package (package.json, the built
 * bin/provider, the provider/ folder with its scripts), `@pulumi` and the package's own dependencies
 * linked to this project's node_modules. In the copy, each resource's get.ps1 prints a text where its
 * schema wants an object: the read's result is refused, as a broken script's would be.
 */
function programWithBrokenReads(): string {
  const program = path.join(work, "program");
  const pkg = path.join(program, "node_modules", "pulumi-rds-licensing");
  fs.mkdirSync(pkg, { recursive: true });
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules", "@pulumi"), path.join(program, "node_modules", "@pulumi"));
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(pkg, "node_modules"));
  fs.copyFileSync(path.join(PROJECT_ROOT, "package.json"), path.join(pkg, "package.json"));
  fs.cpSync(path.join(PROJECT_ROOT, "bin", "provider"), path.join(pkg, "bin", "provider"), { recursive: true });
  fs.cpSync(path.join(PROJECT_ROOT, "provider"), path.join(pkg, "provider"), { recursive: true });
  const broken = [
    "param([Parameter(Mandatory)][string]$Envelope)",
    "# A broken read: a text where the resource's schema wants the live state object.",
    "Write-RdsResult 'not the live state'",
    "",
  ].join("\n");
  for (const r of RESOURCES) fs.writeFileSync(path.join(pkg, "provider", "resources", r.name, "get.ps1"), broken);
  return program;
}

beforeAll(async () => {
  assertBuilt(["provider/resources", "provider/errors.ts", "provider/powershell", "provider/shim.ts"]);
  fs.mkdirSync(stateDir);
  fs.writeFileSync(path.join(work, "a-file"), "");
  const ls = await captureProvider(
    () =>
      new RdsLicenseServer("ls", {
        connection: { transport: "simulator", host: "x" },
        contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso Ltd", countryRegion: "United Kingdom" },
        activation: { method: "automatic" },
      }),
  );
  const sh = await captureProvider(
    () =>
      new RdsSessionHostLicensing("sh", { connection: { transport: "simulator", host: "x" }, mode: "perDevice", licenseServers: ["ls01"] }),
  );
  const [cp] = await captureRegistrations(
    () =>
      new RdsCalPack("cp", {
        licenseServer: { connection: pulumi.output({ transport: "simulator" as const, host: "x" }), serverName: pulumi.output("LS") },
        program: "spla",
        agreementNumber: "1234567",
        productVersion: "2022",
        calType: "perDevice",
        quantity: 1,
      }),
  );
  [RESOURCES[0].providerCode, RESOURCES[1].providerCode, RESOURCES[2].providerCode] = [ls.provider, sh.provider, cp.inputs.__provider];
  closedPort = await freePort();
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on("close", () => silentSockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  // One pwsh per simulator target (as for remote ones), not a group of shared workers: fewer to start.
  // RDS_PWSH: the broken copy of the package lives outside this checkout, so its lookup would not see
  // the checkout's .tools/pwsh (npm test's install on a machine without pwsh): name the suite's pwsh.
  const env = { RDS_SIM_WORKERS: "0", RDS_PWSH: pwshExecutable() };
  [host, brokenHost] = await Promise.all([
    startProviderHost({ env }),
    startProviderHost({ cwd: programWithBrokenReads(), env }),
    lab.start(),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([host?.close(), brokenHost?.close()]);
  await closeAll();
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
  await lab.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Stops every sshd process serving a connection of this file's lab (children of its sshd), deepest first. */
function dropLabConnections(): number {
  const serving = (pid: number): number[] => [...childPidsOf(pid).flatMap(serving), pid];
  const pids = lab.connectionPids().flatMap(serving);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  return pids.length;
}

/** Lines of the call log of the emulated host lost.contoso.com (one per emulated cmdlet call; the emulator names the file by the hex of the host name). */
function callLogLines(): number {
  const log = path.join(stateDir, "hosts", `${Buffer.from("lost.contoso.com", "utf8").toString("hex")}.calls.jsonl`);
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0;
}

async function until(what: string, done: () => boolean): Promise<void> {
  for (let polls = 0; polls < 2000; polls++) {
    if (done()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

interface Case {
  /** The host name the message must name. */
  readonly host: string;
  /** The user's message for one resource. */
  readonly provoke: (resource: Resource) => Promise<string>;
  /** What the message says besides the code (so the right failure was provoked). */
  readonly says: RegExp;
  /**
   * A connect that fails: the three resources' reads are sent at once, as a refresh sends them, and
   * share the one failed connect (the pool fails what is queued behind it with the same error).
   */
  readonly connectFails?: true;
}

/** How long each emulated call on lost.contoso.com takes, so that a read is still running when its connection drops. */
const LATENCY_MS = 600;

/** Each code, provoked for one resource at a time through a read. */
const CASES: Partial<Record<ErrorCode, Case>> = {
  RDS_NAME_NOT_RESOLVED: {
    connectFails: true,
    host: "ls01.contoso.com",
    provoke: (r) => readFailure(host, r, labConnection("ls01.contoso.com", { address: "no-such-host.invalid" })),
    says: /the name no-such-host\.invalid does not resolve/,
  },
  RDS_PORT_CLOSED: {
    connectFails: true,
    host: "ls01.contoso.com",
    provoke: (r) => readFailure(host, r, labConnection("ls01.contoso.com", { port: closedPort })),
    says: /nothing accepts connections on 127\.0\.0\.1:\d+/,
  },
  RDS_CONNECT_TIMEOUT: {
    connectFails: true,
    host: "ls01.contoso.com",
    provoke: (r) =>
      readFailure(
        host,
        r,
        labConnection("ls01.contoso.com", { port: (silent.address() as net.AddressInfo).port, connectTimeoutSeconds: 1 }),
      ),
    says: /no answer from 127\.0\.0\.1:\d+ in time/,
  },
  RDS_AUTH_REFUSED: {
    connectFails: true,
    host: "ls01.contoso.com",
    provoke: (r) =>
      readFailure(host, r, lab.connection("ls01.contoso.com", stateDir, "password", { password: "not-it", connectAttempts: 1 })),
    says: /the target refused the login of rdstest/,
  },
  RDS_HOST_KEY_UNKNOWN: {
    connectFails: true,
    host: "ls01.contoso.com",
    provoke: (r) => {
      const knownHosts = path.join(work, "known_hosts");
      fs.writeFileSync(knownHosts, "");
      return readFailure(host, r, labConnection("ls01.contoso.com", { hostKey: undefined, knownHostsFile: knownHosts }));
    },
    says: /is not known: pin it with hostKey/,
  },
  RDS_HOST_KEY_CHANGED: {
    connectFails: true,
    host: "ls01.contoso.com",
    provoke: (r) => readFailure(host, r, labConnection("ls01.contoso.com", { hostKey: lab.otherHostKey })),
    says: /is not the one known for it/,
  },
  RDS_REMOTING_NOT_ENABLED: {
    connectFails: true,
    host: "ls01.contoso.com",
    provoke: (r) => readFailure(host, r, labConnection("ls01.contoso.com", { subsystem: "no-such-subsystem" })),
    says: /has no "no-such-subsystem" subsystem/,
  },
  // The session is warm; the emulated host then answers every call after LATENCY_MS, and the read's
  // connection is dropped (its sshd processes killed) once the read's first call reached the emulator.
  RDS_CONNECTION_LOST: {
    host: "lost.contoso.com",
    provoke: async (r) => {
      const before = callLogLines();
      const reading = readFailure(host, r, labConnection("lost.contoso.com"));
      await until("the read to reach the emulator on the far side", () => callLogLines() > before);
      expect(dropLabConnections()).toBeGreaterThan(0);
      return reading;
    },
    says: /the connection to the target dropped while the operation was running/,
  },
  RDS_TRANSPORT_UNAVAILABLE: {
    host: "ls01.contoso.com",
    provoke: (r) => readFailure(host, r, { transport: "local", host: "ls01.contoso.com", shell: "powershell" }),
    says: /Windows PowerShell \(powershell\.exe\) exists only on Windows/,
  },
  // The simulator's state directory cannot be created (under a file): the target's pwsh never starts.
  RDS_HOST_UNREACHABLE: {
    host: "unreachable.contoso.com",
    provoke: (r) =>
      readFailure(host, r, { transport: "simulator", host: "unreachable.contoso.com", stateDir: path.join(work, "a-file", "state") }),
    says: /starting pwsh for unreachable\.contoso\.com/,
  },
  // Local, without the emulator: this Linux machine has none of the Windows cmdlets the scripts call.
  RDS_SCRIPT_ERROR: {
    host: "this-box.contoso.com",
    provoke: (r) => readFailure(host, r, { transport: "local", host: "this-box.contoso.com" }),
    says: /Get-CimInstance|Get-WindowsFeature|Get-Service|not recognized/,
  },
  RDS_INVALID_RESULT: {
    host: "broken.contoso.com",
    provoke: (r) => readFailure(brokenHost, r, { transport: "simulator", host: "broken.contoso.com", stateDir }),
    says: /the result does not match the expected shape: result: .*expected object, received string/,
  },
};

test("the cases are the codes passThroughCodes.ts says this file provokes; with its exceptions, every pass-through code", () => {
  expect(Object.keys(CASES).sort()).toEqual([...PROVOKED_FOR_EVERY_RESOURCE].sort());
  const covered = new Set([...Object.keys(CASES), ...Object.keys(NOT_PROVOKED_ON_THIS_MACHINE)]);
  // The rest (WMI errors, access denied, class not ready, timeouts, RDS_INTERNAL) need each resource's own emulator faults or states.
  expect(PASSED_THROUGH_CODES.filter((code) => !covered.has(code)).sort()).toEqual([
    "RDS_ACCESS_DENIED",
    "RDS_CLASS_NOT_READY",
    "RDS_INTERNAL",
    "RDS_TIMEOUT",
    "RDS_WMI_ERROR",
  ]);
});

describe.each(Object.entries(CASES))("%s", (code, c) => {
  if (code === "RDS_CONNECTION_LOST") {
    beforeAll(async () => {
      // A read that succeeds opens the session (and creates the emulated host as the lab account), then
      // the administrator (this process, on the same state) slows that host down.
      const [ls] = RESOURCES;
      const warm = ls.state(labConnection("lost.contoso.com"));
      await host.read({ urn: makeUrn(ls.type, "warm"), id: warm.id, properties: { ...warm.properties, __provider: ls.providerCode } });
      await simAdmin({ transport: "simulator", host: "lost.contoso.com", stateDir }).fault("latencyMs", LATENCY_MS);
    });
  }

  let sentTogether: Map<string, Promise<string>> | undefined;
  if (c!.connectFails) {
    beforeAll(() => {
      sentTogether = new Map(RESOURCES.map((r) => [r.name, c!.provoke(r)]));
    });
  }

  test.each(RESOURCES.map((r) => [r.name, r] as const))("%s: the message names the host and ends with the code, once", async (_name, r) => {
    const message = await (sentTogether?.get(r.name) ?? c!.provoke(r));
    expect(message).toMatch(c!.says);
    expect(message).toContain(` on ${c!.host}: `);
    expect(message.endsWith(`[${code}]`)).toBe(true);
    expect(message.split(`[${code}]`)).toHaveLength(2);
  });
});
