/**
 * RdsCalPack: the zod schemas (inputs, state, script results), the defaults, the value maps
 * (reference 3.3-3.7) and the diff field spec. Pure: no host, no runner, no I/O.
 * `check` is `checkWithSchema(argsSchema, news)`.
 *
 * Secrets: licenseCode, licenseNumber, authorizationNumber, agreementNumber and licenseKeyPackId are
 * never echoed in a message (only their length and which kind of character is wrong).
 */
import { z } from "zod";
import { connectionSchema } from "../../powershell/transport";

// ---- value maps ------------------------------------------------------------------------------

/** The license programs (reference 9.2), as the RD Licensing Manager wizard lists them. */
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

/** The agreement programs and their InstallAgreementLicenseKeyPack `AgreementType` (reference 3.7). */
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

/** CAL versions, oldest first. "2008R2" is the 2008 R2-era CAL (ProductVersionID 2 or 3). */
export const PRODUCT_VERSIONS = ["2008R2", "2012", "2016", "2019", "2022", "2025"] as const;
export type ProductVersion = (typeof PRODUCT_VERSIONS)[number];

/**
 * `ProductVersion` input of InstallAgreement/InstallOpen (reference 3.7, newest table; pitfall 14):
 * 2 = WS2008/2008 R2, 4 = 2012, 5 = 2016, 6 = 2019, 7 = 2022 (likely), 8 = 2025 (UNCONFIRMED).
 */
export const PRODUCT_VERSION_CODE: Readonly<Record<ProductVersion, number>> = {
  "2008R2": 2,
  "2012": 4,
  "2016": 5,
  "2019": 6,
  "2022": 7,
  "2025": 8,
};

/** Win32_TSLicenseKeyPack.ProductVersionID (reference 3.6) to a CAL version; null when not a CAL version. */
export function productVersionFromId(id: number | null | undefined): ProductVersion | null {
  switch (id) {
    case 2:
    case 3:
      return "2008R2";
    case 4:
      return "2012";
    case 5:
      return "2016";
    case 6:
      return "2019";
    case 7:
      return "2022";
    case 8:
      return "2025";
    default:
      return null;
  }
}

export const CAL_TYPES = ["perUser", "perDevice"] as const;
export type CalType = (typeof CAL_TYPES)[number];

/** `ProductType` input and property (reference 3.4): 0 = Per Device, 1 = Per User. */
export const PRODUCT_TYPE_CODE: Readonly<Record<CalType, number>> = { perDevice: 0, perUser: 1 };

export function calTypeFromProductType(code: number | null | undefined): CalType | null {
  if (code === 0) return "perDevice";
  if (code === 1) return "perUser";
  return null;
}

export function calTypeLabel(t: CalType): string {
  return t === "perUser" ? "Per User" : "Per Device";
}

/**
 * KeyPackType values (reference 3.3) a pack installed through each program is expected to show.
 * Only used to narrow the candidates of the "is it already installed?" look-up, never to derive a
 * program (the mapping is inferred; unknown (0) and undocumented (7) types always stay candidates).
 */
export const EXPECTED_KEY_PACK_TYPES: Readonly<Record<Program, readonly number[] | "any">> = {
  retail: [1],
  openLicense: [5],
  select: [2],
  enterpriseAgreement: [2],
  campus: [2],
  school: [2],
  spla: [2],
  otherAgreement: [2],
  keyPackId: "any",
};

/** The largest quantity one pack may declare. A farm that needs more declares several packs. */
export const MAX_QUANTITY = 100_000;

// ---- program data ------------------------------------------------------------------------------

/** The secret program-data fields. Never logged, never echoed in a message. */
export const SECRET_FIELDS = [
  "licenseCode",
  "licenseNumber",
  "authorizationNumber",
  "agreementNumber",
  "licenseKeyPackId",
] as const;
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
  /** Characters once hyphens and spaces are removed. */
  length: number;
  digitsOnly: boolean;
  /** What it is, for messages. */
  what: string;
}

/** Identifier formats (reference 2.7). */
export const CODE_FORMATS: Readonly<Record<SecretField, CodeFormat>> = {
  licenseCode: { length: 25, digitsOnly: false, what: "the retail license code (5 groups of 5)" },
  licenseNumber: { length: 8, digitsOnly: true, what: "the Open License number" },
  authorizationNumber: { length: 15, digitsOnly: false, what: "the Open License authorization number" },
  agreementNumber: { length: 7, digitsOnly: true, what: "the agreement or enrollment number" },
  licenseKeyPackId: {
    length: 35,
    digitsOnly: false,
    what: "the license key pack id from the Remote Desktop Licensing web site or the telephone call (7 groups of 5)",
  },
};

