/**
 * RdsCalPack: the field table (each field once: input type and default, secrecy, what a change does,
 * output), the zod schemas derived from it and of the script results, and the program value maps
 * (docs/windows-facts.md gives their sources). Pure: no host, no runner, no I/O.
 * `check` is `checkWithSchema(argsSchema, news)`.
 *
 * Secrets: licenseCode, licenseNumber, authorizationNumber, agreementNumber and licenseKeyPackId are
 * never echoed in a message (only their length and which kind of character is wrong).
 */
import { connectionSchema } from "../../powershell/transport";
import { deriveFields, freeTextRule, inputObject, z } from "../fields";

// ---- value maps ------------------------------------------------------------------------------

/** The license programs, as the RD Licensing Manager install wizard lists them. */
export const PROGRAMS = [
  "retail",
  "openLicense",
  "select",
  "enterpriseAgreement",
  "campus",
  "school",
  "spla",
  "otherAgreement",
  "keyPackId",
] as const;
export type Program = (typeof PROGRAMS)[number];

/** The agreement programs and their InstallAgreementLicenseKeyPack `AgreementType`. */
export const AGREEMENT_TYPE = {
  select: 0,
  enterpriseAgreement: 1,
  campus: 2,
  school: 3,
  spla: 4,
  otherAgreement: 5,
} as const satisfies Partial<Record<Program, number>>;
export type AgreementProgram = keyof typeof AGREEMENT_TYPE;

export function isAgreementProgram(program: string): program is AgreementProgram {
  return Object.prototype.hasOwnProperty.call(AGREEMENT_TYPE, program);
}

// CAL versions, CAL types and their WMI codes are Windows facts, kept in one table for every module.
export {
  CAL_TYPES,
  PRODUCT_TYPE_CODE,
  PRODUCT_VERSION_CODE,
  PRODUCT_VERSIONS,
  calTypeFromProductType,
  calTypeLabel,
  productVersionFromId,
  type CalType,
  type ProductVersion,
} from "../../licensing/facts";
import { CAL_TYPES, KEY_PACK_TYPES, PRODUCT_VERSIONS } from "../../licensing/facts";

/**
 * KeyPackType values a pack installed through each program is expected to show.
 * Only used to narrow the candidates of the "is it already installed?" look-up, never to derive a
 * program (the mapping is inferred; unknown (0) and undocumented (7) types always stay candidates).
 */
export const EXPECTED_KEY_PACK_TYPES: Readonly<Record<Program, readonly number[] | "any">> = {
  retail: [KEY_PACK_TYPES.retail],
  openLicense: [KEY_PACK_TYPES.openLicense],
  select: [KEY_PACK_TYPES.volume],
  enterpriseAgreement: [KEY_PACK_TYPES.volume],
  campus: [KEY_PACK_TYPES.volume],
  school: [KEY_PACK_TYPES.volume],
  spla: [KEY_PACK_TYPES.volume],
  otherAgreement: [KEY_PACK_TYPES.volume],
  keyPackId: "any",
};

/** The largest quantity one pack may declare. A farm that needs more declares several packs. */
export const MAX_QUANTITY = 100_000;

// ---- program data ------------------------------------------------------------------------------

/** The secret program-data fields. Never logged, never echoed in a message. */
export const SECRET_FIELDS = ["licenseCode", "licenseNumber", "authorizationNumber", "agreementNumber", "licenseKeyPackId"] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

/** Which program-data fields each program takes (exactly these: others are a check failure). */
export const PROGRAM_FIELDS: Readonly<Record<Program, readonly SecretField[]>> = {
  retail: ["licenseCode"],
  openLicense: ["licenseNumber", "authorizationNumber"],
  select: ["agreementNumber"],
  enterpriseAgreement: ["agreementNumber"],
  campus: ["agreementNumber"],
  school: ["agreementNumber"],
  spla: ["agreementNumber"],
  otherAgreement: ["agreementNumber"],
  keyPackId: ["licenseKeyPackId"],
};

/** Whether the program takes a count (`quantity`). Retail codes and key pack ids carry their own. */
export function takesQuantity(program: Program): boolean {
  return program === "openLicense" || isAgreementProgram(program);
}

