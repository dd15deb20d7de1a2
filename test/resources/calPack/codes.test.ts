/**
 * Every error code RdsCalPack can raise (messages.ts ERROR_CODES), provoked through the real
 * dynamic-provider host, with the user-visible message ending in `[THAT_CODE]`.
 *
 * What is real: the dynamic-provider host process and gRPC, the `__provider` string the SDK registers
 * for RdsCalPack (captured under setMocks), the built provider (bin/), the runner and its warm pwsh,
 * this folder's scripts, the install journal on disk.
 * What stands in: the engine (each case is one raw RPC with the props it would send), Windows WMI and
 * the Clearinghouse (the emulator, with its faults), the administrator (fixtures/SimAdmin.ps1).
 * One host (started once) and one simulator state directory serve every case. The host runs with a short
 * operation timeout (TIMEOUT_MS; every other call takes well under it) for RDS_TIMEOUT, whose hang is three
 * times as long; RDS_INTERNAL comes from an install journal the host cannot use (its directory replaced
 * by a file for that one case, then put back). The codes every resource passes through from the
 * transports and the runner without an emulator fault of its own (RDS_HOST_UNREACHABLE,
 * RDS_SCRIPT_ERROR, RDS_INVALID_RESULT, RDS_PORT_CLOSED, ...) are provoked for this resource, through the
 * real host too, in test/resources/passThroughCodes.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ErrorCode } from "../../../provider/errors";
import { closeAll } from "../../../provider/powershell/pool";
import type { Connection } from "../../../provider/powershell/transport";
import { ERROR_CODES } from "../../../provider/resources/calPack/messages";
import { RdsCalPack } from "../../../provider/resources/calPack/resource";
import { captureRegistrations } from "../../helpers/captureProvider";
import { assertBuilt, HostRpcError, startProviderHost, type ProviderHost, type Props } from "../../helpers/providerHost";
import { NOT_PROVOKED_ON_THIS_MACHINE, PROVOKED_FOR_EVERY_RESOURCE } from "../passThroughCodes";
import { admin, tempDir } from "./support";

jest.setTimeout(300_000);

/** The host's operation timeout; the RDS_TIMEOUT case hangs the emulated host for three times as long. */
const TIMEOUT_MS = 2000;
const stateDir = tempDir("calpack-codes");
const journalRoot = tempDir("calpack-codes-journal");
/** The host's install journal: a directory of its own under journalRoot, so a case can swap it for a file. */
const journalDir = path.join(journalRoot, "journal");
const LS = "codes-ls.contoso.com";
const NEW = "codes-new.contoso.com";
const conn = (host: string): Connection => ({ transport: "simulator", host, stateDir });
const URN = "urn:pulumi:stack::proj::pulumi-nodejs:dynamic/rds:CalPack::codes";

let host: ProviderHost;
let providerCode: unknown;
const provoked = new Set<string>();

