/**
 * RdsCalPack's decisions, free of I/O: the quantity rule, the version rule, what install.ps1 is
 * given, whether a live pack matches a declaration, which packs the journal proves or leaves
 * ambiguous, and how an install failure reads. The provider modules run the steps and act on these
 * answers; tests call them in process (test/resources/calPack/rules.test.ts).
 */
import { containsUnknown } from "../../diff";
import { ErrorCode, type RdsError } from "../../errors";
import {
  KEY_PACK_TYPES,
  MINIMUM_CAL,
  PRODUCT_TYPE_CODE,
  PRODUCT_VERSION_CODE,
  PRODUCT_VERSIONS,
  calTypeFromProductType,
  isLeftoverPack,
  productVersionFromId,
  type HostOsVersion,
  type ProductVersion,
} from "../../licensing/facts";
import type { JournalEntry } from "./journal";
import {
  AGREEMENT_TYPE,
  EXPECTED_KEY_PACK_TYPES,
  isAgreementProgram,
  takesQuantity,
  type CalPackInputs,
  type Pack,
  type PackFacts,
  type Program,
} from "./schema";

type Props = Record<string, unknown>;

// ---- quantity and version ------------------------------------------------------------------------

/**
 * quantity against the live TotalLicenses: "shrink" (update in place), "grow" (replace), or "same".
 * Programs without a quantity (retail, keyPackId) are never compared: the code fixes the count.
 */
export function quantityRule(quantity: number | undefined, totalLicenses: number | undefined): "same" | "shrink" | "grow" {
  if (quantity === undefined || totalLicenses === undefined) return "same";
  if (totalLicenses > quantity) return "shrink";
  if (totalLicenses < quantity) return "grow";
  return "same";
}

/** What quantity adds to the comparator's answer (news: checked inputs; olds: state with the live total). */
export function quantityDiff(news: Props, olds: Props): { changes: boolean; replace: boolean } {
  const program = news.program;
  if (typeof program !== "string" || containsUnknown(program) || !takesQuantity(program as Program))
    return { changes: false, replace: false };
  const q = news.quantity;
  if (containsUnknown(q)) return { changes: true, replace: false };
  if (typeof q !== "number") return { changes: false, replace: false };
  const rule = quantityRule(q, typeof olds.totalLicenses === "number" ? olds.totalLicenses : undefined);
  if (rule === "grow") return { changes: true, replace: true };
  return { changes: rule === "shrink" || olds.quantity !== q, replace: false };
}

/** Whether an update removes CALs in place (resize.ps1) rather than only reading the pack. */
export function shrinksInPlace(d: CalPackInputs, liveTotal: number | undefined): boolean {
  return takesQuantity(d.program) && d.quantity !== undefined && quantityRule(d.quantity, liveTotal) === "shrink";
}

/**
 * A license server takes CALs of its own Windows Server version and older: the newest it takes is the
 * CAL version of its OS, the same OS-to-CAL table that says which CAL a session host needs
 * (docs/windows-facts.md). The scripts apply the rule themselves (CalPack.Common.ps1); this copy
 * serves messages and tests.
 */
export function serverAcceptsCal(server: HostOsVersion, cal: ProductVersion): boolean {
  return PRODUCT_VERSIONS.indexOf(cal) <= PRODUCT_VERSIONS.indexOf(MINIMUM_CAL[server]);
}

// ---- what a pack is --------------------------------------------------------------------------------

/** The live facts the resource reports (the WMI values mapped back to the input vocabulary). */
export function factsOf(p: Pack): PackFacts {
  return {
    keyPackId: p.keyPackId,
    typeAndModel: p.typeAndModel,
    productVersion: productVersionFromId(p.productVersionId) ?? p.productVersion,
    calType: calTypeFromProductType(p.productType) ?? `productType${p.productType}`,
    keyPackType: p.keyPackType,
    totalLicenses: p.totalLicenses,
    issuedLicenses: p.issuedLicenses,
    availableLicenses: p.availableLicenses,
    expirationDate: p.expirationDate,
  };
}

