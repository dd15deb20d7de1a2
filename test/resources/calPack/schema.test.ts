/**
 * RdsCalPack schema: check (validation and normalisation per program), the WMI value maps, the install
 * args, the diff (replace vs update) derived from the field table. The other pure rules: rules.test.ts.
 *
 * What is real: schema.ts, check.ts, diff.ts, the provider's check/diff (pure) and rules.ts's installArgs.
 * What stands in: nothing (no host, no pwsh).
 */
import { checkWithSchema } from "../../../provider/check";
import { UNKNOWN } from "../../../provider/diff";
import { provider } from "../../../provider/resources/calPack/provider";
import { installArgs } from "../../../provider/resources/calPack/rules";
import {
  AGREEMENT_TYPE,
  argsSchema,
  MAX_QUANTITY,
  normalizeCode,
  PRODUCT_TYPE_CODE,
  PRODUCT_VERSION_CODE,
  PRODUCT_VERSIONS,
  productVersionFromId,
  PROGRAMS,
  type CalPackInputs,
} from "../../../provider/resources/calPack/schema";

const CONNECTION = { transport: "simulator", host: "ls01" };
const CODE25 = "ABCDE-12345-FGHIJ-67890-KLMNP";
const KEYPACK35 = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF-12345";
const SECRETS = ["ABCDE12345FGHIJ67890KLMNP", "12345678", "A1B2C3D4E5F6G7H", "7654321", "AAAAABBBBBCCCCCDDDDDEEEEEFFFFF12345"];

const DATA: Record<string, Record<string, unknown>> = {
  retail: { licenseCode: CODE25 },
  openLicense: { licenseNumber: "1234-5678", authorizationNumber: "a1b2c3d4e5f6g7h", quantity: 25 },
  keyPackId: { licenseKeyPackId: KEYPACK35 },
};
for (const p of ["select", "enterpriseAgreement", "campus", "school", "spla", "otherAgreement"]) {
  DATA[p] = { agreementNumber: "765 4321", quantity: 50 };
}

function news(program: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    connection: CONNECTION,
    licenseServerName: "LS01",
    program,
    productVersion: "2022",
    calType: "perUser",
    ...DATA[program],
    ...extra,
  };
}

function failures(input: Record<string, unknown>) {
  return checkWithSchema(argsSchema, input).failures ?? [];
}

function expectNoSecret(text: string) {
  for (const s of [...SECRETS, CODE25, KEYPACK35, "765 4321", "1234-5678", "a1b2c3d4e5f6g7h"]) expect(text).not.toContain(s);
}

describe("check: every program with exactly its data", () => {
  it.each(PROGRAMS.map((p) => [p]))("accepts a valid %s declaration and normalises its codes", (program) => {
    const res = checkWithSchema(argsSchema, news(program));
    expect(res.failures).toBeUndefined();
    const inputs = res.inputs as CalPackInputs;
    expect(inputs.allowRemovingIssuedLicenses).toBe(false);
    expect(inputs.knownOtherPacks).toEqual([]);
    if (program === "retail") expect(inputs.licenseCode).toBe("ABCDE12345FGHIJ67890KLMNP");
    if (program === "openLicense") {
      expect(inputs.licenseNumber).toBe("12345678");
      expect(inputs.authorizationNumber).toBe("A1B2C3D4E5F6G7H");
    }
    if (program === "keyPackId") expect(inputs.licenseKeyPackId).toBe("AAAAABBBBBCCCCCDDDDDEEEEEFFFFF12345");
    if (AGREEMENT_TYPE[program as keyof typeof AGREEMENT_TYPE] !== undefined) expect(inputs.agreementNumber).toBe("7654321");
  });

  it("keeps __provider through check", () => {
    const res = checkWithSchema(argsSchema, { ...news("retail"), __provider: "exports.handler = 1" });
    expect(res.inputs?.__provider).toBe("exports.handler = 1");
  });
});