interface CodeFormat {
  /** Characters once hyphens and spaces are removed: exactly this many, or at least this many with maxLength. */
  length: number;
  maxLength?: number;
  digitsOnly: boolean;
  /** What it is, for messages. */
  what: string;
}

/** Identifier formats, as Microsoft issues them (docs/windows-facts.md#identifier-formats). */
export const CODE_FORMATS: Readonly<Record<Exclude<SecretField, "agreementNumber">, CodeFormat>> = {
  licenseCode: { length: 25, digitsOnly: false, what: "the retail license code (5 groups of 5)" },
  licenseNumber: { length: 8, digitsOnly: true, what: "the Open License number" },
  authorizationNumber: { length: 15, digitsOnly: false, what: "the Open License authorization number" },
  licenseKeyPackId: {
    length: 35,
    digitsOnly: false,
    what: "the license key pack id from the Remote Desktop Licensing web site or the telephone call (7 groups of 5)",
  },
};

/**
 * `sAgreementNumber` per agreement program (docs/windows-facts.md#identifier-formats):
 * - Select, Enterprise Agreement, Campus, School: the enrollment number, 7 digits (the method page).
 * - SPLA: the method page says 7 digits, public SPLA deployment scripts pass 8: 7 or 8 digits.
 * - other agreements (Open Value, ...): the page gives no format ("the agreement number provided with
 *   your program information"): 1 to 15 letters and digits, our choice (unverified). A false refusal
 *   here would block a real install; a false acceptance costs one refusal by the Clearinghouse.
 */
export const AGREEMENT_NUMBER_FORMATS: Readonly<Record<AgreementProgram, CodeFormat>> = {
  select: { length: 7, digitsOnly: true, what: "the Select enrollment number (7 digits, on the signed agreement form)" },
  enterpriseAgreement: {
    length: 7,
    digitsOnly: true,
    what: "the Enterprise Agreement enrollment number (7 digits, on the signed agreement form)",
  },
  campus: { length: 7, digitsOnly: true, what: "the Campus Agreement enrollment number (7 digits, on the signed agreement form)" },
  school: { length: 7, digitsOnly: true, what: "the School Agreement enrollment number (7 digits, on the signed agreement form)" },
  spla: { length: 7, maxLength: 8, digitsOnly: true, what: "the SPLA agreement number (7 or 8 digits)" },
  otherAgreement: {
    length: 1,
    maxLength: 15,
    digitsOnly: false,
    what: "the agreement number provided with your program information (up to 15 letters and digits)",
  },
};

/** The format a secret field must have under a program (the agreement number's depends on the program). */
export function codeFormat(field: SecretField, program: Program): CodeFormat {
  if (field !== "agreementNumber") return CODE_FORMATS[field];
  return isAgreementProgram(program) ? AGREEMENT_NUMBER_FORMATS[program] : AGREEMENT_NUMBER_FORMATS.select;
}