/** True when the pack is the declared CAL version and type (a retail code or key pack id decides both). */
export function isDeclaredKind(p: Pack, d: Pick<CalPackInputs, "productVersion" | "calType">): boolean {
  return productVersionFromId(p.productVersionId) === d.productVersion && calTypeFromProductType(p.productType) === d.calType;
}

/**
 * True when the live pack under a KeyPackId is still the pack in state: the same KeyPackId with another
 * version or type is not the pack this resource installed (read reports it gone, delete leaves it).
 */
export function isPackInState(p: Pack, state: Props): boolean {
  const version = state.productVersion;
  const type = state.calType;
  return (
    (typeof version !== "string" || (productVersionFromId(p.productVersionId) ?? p.productVersion) === version) &&
    (typeof type !== "string" || calTypeFromProductType(p.productType) === type)
  );
}

/** Does a live pack look like what this declaration would install? (version, type, acquisition, count) */
export function matchesDeclaration(p: Pack, d: CalPackInputs): boolean {
  // A leftover (no licenses) is nobody's install: never a match, never ambiguous.
  if (isLeftoverPack(p) || !isDeclaredKind(p, d)) return false;
  const kinds = EXPECTED_KEY_PACK_TYPES[d.program];
  // Unknown and undocumented key pack types are seen on real servers: they always stay candidates.
  const vague = p.keyPackType === KEY_PACK_TYPES.unknown || p.keyPackType === KEY_PACK_TYPES.undocumented;
  if (kinds !== "any" && !kinds.includes(p.keyPackType) && !vague) return false;
  if (takesQuantity(d.program) && p.totalLicenses !== d.quantity) return false;
  return true;
}

// ---- install --------------------------------------------------------------------------------------

/**
 * CAL versions whose `ProductVersion` input code no Microsoft source lists for InstallOpenLicenseKeyPack
 * and InstallAgreementLicenseKeyPack (their tables stop at 6 = 2019): 7 = 2022 is the key packs'
 * ProductVersionID of 2022, 8 = 2025 is assumed (docs/windows-facts.md#product-version-input).
 */
export const UNCONFIRMED_INPUT_VERSIONS: readonly ProductVersion[] = ["2022", "2025"];

/** True when install.ps1 would send this declaration an input code no source confirms. */
export function usesUnconfirmedVersionCode(program: string, productVersion: string): boolean {
  return (
    (program === "openLicense" || isAgreementProgram(program)) && (UNCONFIRMED_INPUT_VERSIONS as readonly string[]).includes(productVersion)
  );
}

/** What to do when Windows refuses an unconfirmed version code: the Install Licenses wizard, then adoption. */
export const UNCONFIRMED_VERSION_REMEDY =
  "install the pack with the Install Licenses wizard of RD Licensing Manager instead, then declare it with adoptKeyPackId set to its Key Pack ID (nothing is installed twice)";

/**
 * The warning the resource sends at registration (preview and up, before check) for an unconfirmed
 * version code, or undefined. Not a check failure: the value is probably right, and refusing it would
 * block the only declarative path to 2022/2025 agreement and Open packs.
 */
export function unconfirmedVersionWarning(program: string, productVersion: string): string | undefined {
  if (!usesUnconfirmedVersionCode(program, productVersion)) return undefined;
  const code = PRODUCT_VERSION_CODE[productVersion as ProductVersion];
  const method = program === "openLicense" ? "InstallOpenLicenseKeyPack" : "InstallAgreementLicenseKeyPack";
  return (
    `productVersion "${productVersion}" is sent to ${method} as ProductVersion ${code}, a value no Microsoft source confirms for that method ` +
    `(its documented values end at 6, Windows Server 2019): if the install is refused (RDS_REJECTED on ${method}), ${UNCONFIRMED_VERSION_REMEDY}`
  );
}

