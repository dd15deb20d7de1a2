/**
 * Every user-visible error RdsCalPack raises itself, one function each: `<doing> on <host>: <cause>:
 * <fix>`, with its stable code (the kit appends `[RDS_…]` when the error leaves the provider). The
 * scripts' own refusals (not activated, version, issued licenses) come through the runner with their
 * code; `ERROR_CODES` lists every code a user of this resource can meet, and README.md ("Errors")
 * says what to do about each.
 */
import { ErrorCode, PASSED_THROUGH_CODES, RdsError, isRdsError } from "../../errors";
import { calTypeFromProductType, calTypeLabel, productVersionFromId } from "../../licensing/facts";
import { simulatorLicenseServerIdCommand } from "../licenseServer/rules";
import type { JournalEntry } from "./journal";
import { UNCONFIRMED_VERSION_REMEDY, codeName, usesUnconfirmedVersionCode } from "./rules";
import type { CalPackInputs, Pack } from "./schema";

/** A pack as a user recognises it in RD Licensing Manager: `#5 (2022 Per User, 50 CALs, KeyPackType 2)`. */
export function describePack(p: Pack): string {
  const version = productVersionFromId(p.productVersionId) ?? p.productVersion;
  const type = calTypeFromProductType(p.productType);
  return `#${p.keyPackId} (${version} ${type ? calTypeLabel(type) : `ProductType ${p.productType}`}, ${p.totalLicenses} CALs, KeyPackType ${p.keyPackType})`;
}

/** The WMI details of a runner error, kept when it is explained further. */
function wmiDetails(e: RdsError, host: string) {
  return { host, operation: e.operation, returnValue: e.returnValue, wmiName: e.wmiName, method: e.method, cause: e };
}

// ---- adopting ------------------------------------------------------------------------------------

export function adoptedPackMissing(doing: string, host: string, keyPackId: number): RdsError {
  return new RdsError(
    ErrorCode.NotFound,
    `${doing} on ${host}: there is no key pack with KeyPackId ${keyPackId} (the built-in pack and leftover packs without licenses cannot be adopted): check the KeyPackId column in RD Licensing Manager`,
    { host },
  );
}

/** The pack to adopt holds no licenses (a leftover, docs/windows-facts.md#key-pack-type): nothing to manage. */
export function adoptedPackLeftover(doing: string, host: string, p: Pack): RdsError {
  return new RdsError(
    ErrorCode.Validation,
    `${doing} on ${host}: pack ${describePack(p)} holds no licenses (a leftover row, not a CAL pack): adopt the pack that holds the CALs, or install one`,
    { host },
  );
}

export function adoptedPackOtherKind(doing: string, host: string, p: Pack, d: CalPackInputs): RdsError {
  return new RdsError(
    ErrorCode.Validation,
    `${doing} on ${host}: pack ${describePack(p)} is not a ${d.productVersion} ${calTypeLabel(d.calType)} pack as declared: ` +
      `fix productVersion and calType, or adopt another pack`,
    { host },
  );
}

export function adoptedPackOwned(doing: string, host: string, keyPackId: number, owner: JournalEntry, journalDir: string): RdsError {
  return new RdsError(
    ErrorCode.AmbiguousPack,
    `${doing} on ${host}: pack #${keyPackId} is already managed by ${owner.journalKey || "another RdsCalPack"} (install journal ${journalDir}): ` +
      `a pack has one owner; adopt another pack, or delete the other resource first`,
    { host },
  );
}

// ---- installing ------------------------------------------------------------------------------------

export function ambiguousPacks(doing: string, host: string, candidates: readonly Pack[], why: string): RdsError {
  return new RdsError(
    ErrorCode.AmbiguousPack,
    `${doing} on ${host}: ${why}: ${candidates.map(describePack).join(", ")}. Nothing was installed. ` +
      `If one of them is this pack, set adoptKeyPackId to its KeyPackId; if none is, list them in knownOtherPacks ` +
      `(e.g. knownOtherPacks: [${candidates.map((p) => p.keyPackId).join(", ")}]) to install a new pack`,
    { host },
  );
}

/** Why packs already on the server make the install ambiguous. */
export const matchingPacksExist = (n: number) => `the license server already has ${n === 1 ? "a pack" : "packs"} matching this declaration`;
export const interruptedInstall = (journalDir: string) =>
  `an earlier run was interrupted during this install (journal ${journalDir}) and several matching packs appeared since`;

/** The install returned a KeyPackId but the pack could not be read: recorded as a partial success. */
export function installedPackUnreadable(doing: string, host: string, method: string, keyPackId: number): RdsError {
  return new RdsError(
    ErrorCode.NotFound,
    `${doing} on ${host}: ${method} installed key pack #${keyPackId} but it could not be read back: run pulumi refresh`,
    { host },
  );
}

/** A retail code or key pack id installed another version or type than declared: recorded as a partial success. */
export function installedOtherKind(host: string, d: CalPackInputs, p: Pack): RdsError {
  const version = productVersionFromId(p.productVersionId);
  const type = calTypeFromProductType(p.productType);
  return new RdsError(
    ErrorCode.Validation,
    `installing CAL pack on ${host}: the ${codeName(d.program)} installed ${describePack(p)}, not the declared ` +
      `${d.productVersion} ${calTypeLabel(d.calType)}: set productVersion "${version ?? p.productVersion}" and calType "${type ?? p.productType}" ` +
      `to match (changing them otherwise means a replacement, which a used code cannot do)`,
    { host },
  );
}

