/**
 * Conformance of the emulated CAL key packs: Win32_TSLicenseKeyPack (built-in pack, every install method,
 * removal), the key pack value tables and the license-server-version rule (docs/windows-facts.md#key-pack-class, #install-preconditions), the
 * Clearinghouse's retail codes and key pack ids, and Win32_TSIssuedLicense.
 *
 * Real: pwsh 7 and the emulator module provider/emulator/RdsEmulator.psm1. Stands in: the emulator
 * stands in for Windows WMI (the RD Licensing provider) and for Microsoft's Clearinghouse.
 */
import * as fs from "fs";
import * as path from "path";
import { liveSessionCount } from "../helpers/pwshSession";
import { EmulatorFixture, MethodResult, PS_ACTIVATED, PS_INSTALL_AGREEMENT, PS_ROLE, uniqueHost, WBEM } from "./emulatorKit";

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("kp");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

const KP = (method: string, args = "") =>
  `Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName ${method}${args ? ` -Arguments ${args}` : ""}`;

/** Select the pack fields a test compares (dates as UTC ISO text). */
const PS_PACKS = `@(Get-CimInstance -ClassName Win32_TSLicenseKeyPack | ForEach-Object {
  [pscustomobject]@{ KeyPackId = $_.KeyPackId; Description = $_.Description; KeyPackType = $_.KeyPackType; ProductType = $_.ProductType
    ProductVersion = $_.ProductVersion; ProductVersionID = $_.ProductVersionID; TotalLicenses = $_.TotalLicenses
    IssuedLicenses = $_.IssuedLicenses; AvailableLicenses = $_.AvailableLicenses; AccessRights = $_.AccessRights
    TypeAndModel = $_.TypeAndModel; ExpirationDate = $_.ExpirationDate.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    ExpirationType = $_.ExpirationDate.GetType().Name } })`;

interface Pack {
  KeyPackId: number;
  Description: string;
  KeyPackType: number;
  ProductType: number;
  ProductVersion: string;
  ProductVersionID: number;
  TotalLicenses: number;
  IssuedLicenses: number;
  AvailableLicenses: number;
  AccessRights: number;
  TypeAndModel: string;
  ExpirationDate: string;
  ExpirationType: string;
}

describe("the built-in key pack (docs/windows-facts.md#built-in-pack)", () => {
  test("is always there, with the observed row's values, before anything is installed", async () => {
    const host = uniqueHost("builtin");
    const packs = await fx.on<Pack[]>(host, `${PS_ROLE},${PS_PACKS}`);
    expect(packs).toEqual([
      {
        KeyPackId: 2,
        Description: "A02-5.00-EX",
        KeyPackType: 6,
        ProductType: 3,
        ProductVersion: "Windows 2000 Server",
        ProductVersionID: 0,
        TotalLicenses: 4294967295,
        IssuedLicenses: 0,
        AvailableLicenses: 4294967295,
        AccessRights: 7,
        TypeAndModel: "Built-in TS Per Device CAL",
        ExpirationDate: "2035-12-31T23:00:00Z",
        ExpirationType: "DateTime",
      },
    ]);
  });

  test("cannot be uninstalled or reduced", async () => {
    const host = uniqueHost("builtin");
    const r = await fx.on<number[]>(
      host,
      `${PS_ROLE},@((${KP("UninstallLicenseKeyPackWithId", "@{ KeyPackId = [uint32]2 }")}).ReturnValue,
        (${KP("RemoveLicensesWithIdCount", "@{ KeyPackId = [uint32]2; LicenseCount = [uint32]1 }")}).ReturnValue)`,
    );
    expect(r).toEqual([WBEM.INVALID_OPERATION, WBEM.INVALID_OPERATION]);
  });
});

describe("installing CALs needs an activated license server (BPA rule, docs/windows-facts.md#install-preconditions)", () => {
  test("every install method fails with WBEM_E_INVALID_OPERATION and installs nothing", async () => {
    const host = uniqueHost("notact");
    const r = await fx.on<{ results: MethodResult[]; packs: number }>(
      host,
      `${PS_ROLE}$kpid = Get-RdsSimClearinghouseKeyPackId -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId -Program select -ProductVersion 2022 -CalType perUser -Quantity 5
       $results = @(
         (${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = 'ABCDEFGHIJKLMNOPQRST14257' }")}),
         (${KP("InstallOpenLicenseKeyPack", "@{ sLicenseNumber = '12345678'; sAuthorizationNumber = 'ABCDE12345FGHIJ'; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]5 }")}),
         (${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]5 }")}),
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $kpid }")}))
       [pscustomobject]@{ results = $results; packs = @(Get-CimInstance -ClassName Win32_TSLicenseKeyPack).Count }`,
    );
    expect(r.results).toEqual(Array(4).fill({ ReturnValue: WBEM.INVALID_OPERATION, KeyPackId: null }));
    expect(r.packs).toBe(1);
    // The key pack id was not used up by the refused install: it still installs once activated.
    const after = await fx.on<MethodResult>(
      host,
      `${PS_ACTIVATED}$kpid = (Get-RdsSimClearinghouseKeyPackId -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId -Program select -ProductVersion 2022 -CalType perUser -Quantity 5)
       ${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $kpid }")}`,
    );
    expect(after).toEqual({ ReturnValue: 0, KeyPackId: 3 });
  });
});