/** Hyphens and whitespace removed, letters upper-cased: the form the WMI methods take (docs/windows-facts.md). */
export function normalizeCode(raw: string): string {
  return raw.replace(/[-\s]/g, "").toUpperCase();
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

/** Why a normalised code does not have its format (never echoing the value), or undefined when it does. */
export function codeProblem(field: string, value: string, f: CodeFormat): string | undefined {
  const chars = f.digitsOnly ? "digits" : "letters A-Z and digits";
  const bad = value.replace(f.digitsOnly ? /[0-9]/g : /[A-Z0-9]/g, "").length;
  if (bad > 0) {
    return `${field} may hold only ${chars} (hyphens and spaces are ignored); it has ${bad} other character${
      bad === 1 ? "" : "s"
    }: copy ${f.what} exactly`;
  }
  const max = f.maxLength ?? f.length;
  if (value.length >= f.length && value.length <= max) return undefined;
  const count = max === f.length ? `${f.length}` : `${f.length} to ${max}`;
  return `${field} must be ${count} ${chars} (hyphens and spaces are ignored), got ${value.length}: copy all of ${f.what}`;
}

/** A secret code field: normalised, then checked for length and characters without echoing the value. */
function codeSchema(field: Exclude<SecretField, "agreementNumber">) {
  const f = CODE_FORMATS[field];
  return z
    .string({ error: (issue) => `${field} must be text (${f.what}), got ${describe(issue.input)}` })
    .transform(normalizeCode)
    .superRefine((v, ctx) => {
      const problem = codeProblem(field, v, f);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
}

/** The agreement number: normalised here; its format depends on the program, so argsSchema checks it. */
function agreementNumberSchema() {
  return z
    .string({ error: (issue) => `agreementNumber must be text (the agreement or enrollment number), got ${describe(issue.input)}` })
    .transform(normalizeCode);
}

function enumError(field: string, values: readonly string[]) {
  return (issue: { input?: unknown }) =>
    `${field} must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}, got ${
      typeof issue.input === "string" ? JSON.stringify(issue.input) : describe(issue.input)
    }`;
}

const keyPackIdNumber = (field: string) =>
  z
    .number({ error: (issue) => `${field} must be a KeyPackId (a whole number), got ${describe(issue.input)}` })
    .int({ error: `${field} must be a whole number (the KeyPackId column of RD Licensing Manager)` })
    .min(1, { error: `${field} must be 1 or more` })
    .max(0xffffffff, { error: `${field} must fit in 32 bits` });

/** A program-data field: secret in every answer, never in a message, carried from state (WMI cannot show it). */
function programData(field: SecretField) {
  return {
    input: (field === "agreementNumber" ? agreementNumberSchema() : codeSchema(field)).optional(),
    output: true,
    secret: true,
    secretValue: true,
    change: "replace",
    rule: { carried: true },
  } as const;
}

/**
 * Every field of RdsCalPack, once. `input`: the provider input after check (validated, normalised:
 * codes without hyphens or spaces, upper case; defaults filled in). The resource class fills
 * connection/licenseServerName/licenseServerActivationMethod from the RdsLicenseServer and journalKey
 * from the stack and resource name. `change` is what a difference between state (refreshed by read)
 * and the inputs does (provider/diff.ts compares them):
 * - targetHost, transport (views of the connection, not inputs): another license server is another pack.
 * - connection: the rest of it (credentials, ports, stateDir) is how we reach the host: state only.
 *   An unknown connection (the license server is being updated) means "may change", never "replace".
 * - program, productVersion, calType: a key pack is immutable (productVersion and calType are compared
 *   with the live pack).
 * - the program data: carried from state (WMI cannot report it): replace when changed.
 * - quantity: compared with the live TotalLicenses by `quantityRule` (rules.ts) instead: fewer CALs
 *   shrink the pack in place with RemoveLicensesWithIdCount, more CALs replace it.
 * - adoptKeyPackId, knownOtherPacks, journalKey: only read by create; never a difference.
 */
export const FIELDS = deriveFields({
  targetHost: { change: "replace", rule: { normalize: "caseInsensitive" } },
  transport: { change: "replace" },
  connection: { input: connectionSchema, output: true, secret: true, change: "stateOnly" },
  /** The license server's computer name (RdsLicenseServer.serverName), for messages. Default "". */
  licenseServerName: {
    input: z
      .string({ error: (issue) => `licenseServerName must be text, got ${describe(issue.input)}` })
      // A license server name (RdsLicenseServer.serverName): the same rule as a session host's list.
      .superRefine(freeTextRule("licenseServerName", 253))
      .default(""),
    output: true,
    change: "stateOnly",
    rule: { normalize: "caseInsensitive" },
  },
  /** RdsLicenseServer.activationMethod: chooses the "next step" of the not-activated error. Default "". */
  licenseServerActivationMethod: {
    input: z.string({ error: (issue) => `licenseServerActivationMethod must be text, got ${describe(issue.input)}` }).default(""),
    output: true,
    change: "stateOnly",
  },
  /** Install-journal key: "<project>/<stack>/<resource name>" (set by the class). Default "": content only. */
  journalKey: { input: z.string({ error: (issue) => `journalKey must be text, got ${describe(issue.input)}` }).default(""), output: true },
  program: { input: z.enum(PROGRAMS, { error: enumError("program", PROGRAMS) }), output: true, change: "replace" },
  licenseCode: programData("licenseCode"),
  licenseNumber: programData("licenseNumber"),
  authorizationNumber: programData("authorizationNumber"),
  agreementNumber: programData("agreementNumber"),
  licenseKeyPackId: programData("licenseKeyPackId"),
  /** As an output: the pack's CAL version as installed, read live. */
  productVersion: {
    input: z.enum(PRODUCT_VERSIONS, { error: enumError("productVersion", PRODUCT_VERSIONS) }),
    output: true,
    change: "replace",
  },
  /** As an output: the pack's CAL type as installed, read live. */
  calType: { input: z.enum(CAL_TYPES, { error: enumError("calType", CAL_TYPES) }), output: true, change: "replace" },
  quantity: {
    input: z
      .number({ error: (issue) => `quantity must be a whole number of CALs, got ${describe(issue.input)}` })
      .int({ error: "quantity must be a whole number of CALs" })
      .min(1, { error: "quantity must be at least 1" })
      .max(MAX_QUANTITY, { error: `quantity must be at most ${MAX_QUANTITY}: declare several packs for more` })
      .optional(),
    output: true,
  },
  /** Default false. */
  allowRemovingIssuedLicenses: {
    input: z
      .boolean({ error: (issue) => `allowRemovingIssuedLicenses must be true or false, got ${describe(issue.input)}` })
      .default(false),
    output: true,
    change: "stateOnly",
  },
  /** Default: install (no adoption). */
  adoptKeyPackId: { input: keyPackIdNumber("adoptKeyPackId").optional(), output: true },
  /** Default []. */
  knownOtherPacks: {
    input: z
      .array(keyPackIdNumber("knownOtherPacks[]"), {
        error: (issue) => `knownOtherPacks must be a list of KeyPackIds, got ${describe(issue.input)}`,
      })
      .default([]),
    output: true,
  },
  // The pack's live facts (PackFacts), outputs only.
  keyPackId: { output: true },
  typeAndModel: { output: true },
  keyPackType: { output: true },
  totalLicenses: { output: true },
  issuedLicenses: { output: true },
  availableLicenses: { output: true },
  expirationDate: { output: true },
});

/** The provider inputs after check; cross-field rules (which data each program takes) on top of the table. */
export const argsSchema = inputObject(FIELDS, "the CAL pack inputs").superRefine((v, ctx) => {
  const needed = PROGRAM_FIELDS[v.program];
  for (const field of SECRET_FIELDS) {
    const present = v[field] !== undefined;
    if (needed.includes(field) && !present) {
      ctx.addIssue({
        code: "custom",
        path: [field],
        message: `${field} is required for program "${v.program}": give ${codeFormat(field, v.program).what}`,
      });
    } else if (!needed.includes(field) && present) {
      ctx.addIssue({
        code: "custom",
        path: [field],
        message: `${field} is not used by program "${v.program}" (it takes ${needed.join(" and ")}): remove it`,
      });
    }
  }
  const agreementNumber = v.agreementNumber;
  if (isAgreementProgram(v.program) && typeof agreementNumber === "string") {
    const problem = codeProblem("agreementNumber", agreementNumber, AGREEMENT_NUMBER_FORMATS[v.program]);
    if (problem) ctx.addIssue({ code: "custom", path: ["agreementNumber"], message: problem });
  }
  if (takesQuantity(v.program) && v.quantity === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["quantity"],
      message: `quantity is required for program "${v.program}": the number of CALs to install (1 to ${MAX_QUANTITY})`,
    });
  } else if (!takesQuantity(v.program) && v.quantity !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["quantity"],
      message: `quantity is not used by program "${v.program}": the ${
        v.program === "retail" ? "license code" : "key pack id"
      } fixes the number of CALs; remove it`,
    });
  }
  if (v.adoptKeyPackId !== undefined && v.knownOtherPacks.includes(v.adoptKeyPackId)) {
    ctx.addIssue({
      code: "custom",
      path: ["knownOtherPacks"],
      message: `knownOtherPacks lists ${v.adoptKeyPackId}, the pack adoptKeyPackId adopts: a pack cannot be both this pack and another one: remove ${v.adoptKeyPackId} from knownOtherPacks, or adopt another pack`,
    });
  }
});
export type CalPackInputs = z.infer<typeof argsSchema>;