/** `e`: the install failure, already `<doing> on <host>: <cause>`. */
export function clearinghouseUnreachable(e: RdsError, host: string): RdsError {
  return new RdsError(
    ErrorCode.ClearinghouseUnreachable,
    `${e.message}: the license server could not reach the Microsoft Clearinghouse (it needs outbound HTTPS); nothing was installed. ` +
      `Run pulumi up again once it can, or install offline: get a license key pack id from the Remote Desktop Licensing web site ` +
      `or by telephone and declare program "keyPackId" with licenseKeyPackId`,
    wmiDetails(e, host),
  );
}

export function codeInstalledElsewhere(e: RdsError, host: string, d: CalPackInputs, twin: JournalEntry): RdsError {
  const what = codeName(d.program);
  return new RdsError(
    ErrorCode.Rejected,
    `${e.message}: the Clearinghouse did not accept the ${what}: the same ${what} is already installed here as pack #${twin.keyPackId}, ` +
      `managed by ${twin.journalKey || "another RdsCalPack"}; a code is single use: remove this duplicate declaration`,
    wmiDetails(e, host),
  );
}

export function codeRefused(e: RdsError, host: string, d: CalPackInputs, candidates: readonly Pack[]): RdsError {
  const what = codeName(d.program);
  const hint =
    candidates.length > 0
      ? ` If this ${what} was installed on ${host} before, it is one of ${candidates.map(describePack).join(", ")}: set adoptKeyPackId to it (a code is single use).`
      : ` A ${what} is single use: if it was installed on another license server, move the CALs (migration) instead.`;
  return new RdsError(ErrorCode.Rejected, `${e.message}: the Clearinghouse did not accept the ${what}.${hint}`, wmiDetails(e, host));
}

export function programDataRefused(e: RdsError, host: string, d: CalPackInputs): RdsError {
  return new RdsError(
    ErrorCode.Rejected,
    `${e.message}: the license server or the Clearinghouse did not accept the ${d.program} data` +
      (usesUnconfirmedVersionCode(d.program, d.productVersion)
        ? `; productVersion "${d.productVersion}" uses an input code no Microsoft source confirms for this method: if the data is right, ${UNCONFIRMED_VERSION_REMEDY}`
        : ""),
    wmiDetails(e, host),
  );
}

// ---- not activated ----------------------------------------------------------------------------------

/** The product id a not-activated refusal names (CalPack.Common.ps1 words it `(product id <id>)`). */
const REFUSAL_PRODUCT_ID = /\(product id ([^)\s]+)\)/;

/**
 * The script's not-activated refusal (RDS_NOT_ACTIVATED, worded by CalPack.Common.ps1 with the real
 * route: the web site, the telephone number, or automatic) with the route of the connection's
 * transport: on the simulator the product id is made up and no web site issues an id for it, so the
 * rds-sim command that plays the Clearinghouse is added. Any other error, or another transport, or the
 * automatic method (no id to fetch), is returned as it is: code, message and details unchanged.
 */
export function withActivationRoute(e: unknown, transport: string, activationMethod: string): unknown {
  if (!isRdsError(e) || e.code !== ErrorCode.NotActivated || transport !== "simulator") return e;
  if (activationMethod !== "web" && activationMethod !== "telephone") return e;
  const productId = REFUSAL_PRODUCT_ID.exec(e.message)?.[1] ?? "<the license server's productId>";
  return new RdsError(
    e.code,
    `${e.message} (on the simulator, ${simulatorLicenseServerIdCommand(productId)} plays the Clearinghouse and prints the license server id)`,
    { host: e.host, operation: e.operation, durationMs: e.durationMs, stderr: e.stderr, scriptCode: e.scriptCode, cause: e.cause },
  );
}

// ---- updating ------------------------------------------------------------------------------------

export function packGone(keyPackId: string, host: string): RdsError {
  return new RdsError(
    ErrorCode.NotFound,
    `updating CAL pack #${keyPackId} on ${host}: the pack is no longer on the license server: run pulumi refresh, then pulumi up installs it again`,
    { host },
  );
}

export function packCannotGrow(keyPackId: string, host: string, total: number, quantity: number): RdsError {
  return new RdsError(
    ErrorCode.Validation,
    `updating CAL pack #${keyPackId} on ${host}: the pack holds ${total} CALs and quantity is ${quantity}: a pack cannot grow in place (RemoveLicensesWithIdCount only removes); preview shows this as a replacement`,
    { host },
  );
}

// ---- the codes -------------------------------------------------------------------------------------

/** Codes of this resource's own messages and of its scripts' refusals. */
export const OWN_CODES = [
  ErrorCode.Validation,
  ErrorCode.NotFound,
  ErrorCode.AmbiguousPack,
  ErrorCode.Rejected,
  ErrorCode.ClearinghouseUnreachable,
  ErrorCode.NotActivated,
  ErrorCode.VersionNotAccepted,
  ErrorCode.IssuedLicenses,
] as const;

/** Codes of the runner, the transports and the kit that every resource passes through unchanged (errors.ts). */
export { PASSED_THROUGH_CODES };

/** Every code an RdsCalPack error can carry. */
export const ERROR_CODES: readonly ErrorCode[] = [...OWN_CODES, ...PASSED_THROUGH_CODES];