describe("InstallAgreementLicenseKeyPack (docs/windows-facts.md#key-pack-methods)", () => {
  test.each([
    [0, "select"],
    [1, "enterpriseAgreement"],
    [2, "campus"],
    [3, "school"],
    [4, "spla"],
    [5, "otherAgreement"],
  ])("AgreementType %i (%s) installs a volume pack (KeyPackType 2) and records the program", async (agreementType, program) => {
    const host = uniqueHost("agr");
    const r = await fx.on<{ res: MethodResult; pack: Pack; program: string }>(
      host,
      `${PS_ACTIVATED}$res = ${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = [uint32]$data.t; sAgreementNumber = '7654321'; ProductVersion = [uint32]6; ProductType = [uint32]1; LicenseCount = [uint32]25 }")}
       [pscustomobject]@{ res = $res; pack = (${PS_PACKS} | Select-Object -Last 1); program = ((Get-RdsSimHost).licenseServer.keyPacks | Select-Object -Last 1).program }`,
      { t: agreementType },
    );
    expect(r.res).toEqual({ ReturnValue: 0, KeyPackId: 3 });
    expect(r.pack).toMatchObject({
      KeyPackId: 3,
      KeyPackType: 2,
      ProductType: 1,
      ProductVersionID: 6,
      TotalLicenses: 25,
      IssuedLicenses: 0,
      AvailableLicenses: 25,
    });
    expect(r.program).toBe(program);
  });

  test("ProductVersion 2,4,5,6,7,8 map to ProductVersionID and the ProductVersion strings of 3.5/3.6; ProductType to TypeAndModel", async () => {
    const host = uniqueHost("pv");
    const r = await fx.on<Pack[]>(
      host,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ osVersion = '2025' } | Out-Null
       ${PS_ACTIVATED.replace(PS_ROLE, "")}
       foreach ($pv in 2, 4, 5, 6, 7, 8) { foreach ($pt in 0, 1) {
         $null = ${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; ProductVersion = [uint32]$pv; ProductType = [uint32]$pt; LicenseCount = [uint32]($pv * 10 + $pt) }")} } }
       ,(${PS_PACKS} | Where-Object KeyPackId -ne 2)`,
    );
    const strings: Record<number, string> = {
      2: "Windows Server 2008 or Windows Server 2008 R2",
      4: "Windows Server 2012",
      5: "Windows Server 2016",
      6: "Windows Server 2019",
      7: "Windows Server 2022",
      8: "Windows Server 2025",
    };
    const descVersion: Record<number, string> = { 2: "6.00", 4: "6.02", 5: "10.00", 6: "10.01", 7: "10.02", 8: "10.03" };
    const expected: Pack[] = [];
    let id = 3;
    for (const pv of [2, 4, 5, 6, 7, 8]) {
      for (const pt of [0, 1]) {
        const prefix = pv === 2 ? "TS or RDS" : "RDS";
        expected.push({
          KeyPackId: id++,
          Description: `${pt === 1 ? "C50" : "C40"}-${descVersion[pv]}-S`,
          KeyPackType: 2,
          ProductType: pt,
          ProductVersion: strings[pv],
          ProductVersionID: pv,
          TotalLicenses: pv * 10 + pt,
          IssuedLicenses: 0,
          AvailableLicenses: pv * 10 + pt,
          AccessRights: 7,
          TypeAndModel: `${prefix} Per ${pt === 1 ? "User" : "Device"} CAL`,
          ExpirationDate: "2038-01-01T01:00:00Z",
          ExpirationType: "DateTime",
        });
      }
    }
    expect(r).toEqual(expected);
  });

  test("rejects values outside the tables with WBEM_E_INVALID_PARAMETER and installs nothing", async () => {
    const host = uniqueHost("agrbad");
    const cases: Array<[string, Record<string, unknown>]> = [
      ["ProductVersion 0", { ProductVersion: 0 }],
      ["ProductVersion 1", { ProductVersion: 1 }],
      ["ProductVersion 3 (an id, not an input)", { ProductVersion: 3 }],
      ["ProductVersion 9", { ProductVersion: 9 }],
      ["ProductType 2", { ProductType: 2 }],
      ["ProductType 3", { ProductType: 3 }],
      ["LicenseCount 0", { LicenseCount: 0 }],
      ["AgreementType 6", { AgreementType: 6 }],
      ["6 digits", { sAgreementNumber: "123456" }],
      ["8 digits", { sAgreementNumber: "12345678" }],
      ["letters", { sAgreementNumber: "12345A7" }],
      ["hyphen", { sAgreementNumber: "123-4567" }],
      ["space", { sAgreementNumber: "123 4567" }],
      ["non-ASCII digits", { sAgreementNumber: "\u0661\u0662\u0663\u0664\u0665\u0666\u0667" }],
      ["trailing newline", { sAgreementNumber: "1234567\n" }],
      ["empty", { sAgreementNumber: "" }],
      ["other agreement with a hyphen", { AgreementType: 5, sAgreementNumber: "V-1234567" }],
      ["other agreement, 16 characters", { AgreementType: 5, sAgreementNumber: "V123456789012345" }],
    ];
    const r = await fx.on<Array<{ name: string; rv: number }>>(
      host,
      `${PS_ACTIVATED},@(foreach ($c in $data.cases) {
         $a = @{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]5 }
         foreach ($k in $c[1].Keys) { $a[$k] = if ($c[1][$k] -is [string]) { $c[1][$k] } else { [uint32]$c[1][$k] } }
         [pscustomobject]@{ name = $c[0]; rv = (${KP("InstallAgreementLicenseKeyPack", "$a")}).ReturnValue } })`,
      { cases },
    );
    expect(r).toEqual(cases.map(([name]) => ({ name, rv: WBEM.INVALID_PARAMETER })));
    expect(await fx.on<number>(host, "@(Get-CimInstance -ClassName Win32_TSLicenseKeyPack).Count")).toBe(1);
    const missing = await fx.on<MethodResult>(
      host,
      KP(
        "InstallAgreementLicenseKeyPack",
        "@{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]1 }",
      ),
    );
    expect(missing).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, KeyPackId: null });
    const other = await fx.on<MethodResult>(
      host,
      KP(
        "InstallAgreementLicenseKeyPack",
        "@{ AgreementType = [uint32]5; sAgreementNumber = 'V1234567'; ProductVersion = [uint32]7; ProductType = [uint32]0; LicenseCount = [uint32]5 }",
      ),
    );
    expect(other).toEqual({ ReturnValue: 0, KeyPackId: 3 });
  });

  test("sAgreementNumber per AgreementType: 7 digits for 0-3, 7 or 8 for SPLA (4), 1-15 alphanumerics for other (5)", async () => {
    const host = uniqueHost("agrfmt");
    // [AgreementType, sAgreementNumber, accepted] (docs/windows-facts.md#identifier-formats; README, Choices).
    const cases: Array<[number, string, boolean]> = [
      [0, "1234567", true],
      [3, "12345678", false],
      [4, "1234567", true],
      [4, "88637253", true],
      [4, "123456789", false],
      [4, "1234567A", false],
      [5, "V1234567", true],
      [5, "7", true],
    ];
    const r = await fx.on<number[]>(
      host,
      `${PS_ACTIVATED},@(foreach ($c in $data.cases) {
         (${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = [uint32]$c[0]; sAgreementNumber = [string]$c[1]; ProductVersion = [uint32]6; ProductType = [uint32]1; LicenseCount = [uint32]2 }")}).ReturnValue })`,
      { cases },
    );
    expect(r).toEqual(cases.map(([, , ok]) => (ok ? 0 : WBEM.INVALID_PARAMETER)));
  });

  test("KeyPackIds increase from 3 and are never reused after an uninstall", async () => {
    const host = uniqueHost("ids");
    const r = await fx.on<number[]>(
      host,
      `${PS_ACTIVATED}$a = (${PS_INSTALL_AGREEMENT}).KeyPackId
       $b = (${PS_INSTALL_AGREEMENT}).KeyPackId
       $null = ${KP("UninstallLicenseKeyPackWithId", "@{ KeyPackId = [uint32]$b }")}
       $c = (${PS_INSTALL_AGREEMENT}).KeyPackId
       ,@($a, $b, $c)`,
    );
    expect(r).toEqual([3, 4, 5]);
  });
});

describe("the license server version must be the CAL version or newer (docs/windows-facts.md#install-preconditions)", () => {
  test.each([
    ["2008R2", [2]],
    ["2012", [2, 4]],
    ["2016", [2, 4, 5]],
    ["2019", [2, 4, 5, 6]],
    ["2022", [2, 4, 5, 6, 7]],
    ["2025", [2, 4, 5, 6, 7, 8]],
  ])("a %s license server accepts ProductVersion %j and refuses newer ones with WBEM_E_NOT_SUPPORTED", async (osVersion, accepted) => {
    const host = uniqueHost("lsver");
    const r = await fx.on<Array<[number, number]>>(
      host,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ osVersion = $data.os } | Out-Null
       ${PS_ACTIVATED.replace(PS_ROLE, "")}
       ,@(foreach ($pv in 2, 4, 5, 6, 7, 8) { ,@($pv, (${KP("InstallAgreementLicenseKeyPack", "@{ AgreementType = [uint32]0; sAgreementNumber = '1234567'; ProductVersion = [uint32]$pv; ProductType = [uint32]0; LicenseCount = [uint32]1 }")}).ReturnValue) })`,
      { os: osVersion },
    );
    expect(r).toEqual([2, 4, 5, 6, 7, 8].map((pv) => [pv, (accepted as number[]).includes(pv) ? 0 : WBEM.NOT_SUPPORTED]));
  });
});

describe("InstallOpenLicenseKeyPack", () => {
  test("installs an Open License pack (KeyPackType 5) with the 8-digit license number and 15-character authorization number", async () => {
    const host = uniqueHost("open");
    const r = await fx.on<{ res: MethodResult; pack: Pack; program: string }>(
      host,
      `${PS_ACTIVATED}$res = ${KP("InstallOpenLicenseKeyPack", "@{ sLicenseNumber = '12345678'; sAuthorizationNumber = 'abcde12345FGHIJ'; ProductVersion = [uint32]5; ProductType = [uint32]0; LicenseCount = [uint32]40 }")}
       [pscustomobject]@{ res = $res; pack = (${PS_PACKS} | Select-Object -Last 1); program = ((Get-RdsSimHost).licenseServer.keyPacks | Select-Object -Last 1).program }`,
    );
    expect(r.res).toEqual({ ReturnValue: 0, KeyPackId: 3 });
    expect(r.pack).toMatchObject({
      KeyPackType: 5,
      ProductType: 0,
      ProductVersionID: 5,
      ProductVersion: "Windows Server 2016",
      TotalLicenses: 40,
      TypeAndModel: "RDS Per Device CAL",
    });
    expect(r.program).toBe("openLicense");
  });

  test("checks both numbers' formats", async () => {
    const host = uniqueHost("openbad");
    const cases: Array<[string, string]> = [
      ["1234567", "ABCDE12345FGHIJ"],
      ["123456789", "ABCDE12345FGHIJ"],
      ["1234567A", "ABCDE12345FGHIJ"],
      ["1234-5678", "ABCDE12345FGHIJ"],
      ["12345678", "ABCDE12345FGHI"],
      ["12345678", "ABCDE12345FGHIJK"],
      ["12345678", "ABCDE-12345-FGHIJ"],
      ["12345678", "ABCDE12345FGHI\u00C9"],
      ["12345678", ""],
    ];
    const r = await fx.on<number[]>(
      host,
      `${PS_ACTIVATED},@(foreach ($c in $data.cases) { (${KP("InstallOpenLicenseKeyPack", "@{ sLicenseNumber = $c[0]; sAuthorizationNumber = $c[1]; ProductVersion = [uint32]7; ProductType = [uint32]1; LicenseCount = [uint32]5 }")}).ReturnValue })`,
      { cases },
    );
    expect(r).toEqual(cases.map(() => WBEM.INVALID_PARAMETER));
  });
});

describe("InstallRetailPurchaseLicenseKeyPack and the retail-code rule", () => {
  test("the code's characters 21-24 give CAL type, version and quantity (README: the retail-code rule)", async () => {
    const host = uniqueHost("retail");
    // [20] '1' odd = Per User; [21] '4' -> 2022 (7); [22..23] '25' -> 25. Letters: [20] 'B' (11, odd) = Per User,
    // [21] 'A' (10 mod 6 = 4) -> 2022, [22] 'Z' (35 mod 10 = 5), [23] 'K' (20 mod 10 = 0) -> 50; '00' means 100.
    const codes = ["ABCDEFGHIJKLMNOPQRST14257", "abcdefghijklmnopqrstbazkq", "QWERTYUIOPASDFGHJKLZ02000"];
    const r = await fx.on<Array<{ res: MethodResult; pack: Pack; program: string }>>(
      host,
      `${PS_ACTIVATED},@(foreach ($code in $data.codes) {
         $res = ${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = $code }")}
         [pscustomobject]@{ res = $res; pack = (${PS_PACKS} | Select-Object -Last 1); program = ((Get-RdsSimHost).licenseServer.keyPacks | Select-Object -Last 1).program } })`,
      { codes },
    );
    expect(r.map((x) => x.res)).toEqual([
      { ReturnValue: 0, KeyPackId: 3 },
      { ReturnValue: 0, KeyPackId: 4 },
      { ReturnValue: 0, KeyPackId: 5 },
    ]);
    expect(r[0].pack).toMatchObject({ KeyPackType: 1, ProductType: 1, ProductVersionID: 7, TotalLicenses: 25, AvailableLicenses: 25 });
    expect(r[1].pack).toMatchObject({ KeyPackType: 1, ProductType: 1, ProductVersionID: 7, TotalLicenses: 50 });
    expect(r[2].pack).toMatchObject({
      KeyPackType: 1,
      ProductType: 0,
      ProductVersionID: 5,
      TotalLicenses: 100,
      TypeAndModel: "RDS Per Device CAL",
    });
    expect(r.every((x) => x.program === "retail")).toBe(true);
  });

  test("New-RdsSimRetailLicenseCode makes a 25-character code with the requested terms", async () => {
    const host = uniqueHost("gen");
    const r = await fx.on<Array<{ code: string; pack: Pack }>>(
      host,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ osVersion = '2025' } | Out-Null
       ${PS_ACTIVATED.replace(PS_ROLE, "")},@(foreach ($t in @(@('2008R2','perDevice',1), @('2012','perUser',99), @('2019','perDevice',100), @('2025','perUser',7))) {
         $code = New-RdsSimRetailLicenseCode -ProductVersion $t[0] -CalType $t[1] -Quantity $t[2]
         $null = ${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = $code }")}
         [pscustomobject]@{ code = $code; pack = (${PS_PACKS} | Select-Object -Last 1) } })`,
    );
    for (const x of r) expect(x.code).toMatch(/^[A-Z0-9]{25}$/);
    expect(r.map((x) => [x.pack.ProductVersionID, x.pack.ProductType, x.pack.TotalLicenses])).toEqual([
      [2, 0, 1],
      [4, 1, 99],
      [6, 0, 100],
      [8, 1, 7],
    ]);
  });

  test("a code is good once across all hosts; a refused install does not use it up; the Clearinghouse keeps no plain code", async () => {
    const a = uniqueHost("once");
    const b = uniqueHost("once");
    const old = uniqueHost("once");
    const code = await fx.on<string>(a, "New-RdsSimRetailLicenseCode -ProductVersion 2022 -CalType perUser -Quantity 10");
    // On a 2019 license server a 2022 code is refused by the version rule, and stays unused.
    const onOld = await fx.on<MethodResult>(
      old,
      `${PS_ROLE}Set-RdsSimHostConfig -Settings @{ osVersion = '2019' } | Out-Null
       ${PS_ACTIVATED.replace(PS_ROLE, "")}${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = $data.code }")}`,
      { code },
    );
    expect(onOld).toEqual({ ReturnValue: WBEM.NOT_SUPPORTED, KeyPackId: null });
    const first = await fx.on<MethodResult>(
      a,
      `${PS_ACTIVATED}${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = $data.code }")}`,
      { code },
    );
    expect(first).toEqual({ ReturnValue: 0, KeyPackId: 3 });
    const again = await fx.on<MethodResult>(
      a,
      KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = $data.code.ToLowerInvariant() }"),
      { code },
    );
    expect(again).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, KeyPackId: null });
    const elsewhere = await fx.on<MethodResult>(
      b,
      `${PS_ACTIVATED}${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = $data.code }")}`,
      { code },
    );
    expect(elsewhere).toEqual({ ReturnValue: WBEM.INVALID_PARAMETER, KeyPackId: null });
    const chFile = fs.readFileSync(path.join(fx.stateDir, "clearinghouse.json"), "utf8");
    expect(chFile).not.toContain(code);
    expect(chFile.toLowerCase()).not.toContain(code.toLowerCase());
  });

  test("checks the 25-character format (no hyphens, ASCII letters and digits only)", async () => {
    const host = uniqueHost("retailbad");
    const good = "ABCDEFGHIJKLMNOPQRST14257";
    const bad = [
      good.slice(0, 24),
      good + "A",
      good.match(/.{5}/g)!.join("-"),
      good.slice(0, 24) + "\u00DF",
      good.slice(0, 24) + " ",
      good + "\n",
      "",
    ];
    const r = await fx.on<number[]>(
      host,
      `${PS_ACTIVATED},@(foreach ($c in $data.bad) { (${KP("InstallRetailPurchaseLicenseKeyPack", "@{ sLicenseCode = $c }")}).ReturnValue })`,
      { bad },
    );
    expect(r).toEqual(bad.map(() => WBEM.INVALID_PARAMETER));
  });
});