describe("check: the agreement number per agreement program (docs/windows-facts.md#identifier-formats)", () => {
  // [program, agreement number, accepted]: 0-3 the documented 7-digit enrollment number; SPLA 7 or 8
  // digits (8 in public SPLA scripts); other agreements 1 to 15 letters and digits (no documented format).
  const cases: [string, string, boolean][] = [
    ["select", "1234567", true],
    ["select", "12345678", false],
    ["enterpriseAgreement", "12345678", false],
    ["campus", "123-4567", true],
    ["school", "123456", false],
    ["spla", "1234567", true],
    ["spla", "8863-7253", true],
    ["spla", "123456789", false],
    ["spla", "1234567A", false],
    ["otherAgreement", "V1234567", true],
    ["otherAgreement", "7", true],
    ["otherAgreement", "ABCDE12345ABCDE", true],
    ["otherAgreement", "ABCDE12345ABCDE1", false],
    ["otherAgreement", "V123_4567", false],
  ];
  it.each(cases)("%s with %s: accepted %s", (program, agreementNumber, accepted) => {
    const f = failures(news(program, { agreementNumber }));
    expect(f.filter((x) => x.property === "agreementNumber")).toHaveLength(accepted ? 0 : 1);
    expect(JSON.stringify(f)).not.toContain(agreementNumber);
  });

  it("says each program's own format, and normalises what it accepts", () => {
    const spla = failures(news("spla", { agreementNumber: "123456789" })).find((x) => x.property === "agreementNumber");
    expect(spla?.reason).toMatch(/must be 7 to 8 digits.*got 9: copy all of the SPLA agreement number/);
    const select = failures(news("select", { agreementNumber: "12345678" })).find((x) => x.property === "agreementNumber");
    expect(select?.reason).toMatch(/must be 7 digits.*got 8: copy all of the Select enrollment number/);
    const other = failures(news("otherAgreement", { agreementNumber: "V123_4567" })).find((x) => x.property === "agreementNumber");
    expect(other?.reason).toMatch(/only letters A-Z and digits.*1 other character/);
    const ok = checkWithSchema(argsSchema, news("otherAgreement", { agreementNumber: "v123-4567" }));
    expect(ok.failures ?? []).toEqual([]);
    expect((ok.inputs as CalPackInputs).agreementNumber).toBe("V1234567");
    expect(installArgs(ok.inputs as CalPackInputs)).toMatchObject({ agreementType: 5, agreementNumber: "V1234567" });
    const spla8 = checkWithSchema(argsSchema, news("spla", { agreementNumber: "8863 7253" }));
    expect(installArgs(spla8.inputs as CalPackInputs)).toMatchObject({ agreementType: 4, agreementNumber: "88637253" });
  });
});