/** Hyphens and whitespace removed, letters upper-cased: the form the WMI methods take (reference 2.7, pitfall 5). */
export function normalizeCode(raw: string): string {
  return raw.replace(/[-\s]/g, "").toUpperCase();
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

/** A secret code field: normalised, then checked for length and characters without echoing the value. */
function codeSchema(field: SecretField) {
  const f = CODE_FORMATS[field];
  const chars = f.digitsOnly ? "digits" : "letters A-Z and digits";
  const re = f.digitsOnly ? new RegExp(`^[0-9]{${f.length}}$`) : new RegExp(`^[A-Z0-9]{${f.length}}$`);
  return z
    .string({ error: (issue) => `${field} must be text (${f.what}), got ${describe(issue.input)}` })
    .transform(normalizeCode)
    .superRefine((v, ctx) => {
      if (re.test(v)) return;
      const bad = v.replace(f.digitsOnly ? /[0-9]/g : /[A-Z0-9]/g, "").length;
      ctx.addIssue({
        code: "custom",
        message:
          bad > 0
            ? `${field} may hold only ${chars} (hyphens and spaces are ignored); it has ${bad} other character${
                bad === 1 ? "" : "s"
              }: copy ${f.what} exactly`
            : `${field} must be ${f.length} ${chars} (hyphens and spaces are ignored), got ${v.length}: copy all of ${f.what}`,
      });
    });
}

function enumError(field: string, values: readonly string[]) {
  return (issue: { input?: unknown }) =>
    `${field} must be one of ${values.map((v) => JSON.stringify(v)).join(", ")}, got ${
      typeof issue.input === "string" ? JSON.stringify(issue.input) : describe(issue.input)
    }`;
}

const ARG_FIELDS = [
  "connection",
  "licenseServerName",
  "licenseServerActivationMethod",
  "journalKey",
  "program",
  ...SECRET_FIELDS,
  "productVersion",
  "calType",
  "quantity",
  "allowRemovingIssuedLicenses",
  "adoptKeyPackId",
  "knownOtherPacks",
] as const;

const keyPackIdNumber = (field: string) =>
  z
    .number({ error: (issue) => `${field} must be a KeyPackId (a whole number), got ${describe(issue.input)}` })
    .int({ error: `${field} must be a whole number (the KeyPackId column of RD Licensing Manager)` })
    .min(1, { error: `${field} must be 1 or more` })
    .max(0xffffffff, { error: `${field} must fit in 32 bits` });

/**
 * The provider inputs after check: validated, normalised (codes without hyphens or spaces, upper case),
 * defaults filled in. The resource class fills connection/licenseServerName/licenseServerActivationMethod
 * from the RdsLicenseServer and journalKey from the stack and resource name.
 */
export const argsSchema = z
  .strictObject(
    {
      connection: connectionSchema,
      /** The license server's computer name (RdsLicenseServer.serverName), for messages. Default "". */
      licenseServerName: z
        .string({ error: (issue) => `licenseServerName must be text, got ${describe(issue.input)}` })
        .default(""),
      /** RdsLicenseServer.activationMethod: chooses the "next step" of the not-activated error. Default "". */
      licenseServerActivationMethod: z
        .string({ error: (issue) => `licenseServerActivationMethod must be text, got ${describe(issue.input)}` })
        .default(""),
      /** Install-journal key: "<project>/<stack>/<resource name>" (set by the class). Default "": content only. */
      journalKey: z
        .string({ error: (issue) => `journalKey must be text, got ${describe(issue.input)}` })
        .default(""),
      program: z.enum(PROGRAMS, { error: enumError("program", PROGRAMS) }),
      licenseCode: codeSchema("licenseCode").optional(),
      licenseNumber: codeSchema("licenseNumber").optional(),
      authorizationNumber: codeSchema("authorizationNumber").optional(),
      agreementNumber: codeSchema("agreementNumber").optional(),
      licenseKeyPackId: codeSchema("licenseKeyPackId").optional(),
      productVersion: z.enum(PRODUCT_VERSIONS, { error: enumError("productVersion", PRODUCT_VERSIONS) }),
      calType: z.enum(CAL_TYPES, { error: enumError("calType", CAL_TYPES) }),
      quantity: z
        .number({ error: (issue) => `quantity must be a whole number of CALs, got ${describe(issue.input)}` })
        .int({ error: "quantity must be a whole number of CALs" })
        .min(1, { error: "quantity must be at least 1" })
        .max(MAX_QUANTITY, { error: `quantity must be at most ${MAX_QUANTITY}: declare several packs for more` })
        .optional(),
      /** Default false. */
      allowRemovingIssuedLicenses: z
        .boolean({ error: (issue) => `allowRemovingIssuedLicenses must be true or false, got ${describe(issue.input)}` })
        .default(false),
      /** Default: install (no adoption). */
      adoptKeyPackId: keyPackIdNumber("adoptKeyPackId").optional(),
      /** Default []. */
      knownOtherPacks: z
        .array(keyPackIdNumber("knownOtherPacks[]"), {
          error: (issue) => `knownOtherPacks must be a list of KeyPackIds, got ${describe(issue.input)}`,
        })
        .default([]),
    },
    {
      error: (issue) => {
        const i = issue as { code?: string; keys?: string[] };
        if (i.code === "unrecognized_keys") {
          const keys = i.keys ?? [];
          return `unknown field${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}: remove ${
            keys.length > 1 ? "them" : "it"
          } (allowed: ${ARG_FIELDS.join(", ")})`;
        }
        if (i.code === "invalid_type") return "the CAL pack inputs must be an object";
        return undefined;
      },
    },
  )
  .superRefine((v, ctx) => {
    const needed = PROGRAM_FIELDS[v.program];
    for (const field of SECRET_FIELDS) {
      const present = v[field] !== undefined;
      if (needed.includes(field) && !present) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `${field} is required for program "${v.program}": give ${CODE_FORMATS[field].what}`,
        });
      } else if (!needed.includes(field) && present) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: `${field} is not used by program "${v.program}" (it takes ${needed.join(" and ")}): remove it`,
        });
      }
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