describe("InstallLicenseKeyPack (offline key pack id from the web site or telephone)", () => {
  test.each([
    ["retail", 1],
    ["openLicense", 5],
    ["select", 2],
    ["enterpriseAgreement", 2],
    ["campus", 2],
    ["school", 2],
    ["spla", 2],
    ["otherAgreement", 2],
  ])("an id issued for program %s installs the pack it stands for (KeyPackType %i)", async (program, keyPackType) => {
    const host = uniqueHost("offline");
    const r = await fx.on<{ id: string; res: MethodResult; pack: Pack; program: string; method: string }>(
      host,
      `${PS_ACTIVATED}$id = Get-RdsSimClearinghouseKeyPackId -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId -Program $data.program -ProductVersion 2019 -CalType perDevice -Quantity 33
       $res = ${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $id }")}
       $last = (Get-RdsSimHost).licenseServer.keyPacks | Select-Object -Last 1
       [pscustomobject]@{ id = $id; res = $res; pack = (${PS_PACKS} | Select-Object -Last 1); program = $last.program; method = $last.installMethod }`,
      { program },
    );
    expect(r.id).toMatch(/^[A-Z0-9]{35}$/);
    expect(r.res).toEqual({ ReturnValue: 0, KeyPackId: 3 });
    expect(r.pack).toMatchObject({
      KeyPackType: keyPackType,
      ProductType: 0,
      ProductVersionID: 6,
      TotalLicenses: 33,
      AvailableLicenses: 33,
    });
    expect(r.program).toBe(program);
    expect(r.method).toBe("InstallLicenseKeyPack");
  });

  test("an id works once, only on the server whose product id it was issued for, and needs no Internet", async () => {
    const host = uniqueHost("offonce");
    const r = await fx.on<{ id1: string; id2: string; results: number[] }>(
      host,
      `${PS_ACTIVATED}Set-RdsSimFault -Fault clearinghouseUnreachable -Value $true | Out-Null
       $pid_ = (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $id1 = Get-RdsSimClearinghouseKeyPackId -ProductId $pid_ -Program spla -ProductVersion 2022 -CalType perUser -Quantity 5
       $id2 = Get-RdsSimClearinghouseKeyPackId -ProductId $pid_ -Program spla -ProductVersion 2022 -CalType perUser -Quantity 5
       $foreign = Get-RdsSimClearinghouseKeyPackId -ProductId '11111-22222-33333-AB444' -Program spla -ProductVersion 2022 -CalType perUser -Quantity 5
       $newer = Get-RdsSimClearinghouseKeyPackId -ProductId $pid_ -Program spla -ProductVersion 2025 -CalType perUser -Quantity 5
       [pscustomobject]@{ id1 = $id1; id2 = $id2; results = @(
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $id1 }")}).ReturnValue,
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $id1 }")}).ReturnValue,
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $id2.ToLowerInvariant() }")}).ReturnValue,
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $foreign }")}).ReturnValue,
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $newer }")}).ReturnValue,
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = ('Z' * 35) }")}).ReturnValue,
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = $id1.Substring(0, 34) }")}).ReturnValue,
         (${KP("InstallLicenseKeyPack", "@{ sLicenseKeyPackId = ($id1.Substring(0, 5) + '-' + $id1.Substring(5, 30)) }")}).ReturnValue) }`,
    );
    expect(r.id1).not.toBe(r.id2);
    expect(r.results).toEqual([
      0,
      WBEM.INVALID_PARAMETER,
      0,
      WBEM.INVALID_PARAMETER,
      WBEM.NOT_SUPPORTED,
      WBEM.INVALID_PARAMETER,
      WBEM.INVALID_PARAMETER,
      WBEM.INVALID_PARAMETER,
    ]);
  });

  test("Get-RdsSimClearinghouseKeyPackId validates its arguments", async () => {
    const host = uniqueHost("chargs");
    const r = await fx.on<boolean[]>(
      host,
      `,@(
        (Invoke-Captured { Get-RdsSimClearinghouseKeyPackId -ProductId 'p' -Program retailx -ProductVersion 2022 -CalType perUser -Quantity 1 }).ok,
        (Invoke-Captured { Get-RdsSimClearinghouseKeyPackId -ProductId 'p' -Program retail -ProductVersion 2023 -CalType perUser -Quantity 1 }).ok,
        (Invoke-Captured { Get-RdsSimClearinghouseKeyPackId -ProductId 'p' -Program retail -ProductVersion 2022 -CalType perSeat -Quantity 1 }).ok,
        (Invoke-Captured { Get-RdsSimClearinghouseKeyPackId -ProductId 'p' -Program retail -ProductVersion 2022 -CalType perUser -Quantity 0 }).ok,
        (Invoke-Captured { Get-RdsSimClearinghouseKeyPackId -ProductId 'p' -Program retail -ProductVersion 2022 -CalType perUser -Quantity 1 }).ok)`,
    );
    expect(r).toEqual([false, false, false, false, true]);
  });
});

