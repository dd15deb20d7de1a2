/**
 * RdsCalPack scripts (inspect, install, get, resize, remove) in real pwsh, through the real runner
 * (warm pwsh pool, envelope files, result validation), on the simulator transport.
 *
 * Over ssh: test/transports/ssh-key-suites.test.ts runs the `it.remote` cases again over ssh to a real
 * local sshd (key login; the emulator on the far side: test/helpers/scriptConnection.ts). They run
 * every script at least once with a result and once with a typed error: install (a retail pack, then
 * the same code refused by WMI with its method and WBEM name; NOT_ACTIVATED from the shared checks),
 * inspect (a result; NOT_ACTIVATED), resize (a shrink; ISSUED_LICENSES) with get reading the pack
 * back, remove (ISSUED_LICENSES, then removed). That proves the scripts, CalPack.Common.ps1 and the
 * envelope cross PowerShell SSH remoting and results and typed errors come back whole. The rest (every
 * program x version x CAL type, each refusal, the secrets sweep) exercises the scripts' logic and the
 * emulator, the same whatever the transport.
 *
 * What is real: pwsh 7, Bootstrap.ps1 / RdsCommon.psm1, this folder's .ps1 files, the runner and its
 * pool, the zod result schemas, installArgs() (the value codes sent to WMI).
 * What stands in: Windows WMI (the emulator module RdsEmulator.psm1) and Microsoft's Clearinghouse (the
 * emulator's). The license server is activated, and clients take CALs, through fixtures/SimAdmin.ps1
 * (emulator admin functions and plain WMI calls), never through the RdsLicenseServer scripts.
 */
import * as fs from "fs";
import { z } from "zod";
import { isRdsError, RdsError } from "../../../provider/errors";
import { providerFile } from "../../../provider/paths";
import { closeAll, onCommand } from "../../../provider/powershell/pool";
import { runOperation } from "../../../provider/powershell/runner";
import type { Connection } from "../../../provider/powershell/transport";
import { installArgs } from "../../../provider/resources/calPack/rules";
import {
  argsSchema,
  CAL_TYPES,
  getResultSchema,
  inspectResultSchema,
  installResultSchema,
  PRODUCT_TYPE_CODE,
  PRODUCT_VERSION_CODE,
  PRODUCT_VERSIONS,
  PROGRAMS,
  removeResultSchema,
  resizeResultSchema,
  type CalPackInputs,
  type CalType,
  type Program,
  type ProductVersion,
} from "../../../provider/resources/calPack/schema";
import { packsResultSchema } from "../../../provider/resources/sessionHostLicensing/schema";
import { it } from "../../helpers/scriptConnection";
import { admin, callLog, expectNoSecrets, installCalls, sim, simPacks, tempDir } from "./support";

const stateDir = tempDir("calpack-scripts");
const LS = sim("ls-scripts.contoso.com", stateDir);

// Program data. Agreement/open numbers are not single use (the Clearinghouse does not check what you
// own); retail codes and key pack ids are minted per install by the emulator.
const AGREEMENT = "7130542";
const LICENSE_NUMBER = "6120-4583";
const AUTHORIZATION = "Q7W8E9R1T2Y3U4I";
const secretsSeen = new Set<string>([AGREEMENT, LICENSE_NUMBER, AUTHORIZATION]);

const commands: string[] = [];
const errors: string[] = [];
let unsubscribe: () => void = () => undefined;

const SCRIPT = (name: string) => providerFile(`resources/calPack/${name}.ps1`);

/** sessionHostLicensing/packs.ps1 on a license server: the packs a session host's licensing relies on. */
function hostPacks(conn: Connection, keyPackIds: number[]) {
  return runOperation(conn, {
    name: "sessionHostLicensing.packs",
    script: providerFile("resources/sessionHostLicensing/packs.ps1"),
    args: { keyPackIds },
    result: packsResultSchema,
    timeoutMs: 120_000,
  });
}

