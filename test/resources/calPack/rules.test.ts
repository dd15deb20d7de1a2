/**
 * RdsCalPack's pure decisions (rules.ts) and its field table: the quantity and version rules, matching
 * a live pack to a declaration, what the install journal proves, when an install is ambiguous, how an
 * install failure is classified, and the lists derived from the table.
 *
 * What is real: rules.ts, schema.ts (the field table and argsSchema), messages.ts's codes.
 * What stands in: nothing (no host, no pwsh, no journal on disk: entries are plain objects).
 */
import { ErrorCode, RdsError } from "../../../provider/errors";
import { UNKNOWN } from "../../../provider/diff";
import type { JournalEntry } from "../../../provider/resources/calPack/journal";
import { ERROR_CODES, OWN_CODES, PASSED_THROUGH_CODES } from "../../../provider/resources/calPack/messages";
import {
  adoptionOwner,
  ambiguousCandidates,
  claimedByOthers,
  codeTwin,
  factsOf,
  installFailureKind,
  isPackInState,
  journalProof,
  matchesDeclaration,
  provesNothingInstalled,
  quantityDiff,
  quantityRule,
  refusedCodeCandidates,
  serverAcceptsCal,
  shrinksInPlace,
  singleUseCodeContent,
  unconfirmedVersionWarning,
  usesUnconfirmedVersionCode,
} from "../../../provider/resources/calPack/rules";
import { isLeftoverPack } from "../../../provider/licensing/facts";
import { programDataRefused } from "../../../provider/resources/calPack/messages";
import {
  argsSchema,
  DIFF_SPEC,
  FIELDS,
  OUTPUT_KEYS,
  SECRET_FIELDS,
  SECRET_OUTPUTS,
  type CalPackInputs,
  type Pack,
} from "../../../provider/resources/calPack/schema";

const CONNECTION = { transport: "simulator", host: "ls01" };