describe("check: bad input per program, each failure naming its field", () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ["retail", { licenseCode: undefined }, "licenseCode", /required for program "retail"/],
    ["retail", { licenseCode: "ABCDE-12345" }, "licenseCode", /must be 25 letters A-Z and digits.*got 10/],
    ["retail", { licenseCode: "ABCDE-12345-FGHIJ-67890-KLMN!" }, "licenseCode", /only letters A-Z and digits.*1 other character/],
    ["retail", { licenseCode: 1234 }, "licenseCode", /must be text/],
    ["retail", { agreementNumber: "1234567" }, "agreementNumber", /not used by program "retail"/],
    ["retail", { quantity: 5 }, "quantity", /not used by program "retail".*license code/],
    ["openLicense", { licenseNumber: undefined }, "licenseNumber", /required for program "openLicense"/],
    ["openLicense", { authorizationNumber: undefined }, "authorizationNumber", /required/],
    ["openLicense", { licenseNumber: "1234567A" }, "licenseNumber", /only digits/],
    ["openLicense", { licenseNumber: "123456789" }, "licenseNumber", /must be 8 digits.*got 9/],
    ["openLicense", { authorizationNumber: "A1B2C3D4E5F6G7" }, "authorizationNumber", /must be 15 letters A-Z and digits.*got 14/],
    ["openLicense", { quantity: undefined }, "quantity", /required for program "openLicense"/],
    ["openLicense", { licenseCode: CODE25 }, "licenseCode", /not used by program "openLicense"/],
    ["select", { agreementNumber: undefined }, "agreementNumber", /required for program "select"/],
    ["enterpriseAgreement", { agreementNumber: "123456" }, "agreementNumber", /must be 7 digits.*got 6/],
    ["campus", { agreementNumber: "12345AB" }, "agreementNumber", /only digits.*2 other characters/],
    ["school", { quantity: 0 }, "quantity", /at least 1/],
    ["spla", { quantity: 2.5 }, "quantity", /whole number/],
    ["otherAgreement", { quantity: MAX_QUANTITY + 1 }, "quantity", /at most 100000/],
    ["spla", { quantity: "10" }, "quantity", /whole number of CALs, got string/],
    ["select", { licenseNumber: "12345678" }, "licenseNumber", /not used by program "select"/],
    ["keyPackId", { licenseKeyPackId: undefined }, "licenseKeyPackId", /required for program "keyPackId"/],
    ["keyPackId", { licenseKeyPackId: "AAAAA-BBBBB" }, "licenseKeyPackId", /must be 35 letters A-Z and digits.*got 10/],
    ["keyPackId", { quantity: 3 }, "quantity", /not used by program "keyPackId".*key pack id/],
    ["keyPackId", { licenseCode: CODE25 }, "licenseCode", /not used by program "keyPackId"/],
  ];
  it.each(cases)("%s with %j fails on %s", (program, extra, field, reason) => {
    const f = failures(news(program, extra));
    const mine = f.filter((x) => x.property === field);
    expect(mine).toHaveLength(1);
    expect(mine[0].reason).toMatch(reason);
    expectNoSecret(JSON.stringify(f));
  });

  it("rejects an unknown program, version and CAL type with the allowed values", () => {
    const f = failures(news("retail", { program: "volume", productVersion: "2023", calType: "concurrent" }));
    expect(f.find((x) => x.property === "program")?.reason).toMatch(/must be one of "retail", "openLicense"/);
    expect(f.find((x) => x.property === "productVersion")?.reason).toMatch(/"2008R2", "2012", "2016", "2019", "2022", "2025", got "2023"/);
    expect(f.find((x) => x.property === "calType")?.reason).toMatch(/"perUser", "perDevice", got "concurrent"/);
  });

  it("rejects unknown fields by name (the output keyPackId is not an input)", () => {
    const f = failures(news("retail", { keyPackId: 3, licenceCode: "x" }));
    expect(f).toHaveLength(1);
    expect(f[0].reason).toMatch(/unknown fields "keyPackId", "licenceCode"/);
  });

  it("never echoes a malformed secret in a failure", () => {
    const bad = "SECRETCODE-99999-XYZ";
    for (const field of ["licenseCode", "licenseNumber", "authorizationNumber", "agreementNumber", "licenseKeyPackId"]) {
      const program = {
        licenseCode: "retail",
        licenseNumber: "openLicense",
        authorizationNumber: "openLicense",
        agreementNumber: "spla",
        licenseKeyPackId: "keyPackId",
      }[field]!;
      const text = JSON.stringify(failures(news(program, { [field]: bad })));
      expect(text).toContain(field);
      expect(text).not.toContain("SECRETCODE");
      expect(text).not.toContain("99999");
    }
  });

  it("checks adoptKeyPackId and knownOtherPacks", () => {
    expect(failures(news("spla", { adoptKeyPackId: 0 }))[0]).toMatchObject({ property: "adoptKeyPackId" });
    expect(failures(news("spla", { adoptKeyPackId: 1.5 }))[0]).toMatchObject({ property: "adoptKeyPackId" });
    expect(failures(news("spla", { knownOtherPacks: [4, "x"] }))[0]).toMatchObject({ property: "knownOtherPacks[1]" });
    expect(failures(news("spla", { adoptKeyPackId: 4, knownOtherPacks: [4] }))[0]).toMatchObject({ property: "knownOtherPacks" });
    expect(failures(news("spla", { adoptKeyPackId: 4, knownOtherPacks: [5] }))).toEqual([]);
  });

  it("tolerates preview unknowns (no failure for a value not known yet)", () => {
    expect(failures(news("spla", { agreementNumber: UNKNOWN }))).toEqual([]);
    expect(failures(news("retail", { connection: UNKNOWN, licenseServerName: UNKNOWN }))).toEqual([]);
    expect(failures(news("openLicense", { quantity: UNKNOWN }))).toEqual([]);
  });

  it("checks the connection", () => {
    expect(failures(news("retail", { connection: { transport: "simulator" } }))[0].property).toBe("connection.host");
  });
});