beforeAll(async () => {
  assertBuilt([
    "provider/resources/calPack",
    "provider/resources/kit.ts",
    "provider/resources/fields.ts",
    "provider/errors.ts",
    "provider/powershell",
  ]);
  const [reg] = await captureRegistrations(
    () =>
      new RdsCalPack("codes", {
        licenseServer: { connection: pulumi.output(conn(LS)), serverName: pulumi.output("LS") },
        program: "spla",
        agreementNumber: "1234567",
        productVersion: "2022",
        calType: "perDevice",
        quantity: 1,
      }),
  );
  providerCode = reg.inputs.__provider;
  host = await startProviderHost({
    env: { RDS_SIM_STATE_DIR: stateDir, RDS_JOURNAL_DIR: journalDir, RDS_OPERATION_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
  expect((await admin<{ returnValue: number }>(conn(LS), { action: "activate" })).returnValue).toBe(0);
});

afterAll(async () => {
  await host?.close();
  await closeAll();
  for (const d of [stateDir, journalRoot]) fs.rmSync(d, { recursive: true, force: true });
});

/** Inputs as check leaves them (defaults filled), for a pack on `target`. */
function inputs(target: string, over: Props = {}): Props {
  return {
    connection: conn(target),
    licenseServerName: "LS",
    licenseServerActivationMethod: "automatic",
    journalKey: "proj/stack/codes",
    program: "spla",
    agreementNumber: "1234567",
    productVersion: "2022",
    calType: "perDevice",
    quantity: 12,
    allowRemovingIssuedLicenses: false,
    knownOtherPacks: [],
    __provider: providerCode,
    ...over,
  };
}

/** The message the user sees for a failed RPC (an init failure's reason, else the error). */
async function failure(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (e) {
    if (!(e instanceof HostRpcError)) throw e;
    return e.initFailure ? e.initFailure.reasons.join("; ") : e.details;
  }
  throw new Error("expected the call to fail");
}

async function expectCode(code: ErrorCode, call: Promise<unknown>, text?: RegExp): Promise<void> {
  const message = await failure(call);
  expect(message.trimEnd()).toMatch(new RegExp(`\\[${code}\\]$`));
  if (text) expect(message).toMatch(text);
  provoked.add(code);
}

const fault = (target: string, name: string, value: unknown) => admin(conn(target), { action: "fault", fault: name, value });
const clearFaults = (target: string) => admin(conn(target), { action: "clearFaults" });

describe("through the real provider host, every message ends with its code", () => {
  let manual: number;

  test("RDS_VALIDATION: inputs that skipped check", async () => {
    await expectCode(
      ErrorCode.Validation,
      host.create({ urn: URN, properties: inputs(LS, { program: "lottery" }) }),
      /installing CAL pack on codes-ls\.contoso\.com: program must be one of/,
    );
  });

  test("RDS_NOT_FOUND: adopting a pack that is not there", async () => {
    await expectCode(
      ErrorCode.NotFound,
      host.create({ urn: URN, properties: inputs(LS, { adoptKeyPackId: 999 }) }),
      /there is no key pack with KeyPackId 999/,
    );
  });

  test("RDS_AMBIGUOUS_PACK: a matching pack installed by hand", async () => {
    const r = await admin<{ returnValue: number; keyPackId: number }>(conn(LS), {
      action: "installAgreement",
      agreementType: 4,
      agreementNumber: "1234567",
      productVersionCode: 7,
      productTypeCode: 0,
      licenseCount: 12,
    });
    expect(r.returnValue).toBe(0);
    manual = r.keyPackId;
    await expectCode(
      ErrorCode.AmbiguousPack,
      host.create({ urn: URN, properties: inputs(LS) }),
      new RegExp(`#${manual} \\(2022 Per Device, 12 CALs`),
    );
  });

  test("RDS_REJECTED: a single-use retail code declared by a second resource", async () => {
    const licenseCode = await admin<string>(conn(LS), { action: "retailCode", productVersion: "2022", calType: "perUser", quantity: 3 });
    const retail = inputs(LS, { program: "retail", agreementNumber: undefined, quantity: undefined, licenseCode, calType: "perUser" });
    expect((await host.create({ urn: URN, properties: retail })).id).toMatch(/^\d+$/);
    const again = { ...retail, journalKey: "proj/stack/again" };
    await expectCode(
      ErrorCode.Rejected,
      host.create({ urn: URN, properties: again }),
      /the Clearinghouse did not accept the license code: the same license code is already installed here/,
    );
  });

  test("RDS_VERSION_NOT_ACCEPTED: a 2025 CAL on a 2022 license server", async () => {
    await expectCode(ErrorCode.VersionNotAccepted, host.create({ urn: URN, properties: inputs(LS, { productVersion: "2025" }) }));
  });

  test("RDS_ISSUED_LICENSES: deleting a pack whose per-device licenses are issued", async () => {
    await admin(conn(LS), { action: "issue", keyPackId: manual, count: 2 });
    const state = { ...inputs(LS), keyPackId: manual, totalLicenses: 12 };
    await expectCode(
      ErrorCode.IssuedLicenses,
      host.delete({ urn: URN, id: String(manual), properties: state }),
      /still has 2 per-device licenses issued/,
    );
  });

  test("RDS_CLEARINGHOUSE_UNREACHABLE, RDS_WMI_ERROR, RDS_ACCESS_DENIED, RDS_CLASS_NOT_READY: the emulator's faults", async () => {
    const other = inputs(LS, { quantity: 7 });
    await fault(LS, "clearinghouseUnreachable", true);
    await expectCode(
      ErrorCode.ClearinghouseUnreachable,
      host.create({ urn: URN, properties: other }),
      /could not reach the Microsoft Clearinghouse/,
    );
    await clearFaults(LS);
    const adopt = inputs(LS, { adoptKeyPackId: manual });
    await fault(LS, "providerFailure", true);
    await expectCode(ErrorCode.Wmi, host.create({ urn: URN, properties: adopt }), /WBEM_E_PROVIDER_FAILURE/);
    await clearFaults(LS);
    await fault(LS, "accessDenied", true);
    await expectCode(ErrorCode.AccessDenied, host.create({ urn: URN, properties: adopt }));
    await clearFaults(LS);
    await fault(LS, "classNotReadyCalls", 5);
    await expectCode(ErrorCode.ClassNotReady, host.create({ urn: URN, properties: adopt }));
    await clearFaults(LS);
  });

  test("RDS_NOT_ACTIVATED: a license server with the role, not activated", async () => {
    await admin(conn(NEW), { action: "installRole" });
    await expectCode(
      ErrorCode.NotActivated,
      host.create({ urn: URN, properties: inputs(NEW) }),
      /must be activated before you can install RDS CALs/,
    );
  });

  test("RDS_INTERNAL: an install journal the host cannot use", async () => {
    // The journal's directory becomes a file for this case only: the earlier cases' entries are put back after.
    const aside = path.join(journalRoot, "journal.aside");
    fs.mkdirSync(journalDir, { recursive: true });
    fs.renameSync(journalDir, aside);
    fs.writeFileSync(journalDir, "");
    try {
      // The journal is only touched after the pack is read: an error nobody planned for.
      await expectCode(
        ErrorCode.Internal,
        host.create({ urn: URN, properties: inputs(LS, { adoptKeyPackId: manual }) }),
        /unexpected error in the provider/,
      );
    } finally {
      fs.rmSync(journalDir, { force: true });
      fs.renameSync(aside, journalDir);
    }
  });

  // Last: it hangs the emulated host, and the host's pwsh for it is replaced.
  test("RDS_TIMEOUT: every emulated call hangs far past the host's operation timeout", async () => {
    // Setting the fault waits out the hang once, here, in this process (whose admin timeout is long).
    await fault(NEW, "latencyMs", TIMEOUT_MS * 3);
    await expectCode(
      ErrorCode.Timeout,
      host.create({ urn: URN, properties: inputs(NEW) }),
      /installing 2022 Per Device CAL pack \(spla\) on codes-new\.contoso\.com/,
    );
  });

  test("every code of the catalogue was provoked here or in passThroughCodes.test.ts, or is the one exception there", () => {
    const covered = new Set([...provoked, ...PROVOKED_FOR_EVERY_RESOURCE, ...Object.keys(NOT_PROVOKED_ON_THIS_MACHINE)]);
    expect([...covered].sort()).toEqual([...ERROR_CODES].sort());
  });
});