function decl(program: string, extra: Record<string, unknown> = {}): CalPackInputs {
  const data: Record<string, Record<string, unknown>> = {
    retail: { licenseCode: "ABCDE-12345-FGHIJ-67890-KLMNP" },
    keyPackId: { licenseKeyPackId: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF-12345" },
    spla: { agreementNumber: "7654321", quantity: 50 },
  };
  return argsSchema.parse({
    connection: CONNECTION,
    program,
    productVersion: "2022",
    calType: "perUser",
    journalKey: "p/s/me",
    ...data[program],
    ...extra,
  });
}

const pack = (over: Partial<Pack> = {}): Pack => ({
  keyPackId: 4,
  keyPackType: 2,
  productType: 1,
  productVersion: "Windows Server 2022",
  productVersionId: 7,
  totalLicenses: 50,
  issuedLicenses: 0,
  availableLicenses: 50,
  typeAndModel: "RDS Per User CAL",
  description: "",
  expirationDate: "",
  issuedPerDevice: 0,
  ...over,
});

function entry(over: Partial<JournalEntry>): JournalEntry {
  return {
    version: 1,
    journalKey: "p/s/other",
    host: "ls01",
    fingerprint: "f-other",
    status: "returned",
    packsBefore: [],
    program: "spla",
    productVersion: "2022",
    calType: "perUser",
    createdAt: "",
    updatedAt: "",
    ...over,
  };
}

const none = { claimed: new Set<number>(), known: new Set<number>() };
const me = { journalKey: "p/s/me", fingerprint: "f-me" };

describe("version rule: a license server takes CALs of its own version and older", () => {
  it("accepts CALs of the server's version and older only", () => {
    expect(serverAcceptsCal("2008", "2008R2")).toBe(true);
    expect(serverAcceptsCal("2008R2", "2012")).toBe(false);
    expect(serverAcceptsCal("2012R2", "2012")).toBe(true);
    expect(serverAcceptsCal("2012R2", "2016")).toBe(false);
    expect(serverAcceptsCal("2019", "2022")).toBe(false);
    expect(serverAcceptsCal("2022", "2008R2")).toBe(true);
    expect(serverAcceptsCal("2025", "2025")).toBe(true);
  });
});

describe("quantity rule", () => {
  it("shrinks in place, grows by replacement", () => {
    expect(quantityRule(10, 20)).toBe("shrink");
    expect(quantityRule(30, 20)).toBe("grow");
    expect(quantityRule(20, 20)).toBe("same");
    expect(quantityRule(undefined, 20)).toBe("same");
  });

  it("adds to the diff: grow replaces, shrink or a new quantity updates, unknown may change, retail never", () => {
    expect(quantityDiff({ program: "spla", quantity: 60 }, { quantity: 50, totalLicenses: 50 })).toEqual({ changes: true, replace: true });
    expect(quantityDiff({ program: "spla", quantity: 40 }, { quantity: 50, totalLicenses: 50 })).toEqual({ changes: true, replace: false });
    expect(quantityDiff({ program: "spla", quantity: 50 }, { quantity: 40, totalLicenses: 50 })).toEqual({ changes: true, replace: false });
    expect(quantityDiff({ program: "spla", quantity: 50 }, { quantity: 50, totalLicenses: 50 })).toEqual({
      changes: false,
      replace: false,
    });
    expect(quantityDiff({ program: "spla", quantity: UNKNOWN }, { quantity: 50, totalLicenses: 50 })).toEqual({
      changes: true,
      replace: false,
    });
    expect(quantityDiff({ program: UNKNOWN, quantity: 60 }, { quantity: 50, totalLicenses: 50 })).toEqual({
      changes: false,
      replace: false,
    });
    expect(quantityDiff({ program: "retail" }, { totalLicenses: 3 })).toEqual({ changes: false, replace: false });
  });

  it("resizes on update only when the live pack holds more than declared", () => {
    expect(shrinksInPlace(decl("spla", { quantity: 30 }), 50)).toBe(true);
    expect(shrinksInPlace(decl("spla", { quantity: 50 }), 50)).toBe(false);
    expect(shrinksInPlace(decl("retail"), 50)).toBe(false);
  });
});

describe("what a live pack is", () => {
  it("matches version, type, acquisition kind and count", () => {
    const d = decl("spla");
    expect(matchesDeclaration(pack(), d)).toBe(true);
    expect(matchesDeclaration(pack({ productVersionId: 6 }), d)).toBe(false);
    expect(matchesDeclaration(pack({ productType: 0 }), d)).toBe(false);
    expect(matchesDeclaration(pack({ totalLicenses: 49 }), d)).toBe(false);
    expect(matchesDeclaration(pack({ keyPackType: 1 }), d)).toBe(false);
    expect(matchesDeclaration(pack({ keyPackType: 0 }), d)).toBe(true);
    expect(matchesDeclaration(pack({ keyPackType: 7 }), d)).toBe(true);
  });

  it("is still the pack in state only with the state's version and type", () => {
    expect(isPackInState(pack(), { productVersion: "2022", calType: "perUser" })).toBe(true);
    expect(isPackInState(pack({ productVersionId: 6 }), { productVersion: "2022", calType: "perUser" })).toBe(false);
    expect(isPackInState(pack({ productType: 0 }), { productVersion: "2022", calType: "perUser" })).toBe(false);
    expect(isPackInState(pack(), {})).toBe(true);
  });

  it("reports the live facts in the input vocabulary", () => {
    expect(factsOf(pack({ productVersionId: 3, productType: 0 }))).toMatchObject({
      productVersion: "2008R2",
      calType: "perDevice",
      keyPackId: 4,
    });
    expect(factsOf(pack({ productVersionId: 99, productType: 9 }))).toMatchObject({
      productVersion: "Windows Server 2022",
      calType: "productType9",
    });
  });
});

describe("the journal's proof and ambiguity", () => {
  it("keeps packs claimed by other resources' entries out, never its own or pending ones", () => {
    const entries = [
      entry({ keyPackId: 1 }),
      entry({ keyPackId: 2, status: "pending" }),
      entry({ keyPackId: 3, journalKey: me.journalKey, fingerprint: me.fingerprint }),
      entry({ keyPackId: 4, status: "installed" }),
    ];
    expect([...claimedByOthers(entries, me)].sort()).toEqual([1, 4]);
  });

  it("an installed entry whose pack is there proves it; gone, it proves nothing", () => {
    const d = decl("spla");
    const mine = entry({ ...me, status: "installed", keyPackId: 9 });
    expect(journalProof(mine, [pack({ keyPackId: 9, totalLicenses: 1 })], d, none)).toMatchObject({
      kind: "proven",
      pack: { keyPackId: 9 },
    });
    expect(journalProof(mine, [pack()], d, none)).toEqual({ kind: "none" });
    expect(journalProof({ ...mine, status: "returned" }, [pack({ keyPackId: 9 })], d, none)).toEqual({ kind: "none" });
    expect(journalProof(undefined, [pack()], d, none)).toEqual({ kind: "none" });
  });

  it("a pending entry owns the one matching pack that appeared since; several are ambiguous", () => {
    const d = decl("spla");
    const mine = entry({ ...me, status: "pending", packsBefore: [4] });
    expect(journalProof(mine, [pack(), pack({ keyPackId: 5 })], d, none)).toMatchObject({ kind: "proven", pack: { keyPackId: 5 } });
    expect(journalProof(mine, [pack(), pack({ keyPackId: 5 }), pack({ keyPackId: 6 })], d, none)).toMatchObject({ kind: "ambiguous" });
    expect(journalProof(mine, [pack(), pack({ keyPackId: 5 })], d, { claimed: new Set([5]), known: new Set() })).toEqual({ kind: "none" });
    expect(journalProof(mine, [pack(), pack({ keyPackId: 5, totalLicenses: 3 })], d, none)).toEqual({ kind: "none" });
  });

  it("without proof, matching packs nobody claims make an install ambiguous; single-use codes never", () => {
    const packs = [pack(), pack({ keyPackId: 5 }), pack({ keyPackId: 6, totalLicenses: 1 })];
    expect(ambiguousCandidates(packs, decl("spla"), none).map((p) => p.keyPackId)).toEqual([4, 5]);
    expect(ambiguousCandidates(packs, decl("spla"), { claimed: new Set([4]), known: new Set([5]) })).toEqual([]);
    expect(ambiguousCandidates(packs, decl("retail"), none)).toEqual([]);
  });

  it("finds the other owner of a pack to adopt", () => {
    const entries = [entry({ keyPackId: 7 }), entry({ keyPackId: 8, status: "pending" }), entry({ keyPackId: 9, ...me })];
    expect(adoptionOwner(entries, 7, me)?.journalKey).toBe("p/s/other");
    expect(adoptionOwner(entries, 8, me)).toBeUndefined();
    expect(adoptionOwner(entries, 9, me)).toBeUndefined();
  });
});

describe("leftover packs (no licenses, seen with KeyPackType 7) are never matched (docs/windows-facts.md#key-pack-type)", () => {
  const leftover = (over: Partial<Pack> = {}) =>
    pack({ keyPackId: 30, keyPackType: 7, totalLicenses: 0, issuedLicenses: 0, availableLicenses: 0, ...over });

  it("is a leftover exactly when it holds no licenses", () => {
    expect(isLeftoverPack(leftover())).toBe(true);
    expect(isLeftoverPack(leftover({ keyPackType: 2 }))).toBe(true);
    expect(isLeftoverPack(pack({ keyPackType: 7 }))).toBe(false);
  });

  it("matches no declaration, makes no install ambiguous, is proven by no journal entry", () => {
    // A declaration of the leftover's own version and type: only the live pack counts.
    expect(matchesDeclaration(leftover(), decl("spla", { quantity: 1 }))).toBe(false);
    expect(ambiguousCandidates([leftover(), pack()], decl("spla"), none).map((p) => p.keyPackId)).toEqual([4]);
    const pending = entry({ ...me, status: "pending", packsBefore: [] });
    expect(journalProof(pending, [leftover()], decl("spla"), none)).toEqual({ kind: "none" });
    const installed = entry({ ...me, status: "installed", keyPackId: 30 });
    expect(journalProof(installed, [leftover()], decl("spla"), none)).toEqual({ kind: "none" });
  });

  it("is never a pack a refused single-use code may have become", () => {
    const d = decl("retail");
    expect(refusedCodeCandidates([leftover(), pack({ keyPackId: 5, keyPackType: 1 })], d, none).map((p) => p.keyPackId)).toEqual([5]);
  });
});

describe("ProductVersion 7 (2022) and 8 (2025) for Open and agreement installs: unconfirmed, a warning", () => {
  it("warns for openLicense and every agreement program with 2022 or 2025, never for older versions or code programs", () => {
    for (const program of ["openLicense", "select", "enterpriseAgreement", "campus", "school", "spla", "otherAgreement"]) {
      expect(usesUnconfirmedVersionCode(program, "2022")).toBe(true);
      expect(usesUnconfirmedVersionCode(program, "2025")).toBe(true);
      expect(usesUnconfirmedVersionCode(program, "2019")).toBe(false);
    }
    for (const program of ["retail", "keyPackId"]) expect(unconfirmedVersionWarning(program, "2025")).toBeUndefined();
    expect(unconfirmedVersionWarning("spla", "2016")).toBeUndefined();
  });

  it("says which code goes to which method, that no source confirms it, and what to do if Windows refuses it", () => {
    const w = unconfirmedVersionWarning("spla", "2025")!;
    expect(w).toMatch(/productVersion "2025" is sent to InstallAgreementLicenseKeyPack as ProductVersion 8/);
    expect(w).toMatch(/no Microsoft source confirms/);
    expect(w).toMatch(
      /if the install is refused \(RDS_REJECTED on InstallAgreementLicenseKeyPack\), install the pack with the Install Licenses wizard.*adoptKeyPackId/,
    );
    expect(unconfirmedVersionWarning("openLicense", "2022")).toMatch(/InstallOpenLicenseKeyPack as ProductVersion 7/);
  });

  it("a refused install of an unconfirmed version names the way out; a confirmed one does not", () => {
    const refusal = Object.assign(new RdsError(ErrorCode.Wmi, "installing CAL pack on ls01: InstallAgreementLicenseKeyPack failed"), {
      method: "InstallAgreementLicenseKeyPack",
    });
    const e2025 = programDataRefused(refusal, "ls01", decl("spla", { productVersion: "2025" }));
    expect(e2025.code).toBe(ErrorCode.Rejected);
    expect(e2025.message).toMatch(/uses an input code no Microsoft source confirms.*adoptKeyPackId/);
    expect(programDataRefused(refusal, "ls01", decl("spla", { productVersion: "2019" })).message).not.toMatch(/no Microsoft source/);
  });
});

describe("install failures", () => {
  const wmi = (over: Partial<RdsError>) => Object.assign(new RdsError(ErrorCode.Wmi, "installing on ls01: x"), over);

  it("classifies: unreachable Clearinghouse, a refused install call, anything else", () => {
    expect(installFailureKind(wmi({ wmiName: "WBEM_E_NOT_AVAILABLE", method: "InstallAgreementLicenseKeyPack" }))).toBe("unreachable");
    expect(installFailureKind(wmi({ wmiName: "WBEM_E_INVALID_PARAMETER", method: "InstallRetailPurchaseLicenseKeyPack" }))).toBe("refused");
    expect(installFailureKind(wmi({ wmiName: "WBEM_E_PROVIDER_FAILURE", method: "GetActivationStatus" }))).toBe("other");
    expect(installFailureKind(new RdsError(ErrorCode.Timeout, "x"))).toBe("other");
  });

  it("voids the journal intent only for refusals that prove nothing was installed", () => {
    for (const code of [
      ErrorCode.Wmi,
      ErrorCode.NotActivated,
      ErrorCode.VersionNotAccepted,
      ErrorCode.Validation,
      ErrorCode.AccessDenied,
      ErrorCode.ClassNotReady,
    ]) {
      expect(provesNothingInstalled(new RdsError(code, "x"))).toBe(true);
    }
    for (const code of [ErrorCode.Timeout, ErrorCode.ScriptError, ErrorCode.InvalidResult, ErrorCode.ConnectionLost]) {
      expect(provesNothingInstalled(new RdsError(code, "x"))).toBe(false);
    }
  });

  it("finds the resource that installed the same single-use code, and the packs a refused code may be", () => {
    const d = decl("retail");
    const twin = entry({ codeFingerprint: "c", keyPackId: 4, journalKey: "p/s/box" });
    expect(codeTwin([twin], "c", d, [pack()])?.journalKey).toBe("p/s/box");
    expect(codeTwin([twin], "c", d, [pack({ keyPackId: 5 })])).toBeUndefined();
    expect(codeTwin([{ ...twin, journalKey: d.journalKey }], "c", d, [pack()])).toBeUndefined();
    expect(codeTwin([twin], undefined, d, [pack()])).toBeUndefined();
    const packs = [pack({ keyPackType: 1, totalLicenses: 8 }), pack({ keyPackId: 5, productType: 0 })];
    expect(refusedCodeCandidates(packs, d, none).map((p) => p.keyPackId)).toEqual([4]);
    expect(singleUseCodeContent(d)).toEqual({ singleUseCode: "ABCDE12345FGHIJ67890KLMNP", program: "retail" });
    expect(singleUseCodeContent(decl("spla"))).toBeUndefined();
  });
});

describe("the field table", () => {
  it("derives the secret, output and comparator lists", () => {
    expect([...SECRET_OUTPUTS]).toEqual(["connection", ...SECRET_FIELDS]);
    expect([...FIELDS.secretValueFields]).toEqual([...SECRET_FIELDS]);
    expect(OUTPUT_KEYS).toEqual(
      expect.arrayContaining(["connection", "journalKey", "quantity", "knownOtherPacks", "keyPackId", "totalLicenses", "expirationDate"]),
    );
    expect(OUTPUT_KEYS).not.toContain("targetHost");
    expect(Object.keys(DIFF_SPEC)).not.toContain("quantity");
    expect(DIFF_SPEC.targetHost).toMatchObject({ replace: true });
    expect(DIFF_SPEC.licenseCode).toMatchObject({ replace: true, carried: true });
    expect([...FIELDS.stateOnlyFields].sort()).toEqual([
      "allowRemovingIssuedLicenses",
      "connection",
      "licenseServerActivationMethod",
      "licenseServerName",
    ]);
  });

  it("lists every code once, its own and the ones it passes through", () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(ERROR_CODES.length).toBe(OWN_CODES.length + PASSED_THROUGH_CODES.length);
    expect(ERROR_CODES).toContain(ErrorCode.Internal);
  });
});