describe("removing CALs", () => {
  test("UninstallLicenseKeyPackWithId removes the pack (and its issued licenses); unknown ids are WBEM_E_NOT_FOUND", async () => {
    const host = uniqueHost("uninst");
    const r = await fx.on<{ res: MethodResult; again: MethodResult; packs: number[]; issued: number[] }>(
      host,
      `${PS_ACTIVATED}$a = (${PS_INSTALL_AGREEMENT}).KeyPackId
       $b = (${PS_INSTALL_AGREEMENT}).KeyPackId
       $null = Add-RdsSimIssuedLicense -KeyPackId $a -Count 2
       $null = Add-RdsSimIssuedLicense -KeyPackId $b -Count 1
       $res = ${KP("UninstallLicenseKeyPackWithId", "@{ KeyPackId = [uint32]$a }")}
       $again = ${KP("UninstallLicenseKeyPackWithId", "@{ KeyPackId = [uint32]$a }")}
       [pscustomobject]@{ res = $res; again = $again
         packs = @(Get-CimInstance -ClassName Win32_TSLicenseKeyPack | ForEach-Object KeyPackId)
         issued = @(Get-CimInstance -ClassName Win32_TSIssuedLicense | ForEach-Object KeyPackId) }`,
      { pt: 0 },
    );
    expect(r.res).toEqual({ ReturnValue: 0 });
    expect(r.again).toEqual({ ReturnValue: WBEM.NOT_FOUND });
    expect(r.packs).toEqual([2, 4]);
    expect(r.issued).toEqual([4]);
  });

  test("RemoveLicensesWithIdCount takes CALs off a pack, never more than are available", async () => {
    const host = uniqueHost("remove");
    const r = await fx.on<{ results: number[]; pack: Pack }>(
      host,
      `${PS_ACTIVATED}$id = (${PS_INSTALL_AGREEMENT}).KeyPackId
       $null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 3
       $results = @(
         (${KP("RemoveLicensesWithIdCount", "@{ KeyPackId = [uint32]$id; LicenseCount = [uint32]4 }")}).ReturnValue,
         (${KP("RemoveLicensesWithIdCount", "@{ KeyPackId = [uint32]$id; LicenseCount = [uint32]4 }")}).ReturnValue,
         (${KP("RemoveLicensesWithIdCount", "@{ KeyPackId = [uint32]$id; LicenseCount = [uint32]0 }")}).ReturnValue,
         (${KP("RemoveLicensesWithIdCount", "@{ KeyPackId = [uint32]999; LicenseCount = [uint32]1 }")}).ReturnValue,
         (${KP("RemoveLicensesWithIdCount", "@{ KeyPackId = [uint32]$id; LicenseCount = [uint32]3 }")}).ReturnValue)
       [pscustomobject]@{ results = $results; pack = (${PS_PACKS} | Where-Object KeyPackId -eq $id) }`,
    );
    expect(r.results).toEqual([0, WBEM.INVALID_PARAMETER, WBEM.INVALID_PARAMETER, WBEM.NOT_FOUND, 0]);
    // 10 installed, 3 issued; 4 then 3 removed: the pack stays, with only its issued CALs left.
    expect(r.pack).toMatchObject({ TotalLicenses: 3, IssuedLicenses: 3, AvailableLicenses: 0 });
  });
});

