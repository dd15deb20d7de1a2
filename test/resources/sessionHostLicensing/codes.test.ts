/**
 * Every code RdsSessionHostLicensing can raise (messages.ts ERROR_CODES), provoked through the REAL
 * dynamic-provider host: the user-visible message ends with `[THAT_CODE]`. The codes every resource
 * passes through from the transports and the runner without an emulator fault of its own
 * (RDS_HOST_UNREACHABLE, RDS_INVALID_RESULT, RDS_AUTH_REFUSED, ...) are provoked for this resource in
 * test/resources/passThroughCodes.test.ts; this file provokes the rest (RDS_NOT_FOUND with the emulator's
 * host setting terminalServiceSetting=false: no Win32_TerminalServiceSetting instance;
 * RDS_SESSION_HOST_ROLE_MISSING with sessionHostRole=false: TerminalServerMode 0).
 *
 * Real: the dynamic-provider host process and gRPC, the built provider (bin/) with the resource kit,
 * the serialized `__provider` the class registers (captured from the SDK), the runner, pwsh 7 and the
 * operation scripts.
 * Stands in: the engine (each case sends the one RPC that provokes its code), Windows (the WMI
 * emulator, one state directory for every case, each case on its own host) and the administrator who
 * switches a fault, a Group Policy or a host fact (fixtures/SimAdmin.ps1).
 * Lean on purpose: one host process (started once) and one simulator state directory for every case,
 * and a short operation timeout so that the hung call is stopped in seconds.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { ERROR_CODES } from "../../../provider/resources/sessionHostLicensing/messages";
import { RdsSessionHostLicensing } from "../../../provider/resources/sessionHostLicensing/resource";
import { captureProvider } from "../../helpers/captureProvider";
import { assertBuilt, HostRpcError, makeUrn, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { NOT_PROVOKED_ON_THIS_MACHINE, PROVOKED_FOR_EVERY_RESOURCE } from "../passThroughCodes";
import { prepareLicenseServer, setFault, setGroupPolicy, setHostConfig } from "./simAdmin";

/**
 * The operation timeout of the host: normal steps take well under a second, a hung one is stopped at it.
 * The RDS_TIMEOUT case hangs for three times as long, so it times out whatever the machine's speed.
 */
const TIMEOUT_MS = 2000;

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-shl-codes-"));
const sim = (host: string) => ({ transport: "simulator" as const, host, stateDir });
const urn = makeUrn("pulumi-nodejs:dynamic/rds:SessionHostLicensing", "sh");
let host: ProviderHost;
let providerCode: string;

/** Inputs as check would leave them, for a host of its own. */
const inputs = (h: string, extra: Record<string, unknown> = {}) => ({
  __provider: providerCode,
  connection: sim(h),
  scope: "sessionHost",
  mode: "perDevice",
  licenseServers: ["ls01.contoso.com"],
  resetOnDelete: false,
  ...extra,
});

/** The message the user sees for a failed RPC (an init failure's reason when the host recorded one). */
async function failure(rpc: Promise<unknown>): Promise<string> {
  const err = await rpc.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof HostRpcError)) throw new Error(`expected the RPC to fail, got ${String(err)}`);
  return err.initFailure?.reasons[0] ?? err.details;
}

const create = (h: string, extra?: Record<string, unknown>) => failure(host.create({ urn, properties: inputs(h, extra) }));
const read = (properties: Record<string, unknown>) => failure(host.read({ urn, id: "sessionHost:x", properties }));

