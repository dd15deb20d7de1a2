/**
 * RdsCalPack operations: check · diff · create · read · update · delete (README.md says what each does).
 *
 * Loaded at call time by the lazy shim in the dynamic-provider host (never serialized). Every WMI call
 * goes through one of this folder's scripts and `runOperation`; the install journal (journal.ts) makes
 * create safe against a crash between the install and the state write.
 */
import type * as pulumi from "@pulumi/pulumi";
import { checkWithSchema } from "../../check";
import { compare, containsUnknown, UNKNOWN } from "../../diff";
import { ErrorCode, isRdsError, RdsError } from "../../errors";
import { providerFile } from "../../paths";
import { Coalescer } from "../../powershell/coalesce";
import { parseConnection, runOperation } from "../../powershell/runner";
import { targetKey, type Connection } from "../../powershell/transport";
import { operationTimeout } from "../timeouts";
import { unwrapSecrets, wrapSecrets } from "../secrets";
import * as journal from "./journal";
import {
  AGREEMENT_TYPE,
  argsSchema,
  calTypeFromProductType,
  calTypeLabel,
  DIFF_SPEC,
  EXPECTED_KEY_PACK_TYPES,
  getManyResultSchema,
  getResultSchema,
  inspectResultSchema,
  installResultSchema,
  isAgreementProgram,
  PRODUCT_TYPE_CODE,
  PRODUCT_VERSION_CODE,
  productVersionFromId,
  quantityRule,
  removeResultSchema,
  resizeResultSchema,
  SECRET_FIELDS,
  SECRET_OUTPUTS,
  takesQuantity,
  type CalPackInputs,
  type CalPackOutputs,
  type InspectResult,
  type Pack,
  type PackFacts,
} from "./schema";

type Props = Record<string, unknown>;

const script = (name: string) => providerFile(`resources/calPack/${name}.ps1`);

/** Error codes of install.ps1 that prove the install call did not install anything. */
const NOTHING_INSTALLED = new Set<string>([
  ErrorCode.Wmi,
  ErrorCode.NotActivated,
  ErrorCode.VersionNotAccepted,
  ErrorCode.Validation,
  ErrorCode.AccessDenied,
  ErrorCode.ClassNotReady,
]);

/** Timeouts: installs talk to the Clearinghouse (reference 9.2), reads are local. */
const TIMEOUT = { read: 60_000, install: 300_000, change: 120_000 } as const;

// ---- small helpers --------------------------------------------------------------------------------

function withoutProvider(props: Props): Props {
  const { __provider: _ignored, ...rest } = props;
  return rest;
}