describe("value maps (WMI codes of versions, CAL types and agreement programs)", () => {
  it("maps versions to the ProductVersion input codes and back from ProductVersionID", () => {
    expect(PRODUCT_VERSION_CODE).toEqual({ "2008R2": 2, "2012": 4, "2016": 5, "2019": 6, "2022": 7, "2025": 8 });
    for (const v of PRODUCT_VERSIONS) expect(productVersionFromId(PRODUCT_VERSION_CODE[v])).toBe(v);
    expect(productVersionFromId(3)).toBe("2008R2");
    expect(productVersionFromId(0)).toBeNull();
    expect(PRODUCT_TYPE_CODE).toEqual({ perDevice: 0, perUser: 1 });
    expect(AGREEMENT_TYPE).toEqual({ select: 0, enterpriseAgreement: 1, campus: 2, school: 3, spla: 4, otherAgreement: 5 });
  });

  it("builds the install arguments of each program with the right codes", () => {
    const parse = (p: string, extra: Record<string, unknown> = {}) => argsSchema.parse(news(p, extra)) as CalPackInputs;
    expect(installArgs(parse("retail"))).toEqual({
      program: "retail",
      productVersion: "2022",
      activationMethod: "",
      licenseCode: "ABCDE12345FGHIJ67890KLMNP",
    });
    expect(installArgs(parse("openLicense", { calType: "perDevice", productVersion: "2016" }))).toEqual({
      program: "openLicense",
      productVersion: "2016",
      activationMethod: "",
      licenseNumber: "12345678",
      authorizationNumber: "A1B2C3D4E5F6G7H",
      productVersionCode: 5,
      productTypeCode: 0,
      licenseCount: 25,
    });
    expect(installArgs(parse("campus", { productVersion: "2008R2" }))).toMatchObject({
      agreementType: 2,
      agreementNumber: "7654321",
      productVersionCode: 2,
      productTypeCode: 1,
      licenseCount: 50,
    });
    expect(installArgs(parse("keyPackId"))).toMatchObject({ licenseKeyPackId: "AAAAABBBBBCCCCCDDDDDEEEEEFFFFF12345" });
  });

  it("normalises codes: hyphens and spaces out, upper case", () => {
    expect(normalizeCode(" ab-cd ef\t12 ")).toBe("ABCDEF12");
  });
});