async function op<T>(conn: Connection, name: string, args: Record<string, unknown>, result: z.ZodType<T>): Promise<T> {
  try {
    return await runOperation(conn, { name: `calPack.${name}`, script: SCRIPT(name), args, result, timeoutMs: 120_000 });
  } catch (err) {
    if (isRdsError(err)) errors.push(`${err.message}\n${err.stderr ?? ""}`);
    throw err;
  }
}

async function failure(promise: Promise<unknown>): Promise<RdsError> {
  try {
    await promise;
  } catch (err) {
    if (isRdsError(err)) return err;
    throw err;
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

function declaration(program: Program, productVersion: ProductVersion, calType: CalType, data: Record<string, unknown>): CalPackInputs {
  return argsSchema.parse({ connection: LS, program, productVersion, calType, ...data }) as CalPackInputs;
}

const EXPECTED: Record<Program, { method: string; keyPackType: number }> = {
  retail: { method: "InstallRetailPurchaseLicenseKeyPack", keyPackType: 1 },
  openLicense: { method: "InstallOpenLicenseKeyPack", keyPackType: 5 },
  select: { method: "InstallAgreementLicenseKeyPack", keyPackType: 2 },
  enterpriseAgreement: { method: "InstallAgreementLicenseKeyPack", keyPackType: 2 },
  campus: { method: "InstallAgreementLicenseKeyPack", keyPackType: 2 },
  school: { method: "InstallAgreementLicenseKeyPack", keyPackType: 2 },
  spla: { method: "InstallAgreementLicenseKeyPack", keyPackType: 2 },
  otherAgreement: { method: "InstallAgreementLicenseKeyPack", keyPackType: 2 },
  keyPackId: { method: "InstallLicenseKeyPack", keyPackType: 2 },
};

/** Program data for one install; retail codes and key pack ids come from the emulator's Clearinghouse. */
async function dataFor(
  conn: Connection,
  program: Program,
  v: ProductVersion,
  t: CalType,
  quantity: number,
): Promise<Record<string, unknown>> {
  switch (program) {
    case "retail": {
      const code = await admin<string>(conn, { action: "retailCode", productVersion: v, calType: t, quantity });
      secretsSeen.add(code);
      // As printed on the box: 5 groups of 5, lower case survives normalisation too.
      return { licenseCode: code.match(/.{5}/g)!.join("-").toLowerCase() };
    }
    case "keyPackId": {
      const id = await admin<string>(conn, {
        action: "keyPackId",
        program: "enterpriseAgreement",
        productVersion: v,
        calType: t,
        quantity,
      });
      secretsSeen.add(id);
      return { licenseKeyPackId: id.match(/.{5}/g)!.join(" ") };
    }
    case "openLicense":
      return { licenseNumber: LICENSE_NUMBER, authorizationNumber: AUTHORIZATION, quantity };
    default:
      return { agreementNumber: AGREEMENT, quantity };
  }
}

beforeAll(async () => {
  unsubscribe = onCommand((command) => commands.push(command));
  await admin(LS, { action: "config", settings: { osVersion: "2025" } });
  const act = await admin<{ returnValue: number; activationStatus: number }>(LS, { action: "activate" });
  expect(act).toEqual({ returnValue: 0, activationStatus: 0 });
});

afterAll(async () => {
  unsubscribe();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe("install: each program calls its own WMI method with the right codes, for every version and CAL type", () => {
  // Every program with every version, the CAL type alternating (shifted by program): so each program
  // meets both types and each version both types, at half the installs of the full cross product
  // (the version and type codes do not depend on the program; the method and AgreementType do).
  const combosFor = (programIndex: number) =>
    PRODUCT_VERSIONS.map((v, i) => [v, CAL_TYPES[(i + programIndex) % CAL_TYPES.length]] as [ProductVersion, CalType]);
  describe.each(PROGRAMS.map((p, i) => [p, i] as const))("%s", (program, programIndex) => {
    it.each(combosFor(programIndex))("installs a %s %s pack", async (v, t) => {
      const quantity = 1 + ((PRODUCT_VERSIONS.indexOf(v) * 2 + CAL_TYPES.indexOf(t)) % 97) + 3;
      const d = declaration(program, v, t, await dataFor(LS, program, v, t, quantity));
      const res = await op(LS, "install", installArgs(d), installResultSchema);
      expect(res.method).toBe(EXPECTED[program].method);
      expect(res.pack).not.toBeNull();
      const p = res.pack!;
      expect(p.keyPackId).toBe(res.keyPackId);
      expect(p.productVersionId).toBe(PRODUCT_VERSION_CODE[v]);
      expect(p.productType).toBe(PRODUCT_TYPE_CODE[t]);
      expect(p.keyPackType).toBe(EXPECTED[program].keyPackType);
      expect(p.totalLicenses).toBe(quantity);
      expect(p.availableLicenses).toBe(quantity);
      expect(p.typeAndModel).toMatch(t === "perUser" ? /Per User CAL/ : /Per Device CAL/);
      expect(p.expirationDate).toBe("2038-01-01T01:00:00.000Z");
      // The emulator's own record: which method ran, and which program the AgreementType code meant.
      const rec = (await simPacks(LS)).find((x) => x.KeyPackId === res.keyPackId)!;
      expect(rec.installMethod).toBe(EXPECTED[program].method);
      expect(rec.program).toBe(program === "keyPackId" ? "enterpriseAgreement" : program);
    });
  });
});

describe("get and inspect", () => {
  it("get returns one pack by KeyPackId, null for a missing id and for the built-in pack", async () => {
    const packs = await simPacks(LS);
    const some = packs[0];
    const got = await op(LS, "get", { keyPackId: some.KeyPackId }, getResultSchema);
    expect(got.pack).toMatchObject({ keyPackId: some.KeyPackId, totalLicenses: some.TotalLicenses, issuedPerDevice: 0 });
    expect((await op(LS, "get", { keyPackId: 999_999 }, getResultSchema)).pack).toBeNull();
    expect((await op(LS, "get", { keyPackId: 2 }, getResultSchema)).pack).toBeNull();
  });

  it.remote("inspect reports activation, product id, server version and every pack but the built-in one", async () => {
    const res = await op(LS, "inspect", { productVersion: "2025", activationMethod: "automatic" }, inspectResultSchema);
    expect(res.activationStatus).toBe(0);
    expect(res.productId).toMatch(/^\d{5}-\d{5}-\d{5}-[A-Z]{2}\d{3}$/);
    expect(res.serverVersion).toBe("2025");
    const live = await simPacks(LS);
    expect(res.packs.map((p) => p.keyPackId).sort((a, b) => a - b)).toEqual(live.map((p) => p.KeyPackId).sort((a, b) => a - b));
  });
});

describe("refusals before anything is installed", () => {
  // One more host serves every refusal below, in order: not activated, status unknown, then older versions.
  const OTHER = sim("ls-other", stateDir);

  it.remote("refuses on a server that is not activated, with the BPA guidance, the product id and the next step", async () => {
    await admin(OTHER, { action: "installRole" });
    const productId = (await admin<{ licenseServer: { productId: string } }>(OTHER, { action: "host" })).licenseServer.productId;
    const d = declaration("spla", "2022", "perUser", { agreementNumber: AGREEMENT, quantity: 10 });
    const steps: Record<string, RegExp> = {
      automatic: /activates it automatically again/,
      web: /https:\/\/activate\.microsoft\.com.*activation\.licenseServerId/,
      telephone: /call the Microsoft Clearinghouse.*activation\.licenseServerId/,
      "": /activate it first.*"automatic"/,
    };
    for (const [method, step] of Object.entries(steps)) {
      const err = await failure(op(OTHER, "install", { ...installArgs(d), activationMethod: method }, installResultSchema));
      expect(err.code).toBe("RDS_NOT_ACTIVATED");
      expect(err.message).toMatch(/the license server must be activated before you can install RDS CALs/);
      expect(err.message).toContain(`product id ${productId}`);
      expect(err.message).toMatch(/nothing was installed/);
      expect(err.message).toMatch(step);
    }
    const inspectErr = await failure(op(OTHER, "inspect", { productVersion: "2022", activationMethod: "web" }, inspectResultSchema));
    expect(inspectErr.code).toBe("RDS_NOT_ACTIVATED");
    expect(installCalls(await callLog(OTHER))).toEqual([]);
    expect(await simPacks(OTHER)).toEqual([]);
  });

  it("refuses when the activation status cannot be determined", async () => {
    await admin(OTHER, { action: "activate" });
    await admin(OTHER, { action: "fault", fault: "activationStatusUnknown", value: true });
    const d = declaration("select", "2019", "perDevice", { agreementNumber: AGREEMENT, quantity: 5 });
    const err = await failure(op(OTHER, "install", installArgs(d), installResultSchema));
    expect(err.code).toBe("RDS_NOT_ACTIVATED");
    expect(err.message).toMatch(/cannot be determined/);
    expect(installCalls(await callLog(OTHER))).toEqual([]);
    await admin(OTHER, { action: "clearFaults" });
  });

  it.each([
    ["2019", "2022", "2019"],
    ["2016", "2019", "2016"],
    ["2012", "2016", "2012"],
    ["2008R2", "2012", "2008R2"],
  ] as const)("refuses a newer CAL than a %s license server accepts (%s)", async (os, cal, newest) => {
    await admin(OTHER, { action: "config", settings: { osVersion: os } });
    const before = installCalls(await callLog(OTHER)).length;
    const d = declaration("enterpriseAgreement", cal, "perUser", { agreementNumber: AGREEMENT, quantity: 5 });
    const err = await failure(op(OTHER, "install", installArgs(d), installResultSchema));
    expect(err.code).toBe("RDS_VERSION_NOT_ACCEPTED");
    expect(err.message).toMatch(new RegExp(`accepts RDS CALs up to version ${newest}, and this pack is version ${cal}`));
    expect(installCalls(await callLog(OTHER)).length).toBe(before);
    // Its own version and older are accepted.
    const ok = await op(
      OTHER,
      "install",
      installArgs(declaration("enterpriseAgreement", newest, "perUser", { agreementNumber: AGREEMENT, quantity: 5 })),
      installResultSchema,
    );
    expect(ok.pack?.productVersionId).toBe(PRODUCT_VERSION_CODE[newest]);
  });

  it.remote("refuses a retail code used before (single use), naming no code", async () => {
    const code = await admin<string>(LS, { action: "retailCode", productVersion: "2022", calType: "perDevice", quantity: 20 });
    secretsSeen.add(code);
    const d = declaration("retail", "2022", "perDevice", { licenseCode: code });
    const first = await op(LS, "install", installArgs(d), installResultSchema);
    expect(first.pack?.totalLicenses).toBe(20);
    const before = (await simPacks(LS)).length;
    const err = await failure(op(LS, "install", installArgs(d), installResultSchema));
    expect(err.code).toBe("RDS_WMI_ERROR");
    expect(err.method).toBe("InstallRetailPurchaseLicenseKeyPack");
    expect(err.wmiName).toBe("WBEM_E_INVALID_PARAMETER");
    expect((await simPacks(LS)).length).toBe(before);
  });

  it("refuses a key pack id used before", async () => {
    const id = await admin<string>(LS, { action: "keyPackId", program: "spla", productVersion: "2016", calType: "perUser", quantity: 3 });
    secretsSeen.add(id);
    const d = declaration("keyPackId", "2016", "perUser", { licenseKeyPackId: id });
    await op(LS, "install", installArgs(d), installResultSchema);
    const err = await failure(op(LS, "install", installArgs(d), installResultSchema));
    expect(err.code).toBe("RDS_WMI_ERROR");
    expect(err.method).toBe("InstallLicenseKeyPack");
  });

  it.each([
    [
      "licenseCode",
      { program: "retail", licenseCode: "ABCDE12345FGHIJ67890KLMN" },
      /licenseCode is malformed.*25 letters and digits \(got 24 characters\)/,
    ],
    ["licenseCode", { program: "retail", licenseCode: "ABCDE12345FGHIJ67890KLMN*" }, /licenseCode is malformed/],
    [
      "licenseNumber",
      {
        program: "openLicense",
        licenseNumber: "1234567X",
        authorizationNumber: AUTHORIZATION,
        productVersionCode: 7,
        productTypeCode: 1,
        licenseCount: 5,
      },
      /licenseNumber is malformed.*8 digits/,
    ],
    [
      "authorizationNumber",
      {
        program: "openLicense",
        licenseNumber: "12345678",
        authorizationNumber: "Q7W8E9R1T2Y3U4",
        productVersionCode: 7,
        productTypeCode: 1,
        licenseCount: 5,
      },
      /authorizationNumber is malformed.*15 letters and digits \(got 14/,
    ],
    [
      "agreementNumber",
      { program: "campus", agreementType: 2, agreementNumber: "71305420", productVersionCode: 7, productTypeCode: 1, licenseCount: 5 },
      /agreementNumber is malformed.*7 digits \(got 8/,
    ],
    [
      "licenseKeyPackId",
      { program: "keyPackId", licenseKeyPackId: "ABCDE" },
      /licenseKeyPackId is malformed.*35 letters and digits \(got 5/,
    ],
    [
      "agreementType",
      { program: "school", agreementType: 2, agreementNumber: AGREEMENT, productVersionCode: 7, productTypeCode: 1, licenseCount: 5 },
      /agreementType 2 is not the code of program school \(3\)/,
    ],
    [
      "productVersionCode",
      { program: "select", agreementType: 0, agreementNumber: AGREEMENT, productVersionCode: 9, productTypeCode: 1, licenseCount: 5 },
      /productVersionCode must be a whole number from 2 to 8/,
    ],
  ])("refuses a malformed %s without calling WMI or echoing the value", async (_field, args, message) => {
    const before = installCalls(await callLog(LS)).length;
    const err = await failure(op(LS, "install", { productVersion: "2022", activationMethod: "automatic", ...args }, installResultSchema));
    expect(err.code).toBe("RDS_VALIDATION");
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/nothing was installed/);
    for (const v of Object.values(args)) if (typeof v === "string" && v.length > 6) expect(err.message).not.toContain(v);
    expect(installCalls(await callLog(LS)).length).toBe(before);
  });
});

describe("resize (RemoveLicensesWithIdCount)", () => {
  let id = 0;
  beforeAll(async () => {
    const d = declaration("spla", "2022", "perDevice", { agreementNumber: AGREEMENT, quantity: 30 });
    id = (await op(LS, "install", installArgs(d), installResultSchema)).keyPackId;
    await admin(LS, { action: "issue", keyPackId: id, count: 8 });
  });

  it.remote("removes CALs down to the quantity", async () => {
    const res = await op(LS, "resize", { keyPackId: id, quantity: 25, allowRemovingIssuedLicenses: false }, resizeResultSchema);
    expect(res.removed).toBe(5);
    expect(res.pack).toMatchObject({ totalLicenses: 25, availableLicenses: 17, issuedLicenses: 8, issuedPerDevice: 8 });
    const log = await callLog(LS);
    expect(log.filter((c) => c.method === "RemoveLicensesWithIdCount").at(-1)?.result).toBe(0);
  });

  it.remote("refuses to take issued CALs, saying how many are issued", async () => {
    const err = await failure(op(LS, "resize", { keyPackId: id, quantity: 5, allowRemovingIssuedLicenses: false }, resizeResultSchema));
    expect(err.code).toBe("RDS_ISSUED_LICENSES");
    expect(err.message).toMatch(/would remove 20, but only 17 are available \(8 are issued\)/);
    expect((await op(LS, "get", { keyPackId: id }, getResultSchema)).pack?.totalLicenses).toBe(25);
  });

  it("refuses to grow a pack (a replacement) and a pack that is gone", async () => {
    expect(
      (await failure(op(LS, "resize", { keyPackId: id, quantity: 26, allowRemovingIssuedLicenses: false }, resizeResultSchema))).code,
    ).toBe("RDS_VALIDATION");
    expect(
      (await failure(op(LS, "resize", { keyPackId: 999_998, quantity: 1, allowRemovingIssuedLicenses: false }, resizeResultSchema))).code,
    ).toBe("RDS_NOT_FOUND");
  });

  it("does nothing when the quantity is already right", async () => {
    const res = await op(LS, "resize", { keyPackId: id, quantity: 25, allowRemovingIssuedLicenses: false }, resizeResultSchema);
    expect(res.removed).toBe(0);
  });
});

describe("remove (UninstallLicenseKeyPackWithId)", () => {
  it.remote("refuses while per-device licenses are issued, saying how many; removes with the flag", async () => {
    const d = declaration("select", "2019", "perDevice", { agreementNumber: AGREEMENT, quantity: 10 });
    const p = (await op(LS, "install", installArgs(d), installResultSchema)).pack!;
    await admin(LS, { action: "issue", keyPackId: p.keyPackId, count: 3 });
    const args = { keyPackId: p.keyPackId, productVersionId: p.productVersionId, productType: p.productType };
    const err = await failure(op(LS, "remove", { ...args, allowRemovingIssuedLicenses: false }, removeResultSchema));
    expect(err.code).toBe("RDS_ISSUED_LICENSES");
    expect(err.message).toMatch(new RegExp(`key pack ${p.keyPackId} still has 3 per-device licenses issued from it`));
    expect(err.message).toMatch(/allowRemovingIssuedLicenses: true/);
    expect((await simPacks(LS)).some((x) => x.KeyPackId === p.keyPackId)).toBe(true);
    expect(await op(LS, "remove", { ...args, allowRemovingIssuedLicenses: true }, removeResultSchema)).toEqual({
      removed: true,
      reason: "removed",
    });
    expect((await simPacks(LS)).some((x) => x.KeyPackId === p.keyPackId)).toBe(false);
  });

  it("removes a per-user pack whose (untracked) per-user CALs are in use", async () => {
    const d = declaration("school", "2022", "perUser", { agreementNumber: AGREEMENT, quantity: 10 });
    const p = (await op(LS, "install", installArgs(d), installResultSchema)).pack!;
    await admin(LS, { action: "issue", keyPackId: p.keyPackId, count: 4 });
    const res = await op(
      LS,
      "remove",
      { keyPackId: p.keyPackId, productVersionId: 7, productType: 1, allowRemovingIssuedLicenses: false },
      removeResultSchema,
    );
    expect(res).toEqual({ removed: true, reason: "removed" });
  });

  it("reports a pack already gone, and leaves alone a pack that is not the one it was", async () => {
    expect(await op(LS, "remove", { keyPackId: 999_997, allowRemovingIssuedLicenses: false }, removeResultSchema)).toEqual({
      removed: false,
      reason: "absent",
    });
    const d = declaration("campus", "2016", "perUser", { agreementNumber: AGREEMENT, quantity: 2 });
    const p = (await op(LS, "install", installArgs(d), installResultSchema)).pack!;
    const res = await op(
      LS,
      "remove",
      { keyPackId: p.keyPackId, productVersionId: 7, productType: 1, allowRemovingIssuedLicenses: false },
      removeResultSchema,
    );
    expect(res).toEqual({ removed: false, reason: "replaced" });
    expect((await simPacks(LS)).some((x) => x.KeyPackId === p.keyPackId)).toBe(true);
  });
});

describe("program data as documented (docs/windows-facts.md#identifier-formats)", () => {
  it("installs an SPLA pack with an 8-digit agreement number and another agreement with letters; refuses a Select number of 8", async () => {
    const spla8 = "8863-7253";
    const other = "V1234567";
    secretsSeen.add("88637253").add(other);
    const s = declaration("spla", "2019", "perUser", { agreementNumber: spla8, quantity: 5 });
    expect((await op(LS, "install", installArgs(s), installResultSchema)).pack).toMatchObject({ keyPackType: 2, totalLicenses: 5 });
    const o = declaration("otherAgreement", "2019", "perUser", { agreementNumber: other, quantity: 6 });
    expect((await op(LS, "install", installArgs(o), installResultSchema)).pack).toMatchObject({ keyPackType: 2, totalLicenses: 6 });
    // check refuses 8 digits for Select; the script refuses it too, before any WMI call.
    const before = installCalls(await callLog(LS)).length;
    const args = {
      ...installArgs(declaration("select", "2019", "perUser", { agreementNumber: "1234567", quantity: 5 })),
      agreementNumber: "12345678",
    };
    const err = await failure(op(LS, "install", args, installResultSchema));
    expect(err.code).toBe("RDS_VALIDATION");
    expect(err.message).toMatch(/agreementNumber is malformed: the agreement or enrollment number must be 7 digits \(got 8 characters\)/);
    expect(installCalls(await callLog(LS)).length).toBe(before);
  });
});

describe("leftover packs (KeyPackType 7, no licenses) are never matched; read by id, a row is what it is (docs/windows-facts.md#key-pack-type)", () => {
  let leftover = 0;
  // Planted by the first test that needs it, not in a beforeAll: over ssh (ssh-key-suites.test.ts) this
  // block has no remote case, and jest refuses a beforeAll in a block without tests.
  const plantLeftover = async () => {
    if (leftover !== 0) return;
    leftover = (await admin<{ keyPackId: number }>(LS, { action: "leftover", productVersion: "2022", calType: "perUser" })).keyPackId;
    const row = (await simPacks(LS)).find((p) => p.KeyPackId === leftover);
    expect(row).toMatchObject({ KeyPackType: 7, TotalLicenses: 0, AvailableLicenses: 0, ProductVersionID: 7, ProductType: 1 });
  };

  it("inspect (what a declaration is matched against) lists it not; get by its id (the state's own pack) reads it with its 0 licenses", async () => {
    await plantLeftover();
    const seen = await op(LS, "inspect", { productVersion: "2022", activationMethod: "automatic" }, inspectResultSchema);
    expect(seen.packs.map((p) => p.keyPackId)).not.toContain(leftover);
    expect(seen.packs.length).toBeGreaterThan(0);
    expect((await op(LS, "get", { keyPackId: leftover }, getResultSchema)).pack).toMatchObject({
      keyPackId: leftover,
      keyPackType: 7,
      totalLicenses: 0,
      availableLicenses: 0,
    });
    const some = seen.packs[0].keyPackId;
    const batch = await op(LS, "get", { keyPackIds: [leftover, some] }, z.object({ packs: z.array(z.unknown()) }));
    expect(batch.packs[0]).toMatchObject({ keyPackId: leftover, totalLicenses: 0 });
    expect(batch.packs[1]).toMatchObject({ keyPackId: some });
  });

  it("the session host's read of its packs (sessionHostLicensing/packs.ps1) reports it missing, never counts it", async () => {
    await plantLeftover();
    const live = (await op(LS, "inspect", { productVersion: "2022", activationMethod: "automatic" }, inspectResultSchema)).packs[0];
    const res = await hostPacks(LS, [leftover, live.keyPackId]);
    expect(res.missing).toEqual([leftover]);
    expect(res.packs.map((p) => p.keyPackId)).toEqual([live.keyPackId]);
  });

  it("a pack emptied out of band is still the resource's: resize cannot grow it (the provider replaces it), remove uninstalls the row", async () => {
    const d = declaration("campus", "2016", "perUser", { agreementNumber: AGREEMENT, quantity: 3 });
    const p = (await op(LS, "install", installArgs(d), installResultSchema)).pack!;
    expect(await admin(LS, { action: "removeLicenses", keyPackId: p.keyPackId, count: 3 })).toBe(0);
    expect((await op(LS, "get", { keyPackId: p.keyPackId }, getResultSchema)).pack).toMatchObject({
      keyPackId: p.keyPackId,
      totalLicenses: 0,
    });
    const grow = await failure(
      op(LS, "resize", { keyPackId: p.keyPackId, quantity: 1, allowRemovingIssuedLicenses: false }, resizeResultSchema),
    );
    expect(grow.code).toBe("RDS_VALIDATION");
    expect(grow.message).toContain("must be replaced");
    const res = await op(
      LS,
      "remove",
      { keyPackId: p.keyPackId, productVersionId: p.productVersionId, productType: p.productType, allowRemovingIssuedLicenses: false },
      removeResultSchema,
    );
    expect(res).toEqual({ removed: true, reason: "removed" });
    expect((await simPacks(LS)).some((x) => x.KeyPackId === p.keyPackId)).toBe(false);
  });
});

describe("the licensing service is checked before any licensing class is queried", () => {
  const STOPPED = sim("ls-stopped", stateDir);

  it("every script refuses with RDS_CLASS_NOT_READY, naming the service, and queries no licensing class", async () => {
    await admin(STOPPED, { action: "activate" });
    await admin(STOPPED, { action: "config", settings: { serviceStatus: "Stopped" } });
    const before = (await callLog(STOPPED)).length;
    const d = declaration("spla", "2019", "perUser", { agreementNumber: AGREEMENT, quantity: 5 });
    const runs: [string, Record<string, unknown>, z.ZodType<unknown>][] = [
      ["inspect", { productVersion: "2019", activationMethod: "automatic" }, inspectResultSchema],
      ["install", installArgs(d), installResultSchema],
      ["get", { keyPackId: 3 }, getResultSchema],
      ["resize", { keyPackId: 3, quantity: 1, allowRemovingIssuedLicenses: false }, resizeResultSchema],
      ["remove", { keyPackId: 3, allowRemovingIssuedLicenses: false }, removeResultSchema],
    ];
    for (const [name, args, schema] of runs) {
      const err = await failure(op(STOPPED, name, args, schema));
      expect([name, err.code]).toEqual([name, "RDS_CLASS_NOT_READY"]);
      expect(err.message).toMatch(
        /TermServLicensing\) is Stopped; the licensing classes answer only while it runs: start it \(Start-Service -Name TermServLicensing/,
      );
    }
    const packsErr = await failure(hostPacks(STOPPED, [3]));
    expect(packsErr.code).toBe("RDS_CLASS_NOT_READY");
    const after = (await callLog(STOPPED)).slice(before);
    expect(after.filter((c) => /^Win32_TS(LicenseServer|LicenseKeyPack|IssuedLicense)$/.test(c.className))).toEqual([]);
  });
});

describe("secrets", () => {
  it("never appear in a command sent to pwsh, an error, or the emulator's call log", async () => {
    expect(commands.length).toBeGreaterThan(50);
    const secrets = [...secretsSeen];
    // At least the retail code and the key pack id of every version's install (the sweep has something to find).
    expect(secrets.length).toBeGreaterThanOrEqual(2 * PRODUCT_VERSIONS.length);
    expectNoSecrets("the pwsh command text", commands.join("\n"), secrets);
    expectNoSecrets("the error messages", errors.join("\n"), secrets);
    for (const host of ["ls-scripts.contoso.com", "ls-other", "ls-stopped"]) {
      expectNoSecrets(`the call log of ${host}`, JSON.stringify(await callLog(sim(host, stateDir))), secrets);
    }
    // The runner's envelope files are gone once read.
    expect(commands.every((c) => !c.includes("args"))).toBe(true);
  });
});
