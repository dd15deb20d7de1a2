/**
 * Every code RdsLicenseServer can raise (messages.ts LICENSE_SERVER_CODES) reaches the user at the end
 * of the message (`... [RDS_…]`): only the message crosses the dynamic-provider host to the engine.
 *
 * What is real: the Pulumi dynamic-provider host process and gRPC, the built provider code in bin/
 * loaded through the `__provider` string the SDK registers for `new RdsLicenseServer(...)`, the runner
 * and its pwsh inside the host, every operation script. One host and one simulator state directory
 * serve every case; each case resets the emulated host it uses.
 * What stands in: the engine (the calls are made to the host directly, as the engine would make them,
 * so that even inputs check would refuse reach create); Windows and the Clearinghouse (the WMI
 * emulator, its faults set through fixtures/SimAdmin.ps1). The host runs with a short
 * RDS_OPERATION_TIMEOUT_MS (TIMEOUT_MS: every other call takes well under it) so that a hung call times
 * out quickly; the hang (latencyMs) is three times that, so the timeout never depends on machine speed; and
 * with RDS_SIM_WORKERS=0: a pwsh per target, as remote transports have, so a target that cannot be
 * reached fails at its pwsh's start.
 * Two codes cannot be provoked on the simulator without a bug or a broken script (RDS_INVALID_RESULT:
 * a script printing no valid result; RDS_INTERNAL: an error nobody expected): for those the runner
 * is made to fail that way, in process (the provider module from the sources, not through the host).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ErrorCode, RdsError } from "../../../provider/errors";
import { closeAll } from "../../../provider/powershell/pool";
import * as runner from "../../../provider/powershell/runner";
import type { SimulatorConnection } from "../../../provider/powershell/transport";
import { LICENSE_SERVER_CODES } from "../../../provider/resources/licenseServer/messages";
import { provider } from "../../../provider/resources/licenseServer/provider";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { captureProvider } from "../../helpers/captureProvider";
import { assertBuilt, HostRpcError, makeUrn, startProviderHost, type ProviderHost, type Props } from "../../helpers/providerHost";
import { simAdmin } from "./simAdmin";

jest.setTimeout(300_000);

/** The host's operation timeout; the RDS_TIMEOUT case hangs every emulated call for three times as long. */
const TIMEOUT_MS = 2000;

const TYPE = "pulumi-nodejs:dynamic/rds:LicenseServer";
const URN = makeUrn(TYPE, "ls");
/** The emulated host of every case but one: each case starts it afresh (one warm pwsh serves them all). */
const HOST = "codes.test";
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ls-codes-"));
const CONTACT = { firstName: "Ada", lastName: "Lovelace", company: "Contoso Ltd", countryRegion: "United Kingdom" };
let host: ProviderHost;
let providerCode: string;

beforeAll(async () => {
  assertBuilt(["provider/resources/licenseServer", "provider/resources/kit.ts", "provider/shim.ts", "provider/powershell"]);
  host = await startProviderHost({
    env: { RDS_SIM_STATE_DIR: stateDir, RDS_OPERATION_TIMEOUT_MS: String(TIMEOUT_MS), RDS_SIM_WORKERS: "0" },
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
  fs.rmSync(stateDir, { recursive: true, force: true });
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

/** How each code is provoked through the host, and the host name its message names. */
const THROUGH_HOST: Partial<Record<ErrorCode, { host: string; provoke: (h: string) => Promise<string> }>> = {
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
  // The emulator refuses a host name over 100 bytes: its pwsh cannot start for that target.
  [ErrorCode.HostUnreachable]: { host: "h".repeat(120), provoke: (h) => read(h) },
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

/** The runner's failure for each code the simulator cannot provoke, and how the user's message starts. */
const IN_PROCESS: Partial<Record<ErrorCode, { failure: () => Error; starts: string }>> = {
  [ErrorCode.InvalidResult]: {
    failure: () =>
      new RdsError(ErrorCode.InvalidResult, "running licenseServer.get on odd.test: the script printed no result document", {
        host: "odd.test",
      }),
    starts: "reading license server on odd.test: the script printed no result document",
  },
  [ErrorCode.Internal]: {
    failure: () => new TypeError("Cannot read properties of undefined (reading 'server')"),
    starts: "reading license server on odd.test: unexpected error in the provider: Cannot read properties of undefined",
  },
};

test("every code of the catalogue has a case", () => {
  expect([...Object.keys(THROUGH_HOST), ...Object.keys(IN_PROCESS)].sort()).toEqual([...LICENSE_SERVER_CODES].sort());
});

describe("through the real dynamic-provider host", () => {
  test.each(Object.entries(THROUGH_HOST))("%s: the message names the host and ends with the code", async (code, c) => {
    const message = await c!.provoke(c!.host);
    expect(message).toContain(` on ${c!.host}: `);
    expect(message).toMatch(new RegExp(`^[a-z][^\\n]* \\[${code}\\]$`));
  });
});

describe("in process: the runner failing in ways the simulator never does", () => {
  afterEach(() => jest.restoreAllMocks());

  test.each(Object.entries(IN_PROCESS))("%s: read's message ends with the code", async (code, c) => {
    jest.spyOn(runner, "runOperation").mockRejectedValue(c!.failure());
    const err = await provider.read!("odd.test", { connection: conn("odd.test") }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message.startsWith(c!.starts)).toBe(true);
    expect(err?.message).toMatch(new RegExp(`^[a-z][^\\n]* \\[${code}\\]$`));
  });
});