/** How each code is provoked, and what its message says besides the code (so the right failure was provoked). */
const PROVOKE: Record<string, { run: () => Promise<string>; says: RegExp }> = {
  RDS_VALIDATION: {
    run: () => create("sh-validation", { mode: "perSocket" }),
    says: /^configuring licensing on sh-validation: mode must be/,
  },
  RDS_MODE_MISMATCH: {
    run: async () => {
      await setHostConfig(stateDir, "sh-workgroup", { domain: null, partOfDomain: false });
      return create("sh-workgroup", { mode: "perUser" });
    },
    says: /^checking licensing mode perUser on sh-workgroup: .*in a workgroup/,
  },
  RDS_GROUP_POLICY_CONFLICT: {
    run: async () => {
      await setGroupPolicy(stateDir, "sh-gpo", { licensingMode: 4 });
      return create("sh-gpo");
    },
    says: /^configuring licensing on sh-gpo\.contoso\.com: a Group Policy controls the licensing mode/,
  },
  // A state with no connection reaches the runner with nothing to run on: a bug, not a user error.
  RDS_INTERNAL: { run: () => read({ __provider: providerCode }), says: /^unexpected error in the provider: / },
  RDS_SCRIPT_ERROR: { run: () => create("sh-not-broker", { scope: "deployment" }), says: /on sh-not-broker: .*deployment does not exist/ },
  RDS_WMI_ERROR: {
    run: async () => {
      await setFault(stateDir, "sh-wmi", "providerFailure", true);
      return read(inputs("sh-wmi"));
    },
    says: /sessionHostLicensing\.read on sh-wmi: .*WBEM_E_PROVIDER_FAILURE/,
  },
  RDS_ACCESS_DENIED: {
    run: async () => {
      await setFault(stateDir, "sh-denied", "accessDenied", true);
      return read(inputs("sh-denied"));
    },
    says: /sessionHostLicensing\.read on sh-denied: .*WBEM_E_ACCESS_DENIED/,
  },
  // The pre-flight reads the declared pack on its license server, whose licensing class is not registered yet.
  RDS_CLASS_NOT_READY: {
    run: async () => {
      const [id] = await prepareLicenseServer(stateDir, "ls-not-ready", [{ productVersion: "2022", calType: "perDevice", count: 5 }]);
      await setFault(stateDir, "ls-not-ready", "classNotReadyCalls", 5);
      const pack = {
        keyPackId: id,
        calType: "perDevice",
        productVersion: "2022",
        licenseServerConnection: sim("ls-not-ready"),
        licenseServerName: "",
      };
      return create("sh-packs", { calPacks: [pack] });
    },
    says: /sessionHostLicensing\.packs on ls-not-ready: .*Win32_TSLicenseKeyPack/,
  },
  // A host whose Terminal Services WMI provider answers no Win32_TerminalServiceSetting instance.
  RDS_NOT_FOUND: {
    run: async () => {
      await setHostConfig(stateDir, "sh-no-setting", { terminalServiceSetting: false });
      return read(inputs("sh-no-setting"));
    },
    says: /sessionHostLicensing\.read on sh-no-setting: Win32_TerminalServiceSetting returned no instance/,
  },
  // A host without the RD Session Host role (TerminalServerMode 0), and installRole not set.
  RDS_SESSION_HOST_ROLE_MISSING: {
    run: async () => {
      await setHostConfig(stateDir, "sh-no-role", { sessionHostRole: false });
      return create("sh-no-role");
    },
    says: /^configuring licensing on sh-no-role\.contoso\.com: the host does not have the RD Session Host role .*Install-WindowsFeature RDS-RD-Server/,
  },
  // Last: the hung pwsh is stopped and replaced, which the other cases need not wait for.
  RDS_TIMEOUT: {
    run: async () => {
      await setFault(stateDir, "sh-hang", "latencyMs", TIMEOUT_MS * 3);
      return read(inputs("sh-hang"));
    },
    says: new RegExp(`sessionHostLicensing\\.read on sh-hang: timed out after ${TIMEOUT_MS} ms`),
  },
};

beforeAll(async () => {
  assertBuilt(["provider/resources/sessionHostLicensing", "provider/resources/kit.ts", "provider/errors.ts"]);
  const reg = await captureProvider(
    () => new RdsSessionHostLicensing("sh", { connection: sim("sh"), mode: "perDevice", licenseServers: ["ls01.contoso.com"] }),
  );
  providerCode = reg.provider;
  host = await startProviderHost({ env: { RDS_OPERATION_TIMEOUT_MS: String(TIMEOUT_MS) } });
}, 120_000);

afterAll(async () => {
  await host?.close();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test("every code of the catalogue is provoked here or in passThroughCodes.test.ts (but the one this machine cannot raise)", () => {
  const covered = new Set([...Object.keys(PROVOKE), ...PROVOKED_FOR_EVERY_RESOURCE, ...Object.keys(NOT_PROVOKED_ON_THIS_MACHINE)]);
  expect([...covered].sort()).toEqual([...ERROR_CODES].sort());
});

test.each(Object.keys(PROVOKE))(
  "%s: the message ends with the code",
  async (code) => {
    const message = await PROVOKE[code].run();
    expect(message).toMatch(PROVOKE[code].says);
    expect(message.endsWith(`[${code}]`)).toBe(true);
    // The code is said once, at the end.
    expect(message.split(`[${code}]`)).toHaveLength(2);
  },
  120_000,
);