/** The arguments install.ps1 takes for a declaration: the WMI value codes of the program's method. */
export function installArgs(d: CalPackInputs): Props {
  const base: Props = {
    program: d.program,
    productVersion: d.productVersion,
    activationMethod: d.licenseServerActivationMethod,
  };
  switch (d.program) {
    case "retail":
      return { ...base, licenseCode: d.licenseCode };
    case "keyPackId":
      return { ...base, licenseKeyPackId: d.licenseKeyPackId };
    case "openLicense":
      return {
        ...base,
        licenseNumber: d.licenseNumber,
        authorizationNumber: d.authorizationNumber,
        productVersionCode: PRODUCT_VERSION_CODE[d.productVersion],
        productTypeCode: PRODUCT_TYPE_CODE[d.calType],
        licenseCount: d.quantity,
      };
    default:
      if (!isAgreementProgram(d.program)) throw new Error(`unknown program ${String(d.program)}`);
      return {
        ...base,
        agreementType: AGREEMENT_TYPE[d.program],
        agreementNumber: d.agreementNumber,
        productVersionCode: PRODUCT_VERSION_CODE[d.productVersion],
        productTypeCode: PRODUCT_TYPE_CODE[d.calType],
        licenseCount: d.quantity,
      };
  }
}

/** What the journal fingerprint covers: everything that makes an install this install (secrets included, hashed). */
export function fingerprintContent(d: CalPackInputs): Props {
  return {
    host: d.connection.host.toLowerCase(),
    program: d.program,
    licenseCode: d.licenseCode,
    licenseNumber: d.licenseNumber,
    authorizationNumber: d.authorizationNumber,
    agreementNumber: d.agreementNumber,
    licenseKeyPackId: d.licenseKeyPackId,
    productVersion: d.productVersion,
    calType: d.calType,
    quantity: d.quantity,
  };
}

/** What the code fingerprint covers: the single-use code (retail code, key pack id); undefined for the other programs. */
export function singleUseCodeContent(d: CalPackInputs): Props | undefined {
  if (takesQuantity(d.program)) return undefined;
  return { singleUseCode: d.program === "retail" ? d.licenseCode : d.licenseKeyPackId, program: d.program };
}

/** The single-use code's name, for messages. */
export function codeName(program: Program): string {
  return program === "retail" ? "license code" : "key pack id";
}

// ---- the journal's proof, and ambiguity ------------------------------------------------------------

export interface Me {
  readonly journalKey: string;
  readonly fingerprint: string;
}

/** KeyPackIds other resources' journal entries hold (installed or returned): never this resource's to take. */
export function claimedByOthers(entries: readonly JournalEntry[], me: Me): Set<number> {
  const claimed = new Set<number>();
  for (const e of entries) {
    if (e.keyPackId === undefined || e.status === "pending") continue;
    if (e.journalKey === me.journalKey && e.fingerprint === me.fingerprint) continue;
    claimed.add(e.keyPackId);
  }
  return claimed;
}

/** What the packs on the server may be, besides this declaration's: claimed by others, or listed as known. */
export interface Others {
  readonly claimed: ReadonlySet<number>;
  readonly known: ReadonlySet<number>;
}

const free = (p: Pack, o: Others) => !o.claimed.has(p.keyPackId) && !o.known.has(p.keyPackId);

export type Proof = { kind: "proven"; pack: Pack } | { kind: "ambiguous"; packs: Pack[] } | { kind: "none" };

/**
 * What this resource's own journal entry proves about the packs on the server (a crash between the
 * install and the state write): `installed` with a KeyPackId that is still there is that pack; a
 * `pending` entry owns the one matching pack that appeared since (several: ambiguous); anything else
 * proves nothing. A `returned` entry proves nothing either: the engine already got that pack.
 */
