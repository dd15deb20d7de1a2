/**
 * Every code RdsLicenseServer can raise (messages.ts ERROR_CODES) reaches the user at the end
 * of the message (`... [RDS_…]`): only the message crosses the dynamic-provider host to the engine.
 * The codes every resource passes through from the transports and the runner without an emulator fault
 * of its own (RDS_PORT_CLOSED, RDS_INVALID_RESULT, ...) are provoked for this resource too, through the
 * real host, in test/resources/passThroughCodes.test.ts; this file provokes the rest.
 *
 * What is real: the Pulumi dynamic-provider host process and gRPC, the built provider code in bin/
 * loaded through the `__provider` string the SDK registers for `new RdsLicenseServer(...)`, the runner
 * and its pwsh inside the host, every operation script. One host and one simulator state directory
 * serve every case; each case resets the emulated host it uses.
 * What stands in: the engine (the calls are made to the host directly, as the engine would make them,
 * so that even inputs check would refuse reach create); Windows and the Clearinghouse (the WMI
 * emulator, its faults set through fixtures/SimAdmin.ps1). The host runs with a short
 * RDS_OPERATION_TIMEOUT_MS (TIMEOUT_MS: every other call takes well under it) so that a hung call times
 * out quickly; the hang (latencyMs) is three times that, so the timeout never depends on machine speed;
 * with RDS_SIM_WORKERS=0 (one pwsh for the one emulated host the cases use); and with a TMPDIR of its
 * own, so that RDS_INTERNAL can come from that TMPDIR turned into a file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ErrorCode } from "../../../provider/errors";
import { closeAll } from "../../../provider/powershell/pool";
import type { SimulatorConnection } from "../../../provider/powershell/transport";
import { ERROR_CODES } from "../../../provider/resources/licenseServer/messages";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { captureProvider } from "../../helpers/captureProvider";
import { assertBuilt, HostRpcError, makeUrn, startProviderHost, type ProviderHost, type Props } from "../../helpers/providerHost";
import { NOT_PROVOKED_ON_THIS_MACHINE, PROVOKED_FOR_EVERY_RESOURCE } from "../passThroughCodes";
import { simAdmin } from "./simAdmin";

jest.setTimeout(300_000);

/** The host's operation timeout; the RDS_TIMEOUT case hangs every emulated call for three times as long. */
const TIMEOUT_MS = 2000;

const TYPE = "pulumi-nodejs:dynamic/rds:LicenseServer";
const URN = makeUrn(TYPE, "ls");
/** The emulated host of every case but one: each case starts it afresh (one warm pwsh serves them all). */
const HOST = "codes.test";
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ls-codes-"));
/** The host's TMPDIR: where it makes its private envelope directory (provider/powershell/envelope.ts). */
const hostTmp = fs.mkdtempSync(path.join(os.tmpdir(), "ls-codes-tmp-"));
const CONTACT = { firstName: "Ada", lastName: "Lovelace", company: "Contoso Ltd", countryRegion: "United Kingdom" };
let host: ProviderHost;
let providerCode: string;

beforeAll(async () => {
  assertBuilt(["provider/resources/licenseServer", "provider/resources/kit.ts", "provider/shim.ts", "provider/powershell"]);
  host = await startProviderHost({
    env: { RDS_SIM_STATE_DIR: stateDir, RDS_OPERATION_TIMEOUT_MS: String(TIMEOUT_MS), RDS_SIM_WORKERS: "0", TMPDIR: hostTmp },
  });
  providerCode = (
    await captureProvider(
      () => new RdsLicenseServer("ls", { connection: conn("x"), contact: CONTACT, activation: { method: "automatic" } }),
    )
  ).provider;
});

afterAll(async () => {
  await host?.close();
  await closeAll();
  for (const dir of [stateDir, hostTmp]) fs.rmSync(dir, { recursive: true, force: true });
});

function conn(hostName: string): SimulatorConnection {
  return { transport: "simulator", host: hostName, stateDir };
}

/** The inputs the engine sends create (secrets stripped: the host accepts none), `__provider` included. */
function inputs(hostName: string, over: Props = {}): Props {
  return { connection: conn(hostName), contact: CONTACT, activation: { method: "automatic" }, __provider: providerCode, ...over };
}

/** The message the user sees for a failed call. */
async function messageOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (e) {
    if (e instanceof HostRpcError) return e.details;
    throw e;
  }
  throw new Error("expected the call to fail");
}