/** Outputs that hold secrets (the engine re-marks outputs that share a top-level name with a secret input). */
export const SECRET_OUTPUTS = ["connection", ...SECRET_FIELDS] as const;

/** Every output key the class declares (so the SDK makes each an Output). */
export const OUTPUT_KEYS = [
  "connection",
  "licenseServerName",
  "licenseServerActivationMethod",
  "journalKey",
  "program",
  ...SECRET_FIELDS,
  "productVersion",
  "calType",
  "quantity",
  "allowRemovingIssuedLicenses",
  "adoptKeyPackId",
  "knownOtherPacks",
  "keyPackId",
  "typeAndModel",
  "keyPackType",
  "totalLicenses",
  "issuedLicenses",
  "availableLicenses",
  "expirationDate",
] as const;

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

/** The WMI install methods (reference 3.7). */
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

// ---- version rule (reference 9.5) -------------------------------------------------------------

/** License server versions. */
export const SERVER_VERSIONS = ["2008", "2008R2", "2012", "2012R2", "2016", "2019", "2022", "2025"] as const;
export type ServerVersion = (typeof SERVER_VERSIONS)[number];

/**
 * The newest CAL version a license server accepts (reference 9.5: the server must be the same
 * version as the CAL or newer; 2008/2008 R2 take only 2008 R2-era CALs, 2012/2012 R2 take up to 2012).
 * The rule lives in CalPack.psm1 too (the scripts refuse on their own); this copy serves messages and tests.
 */
export const NEWEST_ACCEPTED_CAL: Readonly<Record<ServerVersion, ProductVersion>> = {
  "2008": "2008R2",
  "2008R2": "2008R2",
  "2012": "2012",
  "2012R2": "2012",
  "2016": "2016",
  "2019": "2019",
  "2022": "2022",
  "2025": "2025",
};

export function serverAcceptsCal(server: ServerVersion, cal: ProductVersion): boolean {
  return PRODUCT_VERSIONS.indexOf(cal) <= PRODUCT_VERSIONS.indexOf(NEWEST_ACCEPTED_CAL[server]);
}

// ---- diff field spec ---------------------------------------------------------------------------

/**
 * What a difference between state (outputs, refreshed by read) and the inputs does. The comparator
 * (provider/diff.ts) sees a flat view built by `diffView` in provider.ts:
 * - targetHost, transport: another license server is another pack: replace.
 * - connection: the rest of the connection (credentials, ports, stateDir) is how we reach the host:
 *   updated in state, nothing changes on the server. An unknown connection (the license server is
 *   being updated) means "may change", never "replace".
 * - program, productVersion, calType: a key pack is immutable: replace (productVersion and calType
 *   are compared with the live pack).
 * - the secret program data: carried from state (WMI cannot report them): replace when changed.
 * - quantity: not in this spec: compared with the live TotalLicenses by `quantityRule` (fewer CALs
 *   shrink the pack in place with RemoveLicensesWithIdCount; more CALs replace it).
 * - allowRemovingIssuedLicenses, licenseServerName, licenseServerActivationMethod: state only.
 * - adoptKeyPackId, knownOtherPacks, journalKey: only read by create; never a difference.
 */
export const DIFF_SPEC = {
  targetHost: { replace: true, normalize: "caseInsensitive" },
  transport: { replace: true },
  connection: {},
  program: { replace: true },
  licenseCode: { replace: true, carried: true },
  licenseNumber: { replace: true, carried: true },
  authorizationNumber: { replace: true, carried: true },
  agreementNumber: { replace: true, carried: true },
  licenseKeyPackId: { replace: true, carried: true },
  productVersion: { replace: true },
  calType: { replace: true },
  allowRemovingIssuedLicenses: {},
  licenseServerName: { normalize: "caseInsensitive" },
  licenseServerActivationMethod: {},
} as const;

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