describe("diff", () => {
  const state = (program: string, extra: Record<string, unknown> = {}) => ({
    ...argsSchema.parse(news(program)),
    keyPackId: 5,
    totalLicenses: (DATA[program].quantity as number | undefined) ?? 20,
    issuedLicenses: 0,
    availableLicenses: 20,
    typeAndModel: "RDS Per User CAL",
    keyPackType: 2,
    expirationDate: "2038-01-01T01:00:00.000Z",
    __provider: "p",
    ...extra,
  });
  const checked = (program: string, extra: Record<string, unknown> = {}) => ({
    ...argsSchema.parse(news(program, extra)),
    __provider: "p",
  });

  it("sees no change when nothing changed", async () => {
    for (const p of PROGRAMS)
      expect(await provider.diff!("5", state(p), checked(p))).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("replaces on program, numbers, version, CAL type and host; never delete-before-replace", async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["spla", { program: "select" }, "program"],
      ["spla", { agreementNumber: "1111111" }, "agreementNumber"],
      ["retail", { licenseCode: "ZZZZZ12345FGHIJ67890KLMNP" }, "licenseCode"],
      ["openLicense", { authorizationNumber: "ZZZZZZZZZZZZZZZ" }, "authorizationNumber"],
      ["spla", { productVersion: "2019" }, "productVersion"],
      ["spla", { calType: "perDevice" }, "calType"],
      ["spla", { connection: { transport: "simulator", host: "ls02" } }, "targetHost"],
      ["spla", { quantity: 60 }, "quantity"],
    ];
    for (const [program, change, field] of cases) {
      const res = await provider.diff!("5", state(program), checked(program, change));
      expect(res.changes).toBe(true);
      expect(res.replaces).toContain(field);
      expect(res.deleteBeforeReplace).toBe(false);
    }
  });

  it("updates in place: fewer CALs, the flag, another stateDir, a host name's case", async () => {
    for (const change of [
      { quantity: 30 },
      { allowRemovingIssuedLicenses: true },
      { connection: { transport: "simulator", host: "ls01", stateDir: "/tmp/x" } },
    ]) {
      const res = await provider.diff!("5", state("spla"), checked("spla", change));
      expect(res).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    }
    expect(
      await provider.diff!("5", state("spla"), checked("spla", { connection: { transport: "simulator", host: "LS01" } })),
    ).toMatchObject({ replaces: [] });
  });

  it("shows drift from the live totals: fewer than declared replaces, more shrinks", async () => {
    expect((await provider.diff!("5", state("spla", { totalLicenses: 40 }), checked("spla"))).replaces).toEqual(["quantity"]);
    expect(await provider.diff!("5", state("spla", { totalLicenses: 70 }), checked("spla"))).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: false,
    });
    // Retail counts are fixed by the code: never compared.
    expect((await provider.diff!("5", state("retail", { totalLicenses: 3 }), checked("retail"))).changes).toBe(false);
  });

  it("ignores the create-only fields", async () => {
    const res = await provider.diff!("5", state("spla"), checked("spla", { adoptKeyPackId: 9, knownOtherPacks: [3] }));
    expect(res.changes).toBe(false);
  });

  it("never replaces because an upstream output is unknown in preview", async () => {
    const res = await provider.diff!("5", state("spla"), { ...checked("spla"), connection: UNKNOWN, licenseServerName: UNKNOWN });
    expect(res).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });
});

describe("provider.check", () => {
  it("hands the checked inputs back with every secret wrapped, failures and all", async () => {
    const SIG = "4dabf18193072939515e22adb298388d";
    const ok = await provider.check!({}, news("openLicense"));
    for (const k of ["connection", "licenseNumber", "authorizationNumber"])
      expect((ok.inputs as Record<string, Record<string, unknown>>)[k][SIG]).toBeDefined();
    expect(JSON.stringify(ok.inputs)).not.toMatch(/"licenseNumber":"12345678"/);
    const bad = await provider.check!({}, news("openLicense", { quantity: 0 }));
    expect(bad.failures?.[0].property).toBe("quantity");
    expect((bad.inputs as Record<string, Record<string, unknown>>).licenseNumber[SIG]).toBeDefined();
    // Wrapped secrets coming in (an engine that sends them) are understood.
    const wrapped = await provider.check!(
      {},
      { ...news("spla"), agreementNumber: { [SIG]: "1b47061264138c4ac30d75fd1eb44270", value: "765-4321" } },
    );
    expect(wrapped.failures).toBeUndefined();
    expect((wrapped.inputs as Record<string, Record<string, unknown>>).agreementNumber.value).toBe("7654321");
  });
});

describe("the license server name: length limit and control characters", () => {
  test("253 characters pass, 254 are refused naming the field and the limit; empty stays the default", () => {
    expect(failures(news("retail", { licenseServerName: "a".repeat(253) }))).toEqual([]);
    expect(failures(news("retail", { licenseServerName: "" }))).toEqual([]);
    expect(failures(news("retail", { licenseServerName: "a".repeat(254) }))).toEqual([
      { property: "licenseServerName", reason: "licenseServerName is 254 characters long, more than the 253 accepted: shorten it" },
    ]);
  });

  test("NUL, BEL and a C1 control are refused by code and position", () => {
    for (const [ch, code] of [
      ["\u0000", "U+0000"],
      ["\u0007", "U+0007"],
      ["\u0085", "U+0085"],
    ]) {
      expect(failures(news("retail", { licenseServerName: `ls${ch}01` }))).toEqual([
        {
          property: "licenseServerName",
          reason: expect.stringContaining(`licenseServerName holds a control character (${code}) at position 3`),
        },
      ]);
    }
  });
});