describe("leftover packs (docs/windows-facts.md#key-pack-type)", () => {
  test("Add-RdsSimLeftoverKeyPack plants a KeyPackType 7 row without licenses, as real servers list; it can be uninstalled", async () => {
    const host = uniqueHost("leftover");
    // Not exported by the module (yet): called in its scope, as test/resources/calPack/fixtures/SimAdmin.ps1 does.
    const r = await fx.on<{ added: Record<string, unknown>; pack: Pack; before: number; after: number; rv: number; left: number }>(
      host,
      `${PS_ACTIVATED}$methodCalls = { @(Get-RdsSimCallLog | Where-Object { $null -ne $_.method }).Count }
       $before = & $methodCalls
       $added = & (Get-Module RdsEmulator) { Add-RdsSimLeftoverKeyPack -ProductVersion '2022' -CalType perDevice }
       $after = & $methodCalls
       $pack = (${PS_PACKS} | Where-Object KeyPackId -eq $added.KeyPackId)
       $rv = (${KP("UninstallLicenseKeyPackWithId", "@{ KeyPackId = [uint32]$added.KeyPackId }")}).ReturnValue
       [pscustomobject]@{ added = $added; pack = $pack; before = $before; after = $after; rv = $rv
         left = @(Get-CimInstance -ClassName Win32_TSLicenseKeyPack).Count }`,
    );
    expect(r.after).toBe(r.before);
    expect(r.added).toMatchObject({ hostName: host, KeyPackId: 3, KeyPackType: 7, ProductVersionID: 7 });
    expect(r.pack).toMatchObject({
      KeyPackId: 3,
      KeyPackType: 7,
      ProductType: 0,
      ProductVersionID: 7,
      ProductVersion: "Windows Server 2022",
      TotalLicenses: 0,
      IssuedLicenses: 0,
      AvailableLicenses: 0,
      TypeAndModel: "RDS Per Device CAL",
    });
    expect(r.rv).toBe(0);
    expect(r.left).toBe(1);
  });
});