/** A host with the role installed and the declared contact already set: create then changes nothing before the step that fails. */
async function readyHost(hostName: string) {
  const admin = simAdmin(conn(hostName));
  await admin.reset();
  await admin.config({ roleInstalled: true });
  await admin.setContact({ FirstName: "Ada", LastName: "Lovelace", Company: "Contoso Ltd", CountryRegion: "United Kingdom" });
  return admin;
}

const create = (hostName: string, over: Props = {}) => messageOf(host.create({ urn: URN, properties: inputs(hostName, over) }));
const read = (hostName: string) =>
  messageOf(host.read({ urn: URN, id: hostName, properties: { connection: conn(hostName), __provider: providerCode } }));

/** How each code is provoked through the host, the host name its message names, and what else it must say. */
const THROUGH_HOST: Partial<Record<ErrorCode, { host: string; provoke: (h: string) => Promise<string>; says?: RegExp }>> = {
  [ErrorCode.Validation]: { host: HOST, provoke: (h) => create(h, { activation: { method: "email" } }) },
  [ErrorCode.ClassNotReady]: {
    host: HOST,
    provoke: async (h) => {
      await simAdmin(conn(h)).reset(); // no role
      return create(h, { installRole: false });
    },
  },
  [ErrorCode.Rejected]: {
    host: HOST,
    provoke: async (h) => {
      await readyHost(h);
      return create(h, { activation: { method: "web", licenseServerId: "Z".repeat(35) } });
    },
  },
  [ErrorCode.AccessDenied]: {
    host: HOST,
    provoke: async (h) => {
      await (await readyHost(h)).fault("accessDenied", true);
      return create(h);
    },
  },
  [ErrorCode.ClearinghouseUnreachable]: {
    host: HOST,
    provoke: async (h) => {
      await (await readyHost(h)).fault("clearinghouseUnreachable", true);
      return create(h);
    },
  },
  [ErrorCode.Wmi]: {
    host: HOST,
    provoke: async (h) => {
      await (await readyHost(h)).fault("providerFailure", true);
      return create(h);
    },
  },
  [ErrorCode.ScriptError]: {
    host: HOST,
    provoke: async (h) => {
      await (await readyHost(h)).fault("activationStatusUnknown", true); // activate.ps1 refuses to guess
      return create(h);
    },
  },
  // The runner writes each operation's arguments to a file in the host's private envelope folder. A
  // folder that fails its check is abandoned for a new one (envelope.ts); the host's whole TMPDIR turned
  // into a file (for this case only) fails making that new one, where nobody expects it.
  [ErrorCode.Internal]: {
    host: HOST,
    provoke: async (h) => {
      await readyHost(h);
      fs.renameSync(hostTmp, `${hostTmp}.aside`);
      fs.writeFileSync(hostTmp, "");
      try {
        return await read(h);
      } finally {
        fs.rmSync(hostTmp, { force: true });
        fs.renameSync(`${hostTmp}.aside`, hostTmp);
      }
    },
    says: /^reading license server on codes\.test: unexpected error in the provider: ENOTDIR/,
  },
  // Last: it leaves the host hanging, and its pwsh is replaced.
  [ErrorCode.Timeout]: {
    host: HOST,
    provoke: async (h) => {
      // Every emulated call now hangs far past the host's timeout (setting the fault is one of them: it
      // waits out the hang once, in this process, which has no short timeout).
      await (await readyHost(h)).fault("latencyMs", TIMEOUT_MS * 3);
      return read(h);
    },
  },
};

test("every code of the catalogue is provoked here or in passThroughCodes.test.ts, or is the one exception there", () => {
  const covered = new Set([...Object.keys(THROUGH_HOST), ...PROVOKED_FOR_EVERY_RESOURCE, ...Object.keys(NOT_PROVOKED_ON_THIS_MACHINE)]);
  expect([...covered].sort()).toEqual([...ERROR_CODES].sort());
});

describe("through the real dynamic-provider host", () => {
  test.each(Object.entries(THROUGH_HOST))("%s: the message names the host and ends with the code", async (code, c) => {
    const message = await c!.provoke(c!.host);
    expect(message).toContain(` on ${c!.host}: `);
    expect(message).toMatch(new RegExp(`^[a-z][^\\n]* \\[${code}\\]$`));
    expect(message.split(`[${code}]`)).toHaveLength(2);
    if (c!.says) expect(message).toMatch(c!.says);
  });
});