// ---- state -------------------------------------------------------------------------------------

/** The live facts about one pack that the resource reports (from Win32_TSLicenseKeyPack). */
export interface PackFacts {
  keyPackId: number;
  typeAndModel: string;
  /** The CAL version, or the WMI ProductVersion string when it is not one of PRODUCT_VERSIONS. */
  productVersion: string;
  calType: string;
  keyPackType: number;
  totalLicenses: number;
  issuedLicenses: number;
  availableLicenses: number;
  /** ISO 8601, "" when the pack has none. */
  expirationDate: string;
}

/** The state: the checked inputs plus the pack's live facts. */
export type CalPackOutputs = Omit<CalPackInputs, "productVersion" | "calType"> & PackFacts;

/** Outputs that hold secrets: the connection and the program data. */
export const SECRET_OUTPUTS = FIELDS.secretFields;

/** Every output key the class declares (so the SDK makes each an Output). */
export const OUTPUT_KEYS = FIELDS.outputKeys;

/** The comparator's field spec (provider/diff.ts), from the table. */
export const DIFF_SPEC = FIELDS.diffSpec;

// ---- script results ----------------------------------------------------------------------------

/** One Win32_TSLicenseKeyPack instance as the scripts return it. */
export const packSchema = z.object({
  keyPackId: z.number().int(),
  keyPackType: z.number().int(),
  productType: z.number().int(),
  productVersion: z.string(),
  productVersionId: z.number().int(),
  totalLicenses: z.number(),
  issuedLicenses: z.number(),
  availableLicenses: z.number(),
  typeAndModel: z.string(),
  description: z.string(),
  /** ISO 8601 or "". */
  expirationDate: z.string(),
  /** Win32_TSIssuedLicense instances of this pack that are not revoked (per-device CALs). */
  issuedPerDevice: z.number().int(),
});
export type Pack = z.infer<typeof packSchema>;