export function journalProof(mine: JournalEntry | undefined, packs: readonly Pack[], d: CalPackInputs, others: Others): Proof {
  if (!mine || mine.status === "returned") return { kind: "none" };
  if (mine.keyPackId !== undefined) {
    const p = packs.find((x) => x.keyPackId === mine.keyPackId && !isLeftoverPack(x));
    return p ? { kind: "proven", pack: p } : { kind: "none" };
  }
  const before = new Set(mine.packsBefore);
  const ours = packs.filter((p) => !before.has(p.keyPackId) && free(p, others) && matchesDeclaration(p, d));
  if (ours.length === 1) return { kind: "proven", pack: ours[0] };
  return ours.length > 1 ? { kind: "ambiguous", packs: ours } : { kind: "none" };
}

/**
 * Without proof, packs that already match the declaration make an install ambiguous: never adopted
 * silently. Retail codes and key pack ids cannot be matched before installing (WMI does not show the
 * code, and the code sets the count): none for them; the Clearinghouse refuses a used one.
 */
export function ambiguousCandidates(packs: readonly Pack[], d: CalPackInputs, others: Others): Pack[] {
  if (!takesQuantity(d.program)) return [];
  return packs.filter((p) => matchesDeclaration(p, d) && free(p, others));
}

/** The journal entry of another resource that claims the pack to adopt, if any. */
export function adoptionOwner(entries: readonly JournalEntry[], keyPackId: number, me: Me): JournalEntry | undefined {
  return entries.find(
    (e) => e.keyPackId === keyPackId && e.status !== "pending" && !(e.journalKey === me.journalKey && e.fingerprint === me.fingerprint),
  );
}

// ---- install failures ------------------------------------------------------------------------------

/** Error codes of install.ps1 that prove the install call did not install anything. */
const NOTHING_INSTALLED = new Set<string>([
  ErrorCode.Wmi,
  ErrorCode.NotActivated,
  ErrorCode.VersionNotAccepted,
  ErrorCode.Validation,
  ErrorCode.AccessDenied,
  ErrorCode.ClassNotReady,
]);

/** A refusal the script or WMI answered: nothing was installed (a timeout or a dead pwsh may have installed). */
export function provesNothingInstalled(e: RdsError): boolean {
  return NOTHING_INSTALLED.has(e.code);
}

/**
 * What an install failure was: the server could not reach the Clearinghouse (`unreachable`), the
 * install call itself was refused (`refused`: the Clearinghouse or the server did not accept the data),
 * or anything else (reading the activation status, listing the packs: it keeps its own code).
 */
export function installFailureKind(e: RdsError): "unreachable" | "refused" | "other" {
  if (e.code !== ErrorCode.Wmi) return "other";
  if (e.wmiName === "WBEM_E_NOT_AVAILABLE") return "unreachable";
  return typeof e.method === "string" && e.method.startsWith("Install") ? "refused" : "other";
}

/** Another resource's journal entry for the same single-use code whose pack is still on the server. */
export function codeTwin(
  entries: readonly JournalEntry[],
  codeFingerprint: string | undefined,
  d: CalPackInputs,
  packs: readonly Pack[],
): JournalEntry | undefined {
  if (codeFingerprint === undefined) return undefined;
  const live = new Set(packs.map((p) => p.keyPackId));
  return entries.find(
    (x) =>
      x.codeFingerprint === codeFingerprint &&
      x.journalKey !== d.journalKey &&
      x.status !== "pending" &&
      x.keyPackId !== undefined &&
      live.has(x.keyPackId),
  );
}

/** The packs a refused single-use code may have become on this server (its version and type, nobody else's). */
export function refusedCodeCandidates(packs: readonly Pack[], d: CalPackInputs, others: Others): Pack[] {
  return packs.filter((p) => !isLeftoverPack(p) && isDeclaredKind(p, d) && free(p, others));
}