/** Every form a secret value of these inputs may take in a text (as given, normalised). */
function secretValues(inputs: Props | undefined): string[] {
  const out = new Set<string>();
  if (!inputs) return [];
  for (const field of SECRET_FIELDS) {
    const v = inputs[field];
    if (typeof v !== "string" || v.length < 4) continue;
    out.add(v);
    out.add(v.replace(/[-\s]/g, "").toUpperCase());
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Replaces any secret value in a text with "[secret]" (belt and braces: no script message holds one). */
function scrub(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (text === undefined) return undefined;
  let out = text;
  for (const s of secrets) out = out.split(s).join("[secret]");
  return out;
}

/**
 * Re-phrases a runner error as `<doing what> on <host>: <cause>` (the runner says `running <op> on
 * <host>: <cause>`), keeping its code and details, with every secret value removed.
 */
function rephrase(err: unknown, doing: string, host: string, secrets: readonly string[]): unknown {
  if (!isRdsError(err)) {
    if (err instanceof Error) {
      const e = new Error(scrub(err.message, secrets));
      e.stack = scrub(err.stack, secrets);
      return e;
    }
    return err;
  }
  const prefix = `running ${err.operation ?? ""} on ${err.host ?? host}: `;
  const cause = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  const out = new RdsError(err.code, scrub(`${doing} on ${host}: ${cause}`, secrets)!, {
    host: err.host ?? host,
    operation: err.operation,
    durationMs: err.durationMs,
    stderr: scrub(err.stderr, secrets),
    returnValue: err.returnValue,
    wmiName: err.wmiName,
    method: err.method,
    className: err.className,
    scriptCode: err.scriptCode,
    cause: err,
  });
  return out;
}

async function run<T>(
  connection: Connection,
  name: string,
  args: Props,
  schema: import("zod").ZodType<T>,
  timeoutMs: number,
): Promise<T> {
  return runOperation(connection, { name: `calPack.${name}`, script: script(name), args, result: schema, timeoutMs: operationTimeout(timeoutMs) });
}

/**
 * Refresh reads every pack at once: concurrent reads of one license server run as ONE get.ps1 with
 * the list of KeyPackIds (coalesce.ts: the batch takes every read that arrives until the script
 * starts), and each read gets its own pack back.
 */
const packReads = new Coalescer<{ connection: Connection; keyPackId: number }, Pack | null>(async (_key, first, take) => {
  const got = await runOperation(first.connection, {
    name: "calPack.get",
    script: script("get"),
    args: () => ({ keyPackIds: take().map((read) => read.keyPackId) }),
    result: getManyResultSchema,
    timeoutMs: operationTimeout(TIMEOUT.read),
  });
  return got.packs;
});

/** The live pack with this KeyPackId, or null, through the coalesced batch of its license server. */
function readPack(connection: Connection, keyPackId: number): Promise<Pack | null> {
  // parseConnection: a bad connection fails here as RDS_VALIDATION, as runOperation would fail it.
  return packReads.join(targetKey(parseConnection(connection)), { connection, keyPackId });
}

function hostOf(inputs: { connection?: { host?: string } }): string {
  return inputs.connection?.host ?? "(unknown host)";
}

function describePack(p: Pack): string {
  const version = productVersionFromId(p.productVersionId) ?? p.productVersion;
  const type = calTypeFromProductType(p.productType);
  return `#${p.keyPackId} (${version} ${type ? calTypeLabel(type) : `ProductType ${p.productType}`}, ${p.totalLicenses} CALs, KeyPackType ${p.keyPackType})`;
}

/** The live facts the resource reports (the WMI values mapped back to the input vocabulary). */
function factsOf(p: Pack): PackFacts {
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

/** The outputs: the inputs (secret ones wrapped as secrets) plus the pack's live facts. */
function outputsOf(inputs: Props, p: Pack): CalPackOutputs {
  return secretOutputs({ ...(withoutProvider(inputs) as CalPackInputs), ...factsOf(p) });
}

/** Does a live pack look like what this declaration would install? (version, type, acquisition, count) */
export function matchesDeclaration(p: Pack, d: CalPackInputs): boolean {
  if (productVersionFromId(p.productVersionId) !== d.productVersion) return false;
  if (calTypeFromProductType(p.productType) !== d.calType) return false;
  const kinds = EXPECTED_KEY_PACK_TYPES[d.program];
  if (kinds !== "any" && !kinds.includes(p.keyPackType) && p.keyPackType !== 0 && p.keyPackType !== 7) return false;
  if (takesQuantity(d.program) && p.totalLicenses !== d.quantity) return false;
  return true;
}

/** The arguments install.ps1 takes for a declaration: the WMI value codes of reference 3.7. */
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
function declaration(d: CalPackInputs): Props {
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

/** The fingerprint of a single-use code (retail code, key pack id), or undefined for the other programs. */
async function codeFingerprint(d: CalPackInputs): Promise<string | undefined> {
  if (takesQuantity(d.program)) return undefined;
  return journal.fingerprint({ singleUseCode: d.program === "retail" ? d.licenseCode : d.licenseKeyPackId, program: d.program });
}

/** The secret outputs wrapped as secrets, so no response of the host carries them in plain text. */
function secretOutputs<T extends object>(outs: T): T {
  return wrapSecrets(outs, SECRET_OUTPUTS);
}

/** The flat view the comparator sees (DIFF_SPEC): host and transport pulled out of the connection. */
function diffView(p: Props): Props {
  const c = p.connection;
  const conn = c !== null && typeof c === "object" ? (c as Props) : undefined;
  return {
    targetHost: c === UNKNOWN ? UNKNOWN : conn?.host,
    transport: c === UNKNOWN ? UNKNOWN : conn?.transport,
    connection: c,
    program: p.program,
    licenseCode: p.licenseCode,
    licenseNumber: p.licenseNumber,
    authorizationNumber: p.authorizationNumber,
    agreementNumber: p.agreementNumber,
    licenseKeyPackId: p.licenseKeyPackId,
    productVersion: p.productVersion,
    calType: p.calType,
    allowRemovingIssuedLicenses: p.allowRemovingIssuedLicenses,
    licenseServerName: p.licenseServerName,
    licenseServerActivationMethod: p.licenseServerActivationMethod,
  };
}

function initFailed(id: string, properties: Props, reasons: string[], message: string): Error {
  const e = new Error(message) as Error & { id: string; properties: Props; reasons: string[] };
  e.id = id;
  e.properties = properties;
  e.reasons = reasons;
  return e;
}

// ---- create -----------------------------------------------------------------------------------------

function claimedByOthers(entries: journal.JournalEntry[], me: { journalKey: string; fingerprint: string }): Set<number> {
  const claimed = new Set<number>();
  for (const e of entries) {
    if (e.keyPackId === undefined || e.status === "pending") continue;
    if (e.journalKey === me.journalKey && e.fingerprint === me.fingerprint) continue;
    claimed.add(e.keyPackId);
  }
  return claimed;
}

function ambiguous(doing: string, host: string, candidates: Pack[], why: string): RdsError {
  return new RdsError(
    ErrorCode.AmbiguousPack,
    `${doing} on ${host}: ${why}: ${candidates.map(describePack).join(", ")}. Nothing was installed. ` +
      `If one of them is this pack, set adoptKeyPackId to its KeyPackId; if none is, list them in knownOtherPacks ` +
      `(e.g. knownOtherPacks: [${candidates.map((p) => p.keyPackId).join(", ")}]) to install a new pack`,
    { host },
  );
}

async function adopt(d: CalPackInputs, inputs: Props, secrets: string[]): Promise<pulumi.dynamic.CreateResult> {
  const host = hostOf(d);
  const id = d.adoptKeyPackId!;
  const doing = `adopting CAL pack #${id}`;
  let got;
  try {
    got = await run(d.connection, "get", { keyPackId: id }, getResultSchema, TIMEOUT.read);
  } catch (err) {
    throw rephrase(err, doing, host, secrets);
  }
  if (!got.pack) {
    throw new RdsError(
      ErrorCode.NotFound,
      `${doing} on ${host}: there is no key pack with KeyPackId ${id} (the built-in pack cannot be adopted): check the KeyPackId column in RD Licensing Manager`,
      { host },
    );
  }
  const p = got.pack;
  const version = productVersionFromId(p.productVersionId);
  const type = calTypeFromProductType(p.productType);
  if (version !== d.productVersion || type !== d.calType) {
    throw new RdsError(
      ErrorCode.Validation,
      `${doing} on ${host}: pack ${describePack(p)} is not a ${d.productVersion} ${calTypeLabel(d.calType)} pack as declared: ` +
        `fix productVersion and calType, or adopt another pack`,
      { host },
    );
  }
  const fp = await journal.fingerprint(declaration(d));
  const entries = journal.entriesFor(host);
  const owner = entries.find(
    (e) => e.keyPackId === id && e.status !== "pending" && !(e.journalKey === d.journalKey && e.fingerprint === fp),
  );
  if (owner) {
    throw new RdsError(
      ErrorCode.AmbiguousPack,
      `${doing} on ${host}: pack #${id} is already managed by ${owner.journalKey || "another RdsCalPack"} (install journal ${journal.journalDir()}): ` +
        `a pack has one owner; adopt another pack, or delete the other resource first`,
      { host },
    );
  }
  journal.writeEntry(
    journal.newEntry({
      journalKey: d.journalKey,
      host,
      fingerprint: fp,
      codeFingerprint: await codeFingerprint(d),
      status: "returned",
      keyPackId: id,
      packsBefore: [],
      program: d.program,
      productVersion: d.productVersion,
      calType: d.calType,
    }),
  );
  return { id: String(id), outs: outputsOf(inputs, p) };
}

async function create(rawInputs: Props): Promise<pulumi.dynamic.CreateResult> {
  const inputs = unwrapSecrets(rawInputs);
  const d = inputs as unknown as CalPackInputs;
  const host = hostOf(d);
  const secrets = secretValues(inputs);
  if (d.adoptKeyPackId !== undefined) return adopt(d, inputs, secrets);

  const doing = `installing ${d.productVersion} ${calTypeLabel(d.calType)} CAL pack (${d.program})`;

  // 1. Look: the server must be able to take the pack (activated, version), and what is there already.
  let seen: InspectResult;
  try {
    seen = await run(
      d.connection,
      "inspect",
      { productVersion: d.productVersion, activationMethod: d.licenseServerActivationMethod },
      inspectResultSchema,
      TIMEOUT.read,
    );
  } catch (err) {
    throw rephrase(err, doing, host, secrets);
  }
  const live = new Map(seen.packs.map((p) => [p.keyPackId, p]));

  // 2. The journal: did this exact install already happen (a crash before the state was written)?
  const fp = await journal.fingerprint(declaration(d));
  const entries = journal.entriesFor(host);
  const mine = entries.find((e) => e.journalKey === d.journalKey && e.fingerprint === fp);
  const claimed = claimedByOthers(entries, { journalKey: d.journalKey, fingerprint: fp });
  const known = new Set(d.knownOtherPacks);
  if (mine && mine.status !== "returned") {
    if (mine.keyPackId !== undefined) {
      // Proven identity: this very install returned this KeyPackId (finish reports a pack unlike the declaration).
      const p = live.get(mine.keyPackId);
      if (p) return finish(d, inputs, mine, p);
    } else {
      const before = new Set(mine.packsBefore);
      const appeared = seen.packs.filter((p) => !before.has(p.keyPackId) && !claimed.has(p.keyPackId) && !known.has(p.keyPackId));
      const ours = appeared.filter((p) => matchesDeclaration(p, d));
      if (ours.length === 1) return finish(d, inputs, mine, ours[0]);
      if (ours.length > 1) {
        throw ambiguous(
          doing,
          host,
          ours,
          `an earlier run was interrupted during this install (journal ${journal.journalDir()}) and several matching packs appeared since`,
        );
      }
    }
    // Journalled, but nothing of it is on the server: the install never happened (or was undone).
  }

  // 3. No proof: a matching pack already there is ambiguous, never adopted silently.
  //    Retail codes and key pack ids cannot be matched before installing (WMI does not show the code,
  //    and the code sets the count); the Clearinghouse refuses a used one, handled below.
  if (takesQuantity(d.program)) {
    const candidates = seen.packs.filter(
      (p) => matchesDeclaration(p, d) && !claimed.has(p.keyPackId) && !known.has(p.keyPackId),
    );
    if (candidates.length > 0) {
      throw ambiguous(doing, host, candidates, `the license server already has ${candidates.length === 1 ? "a pack" : "packs"} matching this declaration`);
    }
  }

  // 4. Journal the intent, then install.
  const codeFp = await codeFingerprint(d);
  let entry = journal.newEntry({
    journalKey: d.journalKey,
    host,
    fingerprint: fp,
    codeFingerprint: codeFp,
    status: "pending",
    packsBefore: seen.packs.map((p) => p.keyPackId),
    program: d.program,
    productVersion: d.productVersion,
    calType: d.calType,
  });
  journal.writeEntry(entry);

  let installed;
  try {
    installed = await run(d.connection, "install", installArgs(d), installResultSchema, TIMEOUT.install);
  } catch (err) {
    // A refusal the script or WMI answered means nothing was installed: the intent is void. Anything
    // else (timeout, pwsh died, unreadable result) may have installed: the entry stays as proof.
    if (isRdsError(err) && NOTHING_INSTALLED.has(err.code)) {
      try {
        journal.removeEntry(entry);
      } catch {
        // A stale pending entry only costs a look at the packs on the next create.
      }
    }
    throw explainInstallFailure(err, d, doing, host, secrets, seen, claimed, known, entries, codeFp);
  }
  entry = journal.withStatus(entry, "installed", installed.keyPackId);
  try {
    journal.writeEntry(entry);
  } catch {
    // The pack exists and is about to be returned: a journal write failure must not lose it.
  }
  if (!installed.pack) {
    throw initFailed(
      String(installed.keyPackId),
      secretOutputs({ ...withoutProvider(inputs), keyPackId: installed.keyPackId }),
      [`${installed.method} installed key pack #${installed.keyPackId} but it could not be read back`],
      `${doing} on ${host}: key pack #${installed.keyPackId} was installed but could not be read back; run pulumi refresh`,
    );
  }
  return finish(d, inputs, entry, installed.pack);
}

/** Records the pack as handed to the engine and returns it; a pack unlike the declaration is a partial failure. */
function finish(d: CalPackInputs, inputs: Props, entry: journal.JournalEntry, p: Pack): pulumi.dynamic.CreateResult {
  try {
    journal.writeEntry(journal.withStatus(entry, "returned", p.keyPackId));
  } catch {
    // See above: never lose a pack over the journal.
  }
  const outs = outputsOf(inputs, p);
  const version = productVersionFromId(p.productVersionId);
  const type = calTypeFromProductType(p.productType);
  if (version !== d.productVersion || type !== d.calType) {
    // Retail codes and key pack ids carry their own version and type: the declaration was wrong.
    const host = hostOf(d);
    const reason =
      `the ${d.program === "retail" ? "license code" : "key pack id"} installed ${describePack(p)}, not the declared ` +
      `${d.productVersion} ${calTypeLabel(d.calType)}: set productVersion "${version ?? p.productVersion}" and calType "${type ?? p.productType}" ` +
      `to match (changing them otherwise means a replacement, which a used code cannot do)`;
    throw initFailed(String(p.keyPackId), outs as unknown as Props, [reason], `installing CAL pack on ${host}: ${reason}`);
  }
  return { id: String(p.keyPackId), outs };
}

/** An install failure, explained: a code the Clearinghouse refused while candidate packs exist is ambiguous. */
function explainInstallFailure(
  err: unknown,
  d: CalPackInputs,
  doing: string,
  host: string,
  secrets: string[],
  seen: InspectResult,
  claimed: Set<number>,
  known: Set<number>,
  entries: journal.JournalEntry[],
  codeFp: string | undefined,
): unknown {
  const e = rephrase(err, doing, host, secrets);
  if (!isRdsError(e)) return e;
  if (e.code === ErrorCode.Wmi && e.wmiName === "WBEM_E_NOT_AVAILABLE") {
    // Not a refusal: the license server could not reach the Clearinghouse (nothing was installed).
    return new RdsError(
      ErrorCode.ClearinghouseUnreachable,
      `${e.message}: the license server could not reach the Microsoft Clearinghouse (it needs outbound HTTPS); nothing was installed. ` +
        `Run pulumi up again once it can, or install offline: get a license key pack id from the Remote Desktop Licensing web site ` +
        `or by telephone and declare program "keyPackId" with licenseKeyPackId`,
      { host, operation: e.operation, returnValue: e.returnValue, wmiName: e.wmiName, method: e.method, cause: e },
    );
  }
  // Only a refusal of the install call itself is the Clearinghouse or the server not accepting the data;
  // any other WMI failure (reading the activation status, listing the packs) keeps its own code.
  const refusedInstall = e.code === ErrorCode.Wmi && typeof e.method === "string" && e.method.startsWith("Install");
  if (!refusedInstall) return e;
  if (!takesQuantity(d.program)) {
    // A retail code or key pack id is single use: refused, it may be installed here already.
    const what = d.program === "retail" ? "license code" : "key pack id";
    const live = new Set(seen.packs.map((p) => p.keyPackId));
    const twin = entries.find(
      (x) =>
        codeFp !== undefined &&
        x.codeFingerprint === codeFp &&
        x.journalKey !== d.journalKey &&
        x.status !== "pending" &&
        x.keyPackId !== undefined &&
        live.has(x.keyPackId),
    );
    if (twin) {
      return new RdsError(
        ErrorCode.Rejected,
        `${e.message}: the Clearinghouse did not accept the ${what}: the same ${what} is already installed here as pack #${twin.keyPackId}, ` +
          `managed by ${twin.journalKey || "another RdsCalPack"}; a code is single use: remove this duplicate declaration`,
        { host, operation: e.operation, returnValue: e.returnValue, wmiName: e.wmiName, method: e.method, cause: e },
      );
    }
    const candidates = seen.packs.filter(
      (p) =>
        productVersionFromId(p.productVersionId) === d.productVersion &&
        calTypeFromProductType(p.productType) === d.calType &&
        !claimed.has(p.keyPackId) &&
        !known.has(p.keyPackId),
    );
    const hint =
      candidates.length > 0
        ? ` If this ${what} was installed on ${host} before, it is one of ${candidates.map(describePack).join(", ")}: set adoptKeyPackId to it (a code is single use).`
        : ` A ${what} is single use: if it was installed on another license server, move the CALs (migration) instead.`;
    return new RdsError(ErrorCode.Rejected, `${e.message}: the Clearinghouse did not accept the ${what}.${hint}`, {
      host,
      operation: e.operation,
      returnValue: e.returnValue,
      wmiName: e.wmiName,
      method: e.method,
      cause: e,
    });
  }
  return new RdsError(ErrorCode.Rejected, `${e.message}: the license server or the Clearinghouse did not accept the ${d.program} data`, {
    host,
    operation: e.operation,
    returnValue: e.returnValue,
    wmiName: e.wmiName,
    method: e.method,
    cause: e,
  });
}

// ---- the provider -------------------------------------------------------------------------------------

export const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const res = checkWithSchema(argsSchema, unwrapSecrets(news));
    // The checked inputs go back to the engine: their secrets travel wrapped, never in plain text.
    return { ...res, inputs: secretOutputs(res.inputs ?? {}) };
  },

  async diff(_id: string, rawOlds: Props, rawNews: Props): Promise<pulumi.dynamic.DiffResult> {
    const olds = unwrapSecrets(rawOlds);
    const news = unwrapSecrets(rawNews);
    const { result } = compare(DIFF_SPEC, diffView(news), diffView(olds));
    let changes = result.changes;
    const replaces = [...result.replaces];
    const program = news.program;
    if (typeof program === "string" && !containsUnknown(program) && takesQuantity(program as CalPackInputs["program"])) {
      const q = news.quantity;
      const total = olds.totalLicenses;
      if (containsUnknown(q)) {
        changes = true;
      } else if (typeof q === "number") {
        const rule = quantityRule(q, typeof total === "number" ? total : undefined);
        if (rule === "grow") {
          changes = true;
          replaces.push("quantity");
        } else if (rule === "shrink" || olds.quantity !== q) {
          changes = true;
        }
      }
    }
    return { changes, replaces, deleteBeforeReplace: false };
  },

  create,

  async read(id: string, rawProps?: Props): Promise<pulumi.dynamic.ReadResult> {
    const props = unwrapSecrets(rawProps ?? {});
    const connection = props.connection as Connection | undefined;
    if (!connection || typeof connection !== "object") return { id, props: rawProps };
    const host = hostOf(props as { connection?: { host?: string } });
    const keyPackId = Number(id);
    let p: Pack | null;
    try {
      p = await readPack(connection, keyPackId);
    } catch (err) {
      throw rephrase(err, `reading CAL pack #${id}`, host, secretValues(props));
    }
    if (!p) return {};
    // The same KeyPackId with another version or type is not the pack this resource installed.
    const stateVersion = props.productVersion;
    const stateType = props.calType;
    if (
      (typeof stateVersion === "string" && (productVersionFromId(p.productVersionId) ?? p.productVersion) !== stateVersion) ||
      (typeof stateType === "string" && calTypeFromProductType(p.productType) !== stateType)
    ) {
      return {};
    }
    // Program data (codes, numbers) cannot be read from WMI: carried from state with the other inputs.
    return { id, props: outputsOf(props, p) as unknown as Props };
  },

  async update(id: string, rawOlds: Props, rawNews: Props): Promise<pulumi.dynamic.UpdateResult> {
    const news = unwrapSecrets(rawNews);
    const d = news as unknown as CalPackInputs;
    const host = hostOf(d);
    const keyPackId = Number(id);
    const secrets = secretValues(news);
    const olds = unwrapSecrets(rawOlds);
    let pack: Pack | null;
    try {
      if (takesQuantity(d.program) && d.quantity !== undefined && quantityRule(d.quantity, olds.totalLicenses as number | undefined) === "shrink") {
        const res = await run(
          d.connection,
          "resize",
          { keyPackId, quantity: d.quantity, allowRemovingIssuedLicenses: d.allowRemovingIssuedLicenses },
          resizeResultSchema,
          TIMEOUT.change,
        );
        pack = res.pack;
      } else {
        pack = (await run(d.connection, "get", { keyPackId }, getResultSchema, TIMEOUT.read)).pack;
      }
    } catch (err) {
      throw rephrase(err, `updating CAL pack #${id}`, host, secrets);
    }
    if (!pack) {
      throw new RdsError(
        ErrorCode.NotFound,
        `updating CAL pack #${id} on ${host}: the pack is no longer on the license server: run pulumi refresh, then pulumi up installs it again`,
        { host },
      );
    }
    if (takesQuantity(d.program) && d.quantity !== undefined && pack.totalLicenses < d.quantity) {
      throw new RdsError(
        ErrorCode.Validation,
        `updating CAL pack #${id} on ${host}: the pack holds ${pack.totalLicenses} CALs and quantity is ${d.quantity}: a pack cannot grow in place (RemoveLicensesWithIdCount only removes); preview shows this as a replacement`,
        { host },
      );
    }
    return { outs: outputsOf(news, pack) as unknown as Props };
  },

  async delete(id: string, rawProps: Props): Promise<void> {
    const props = unwrapSecrets(rawProps);
    const connection = props.connection as Connection;
    const host = hostOf(props as { connection?: { host?: string } });
    const keyPackId = Number(id);
    const secrets = secretValues(props);
    const doing = `removing CAL pack #${id}`;
    try {
      const got = await run(connection, "get", { keyPackId }, getResultSchema, TIMEOUT.read);
      const p = got.pack;
      const stateVersion = props.productVersion;
      const stateType = props.calType;
      const same =
        p !== null &&
        (typeof stateVersion !== "string" || (productVersionFromId(p.productVersionId) ?? p.productVersion) === stateVersion) &&
        (typeof stateType !== "string" || calTypeFromProductType(p.productType) === stateType);
      if (p && same) {
        await run(
          connection,
          "remove",
          {
            keyPackId,
            productVersionId: p.productVersionId,
            productType: p.productType,
            allowRemovingIssuedLicenses: props.allowRemovingIssuedLicenses === true,
          },
          removeResultSchema,
          TIMEOUT.change,
        );
      }
    } catch (err) {
      throw rephrase(err, doing, host, secrets);
    }
    // The pack is gone (removed now, or before): its journal entries have nothing left to prove.
    for (const e of journal.entriesFor(host)) {
      if (e.keyPackId === keyPackId) journal.removeEntry(e);
    }
  },
};