/** get.ps1: the pack with the KeyPackId, or null. */
export const getResultSchema = z.object({ pack: packSchema.nullable() });

/** get.ps1 with `keyPackIds` (a batch of coalesced reads): one pack or null per id, in order. */
export const getManyResultSchema = z.object({ packs: z.array(packSchema.nullable()) });

/** inspect.ps1: the server facts the install decision needs (it refuses when the server cannot take the pack). */
export const inspectResultSchema = z.object({
  activationStatus: z.number().int(),
  productId: z.string(),
  /** The license server's Windows Server version ("2022"), or "" when it cannot be told. */
  serverVersion: z.string(),
  /** Every pack on the server except the built-in one. */
  packs: z.array(packSchema),
});
export type InspectResult = z.infer<typeof inspectResultSchema>;

/** The WMI install methods, one per kind of program. */
export const INSTALL_METHODS = [
  "InstallRetailPurchaseLicenseKeyPack",
  "InstallOpenLicenseKeyPack",
  "InstallAgreementLicenseKeyPack",
  "InstallLicenseKeyPack",
] as const;

/** install.ps1: the method called and the pack it made. */
export const installResultSchema = z.object({
  method: z.enum(INSTALL_METHODS),
  keyPackId: z.number().int(),
  pack: packSchema.nullable(),
});
export type InstallResult = z.infer<typeof installResultSchema>;

/** resize.ps1: licenses removed with RemoveLicensesWithIdCount, and the pack afterwards. */
export const resizeResultSchema = z.object({
  removed: z.number().int(),
  pack: packSchema,
});

/** remove.ps1: whether UninstallLicenseKeyPackWithId ran ("absent": nothing to remove). */
export const removeResultSchema = z.object({
  removed: z.boolean(),
  reason: z.enum(["removed", "absent", "replaced"]),
});