describe("Win32_TSIssuedLicense and Add-RdsSimIssuedLicense", () => {
  test("per-device CALs issued to fake clients appear as rows (LicenseStatus 2) and the pack's counts follow", async () => {
    const host = uniqueHost("issued");
    const r = await fx.on<{
      added: Record<string, unknown>;
      rows: Array<Record<string, unknown>>;
      pack: Pack;
      days: number[];
      kinds: string[];
    }>(
      host,
      `${PS_ACTIVATED}$id = (${PS_INSTALL_AGREEMENT}).KeyPackId
       $added = Add-RdsSimIssuedLicense -KeyPackId $id -Count 3 -Computer 'PC'
       $null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 1 -Computer $data.name
       $null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 1
       $rows = @(Get-CimInstance -ClassName Win32_TSIssuedLicense)
       [pscustomobject]@{ added = $added
         rows = @($rows | Select-Object LicenseId, KeyPackId, sIssuedToUser, sIssuedToComputer, LicenseStatus, sHardwareId)
         pack = (${PS_PACKS} | Where-Object KeyPackId -eq $id)
         days = @($rows | ForEach-Object { [int][Math]::Round(($_.ExpirationDate - $_.IssueDate).TotalDays) })
         kinds = @($rows | ForEach-Object { $_.IssueDate.GetType().Name + '/' + [string]([Math]::Abs(((Get-Date) - $_.IssueDate).TotalMinutes) -lt 10) }) }`,
      { pt: 0, name: "\u00C9CRAN-\u0001-\u202E" },
    );
    expect(r.added).toMatchObject({ KeyPackId: 3, count: 3, IssuedLicenses: 3, AvailableLicenses: 7 });
    expect(r.rows.map((x) => [x.LicenseId, x.KeyPackId, x.sIssuedToUser, x.sIssuedToComputer, x.LicenseStatus])).toEqual([
      [1, 3, null, "PC-1", 2],
      [2, 3, null, "PC-2", 2],
      [3, 3, null, "PC-3", 2],
      [4, 3, null, "\u00C9CRAN-\u0001-\u202E", 2],
      [5, 3, null, "CLIENT-0005", 2],
    ]);
    for (const row of r.rows) expect(row.sHardwareId).toMatch(/^[0-9A-F]{32}$/);
    expect(r.pack).toMatchObject({ TotalLicenses: 10, IssuedLicenses: 5, AvailableLicenses: 5 });
    for (const d of r.days) {
      expect(d).toBeGreaterThanOrEqual(52);
      expect(d).toBeLessThanOrEqual(89);
    }
    expect(r.kinds).toEqual(Array(5).fill("DateTime/True"));
  });

  test("per-user packs only count (per-user CALs are tracked in AD, not in Win32_TSIssuedLicense)", async () => {
    const host = uniqueHost("peruser");
    const r = await fx.on<{ rows: number; pack: Pack }>(
      host,
      `${PS_ACTIVATED}$id = (${PS_INSTALL_AGREEMENT}).KeyPackId
       $null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 4
       [pscustomobject]@{ rows = @(Get-CimInstance -ClassName Win32_TSIssuedLicense).Count; pack = (${PS_PACKS} | Where-Object KeyPackId -eq $id) }`,
      { pt: 1 },
    );
    expect(r.rows).toBe(0);
    expect(r.pack).toMatchObject({ ProductType: 1, TotalLicenses: 10, IssuedLicenses: 4, AvailableLicenses: 6 });
  });

  test("issuing more than is available, from an unknown pack or from the built-in pack fails", async () => {
    const host = uniqueHost("issuebad");
    const r = await fx.on<Array<{ ok: boolean; message: string }>>(
      host,
      `${PS_ACTIVATED}$id = (${PS_INSTALL_AGREEMENT}).KeyPackId
       @((Invoke-Captured { Add-RdsSimIssuedLicense -KeyPackId $id -Count 11 }), (Invoke-Captured { Add-RdsSimIssuedLicense -KeyPackId 77 -Count 1 }), (Invoke-Captured { Add-RdsSimIssuedLicense -KeyPackId 2 -Count 1 })) | Select-Object ok, message`,
      { pt: 0 },
    );
    expect(r.map((x) => x.ok)).toEqual([false, false, false]);
    expect(r[0].message).toContain("only 10 available");
    expect(r[1].message).toContain("no installed key pack 77");
    expect(
      await fx.on<number>(host, "(Get-CimInstance -ClassName Win32_TSLicenseKeyPack | Where-Object KeyPackId -eq 3).AvailableLicenses"),
    ).toBe(10);
  });

  test("Revoke is a real instance method the emulator does not model (WBEM_E_NOT_SUPPORTED)", async () => {
    const host = uniqueHost("revoke");
    const r = await fx.on<MethodResult>(
      host,
      `${PS_ACTIVATED}$id = (${PS_INSTALL_AGREEMENT}).KeyPackId
       $null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 1
       Get-CimInstance -ClassName Win32_TSIssuedLicense | Invoke-CimMethod -MethodName Revoke`,
      { pt: 0 },
    );
    expect(r).toEqual({ ReturnValue: WBEM.NOT_SUPPORTED });
  });
});
