/**
 * RdsLicenseServer: the field table (each field once: its input type and default, secrecy, what a
 * change does, whether it is an output), the zod schemas derived from it and those of the script
 * results, and the value maps. Pure: no host, no runner, no I/O.
 */
import { z } from "zod";
import { connectionSchema } from "../../powershell/transport";
import { deriveFields, freeTextRule, inputObject, unknownFieldsReason } from "../fields";

/** Where Microsoft's Remote Desktop Licensing web site lives (docs/windows-facts.md). */
export const ACTIVATION_WEB_SITE = "https://activate.microsoft.com";

/** Length of a license server id once hyphens and spaces are removed (7 groups of 5). */
export const LICENSE_SERVER_ID_LENGTH = 35;

/** Hyphens and whitespace removed, upper-cased: the form ActivateServer takes (docs/windows-facts.md). */
export function normalizeLicenseServerId(raw: string): string {
  return raw.replace(/[-\s]/g, "").toUpperCase();
}

/** The contact fields, in Win32_TSLicenseServer's order (FirstName ... PostalCode). */
export const CONTACT_FIELDS = [
  "firstName",
  "lastName",
  "company",
  "countryRegion",
  "email",
  "orgUnit",
  "address",
  "city",
  "state",
  "postalCode",
] as const;

/**
 * The longest value each contact field accepts, in characters. Windows documents no limit for the
 * Win32_TSLicenseServer contact properties (not confirmed): these are generous bounds well above any
 * real name or address, so a runaway value (a file pasted by mistake) stops at check instead of
 * travelling to the host, the Clearinghouse and the state. The e-mail bound is the longest address
 * SMTP carries (254, RFC 5321).
 */
export const CONTACT_MAX_LENGTH: Readonly<Record<(typeof CONTACT_FIELDS)[number], number>> = {
  firstName: 256,
  lastName: 256,
  company: 256,
  countryRegion: 256,
  email: 254,
  orgUnit: 256,
  address: 256,
  city: 256,
  state: 256,
  postalCode: 256,
};

const requiredText = (field: (typeof CONTACT_FIELDS)[number], example: string) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `contact.${field} is required: Microsoft's Clearinghouse needs it to activate the license server (for example ${example})`
          : `contact.${field} must be text, got ${describe(issue.input)}`,
    })
    .superRefine(freeTextRule(`contact.${field}`, CONTACT_MAX_LENGTH[field]))
    .refine((v) => v.trim().length > 0, {
      error: `contact.${field} is empty: give a non-empty value (for example ${example}); the Clearinghouse refuses activation without it`,
    });

const optionalText = (field: (typeof CONTACT_FIELDS)[number]) =>
  z
    .string({ error: (issue) => `contact.${field} must be text, got ${describe(issue.input)}` })
    .superRefine(freeTextRule(`contact.${field}`, CONTACT_MAX_LENGTH[field]))
    .default("");

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

function unknownKeys(where: string, allowed: readonly string[]) {
  return (issue: { code?: string; keys?: string[] }) => unknownFieldsReason(issue, allowed, where);
}

/**
 * The contact the license server registers with the Clearinghouse (Win32_TSLicenseServer properties).
 * The four required fields must be non-empty; an optional field left out means empty (the property is
 * cleared on the server), so the declared contact is the whole contact.
 */
export const contactSchema = z.strictObject(
  {
    firstName: requiredText("firstName", '"Ada"'),
    lastName: requiredText("lastName", '"Lovelace"'),
    company: requiredText("company", '"Contoso Ltd"'),
    countryRegion: requiredText("countryRegion", '"United Kingdom"'),
    email: optionalText("email"),
    orgUnit: optionalText("orgUnit"),
    address: optionalText("address"),
    city: optionalText("city"),
    state: optionalText("state"),
    postalCode: optionalText("postalCode"),
  },
  {
    error: (issue) =>
      issue.code === "invalid_type"
        ? "contact must be an object with firstName, lastName, company and countryRegion"
        : unknownKeys("contact.", CONTACT_FIELDS)(issue as { code?: string; keys?: string[] }),
  },
);
export type Contact = z.infer<typeof contactSchema>;

/** The Win32_TSLicenseServer property behind each contact field (e-mail is `eMail` in the MOF). */
export const CONTACT_WMI_PROPERTIES: Readonly<Record<keyof Contact, string>> = {
  firstName: "FirstName",
  lastName: "LastName",
  company: "Company",
  countryRegion: "CountryRegion",
  email: "eMail",
  orgUnit: "OrgUnit",
  address: "Address",
  city: "City",
  state: "State",
  postalCode: "PostalCode",
};

export const ACTIVATION_METHODS = ["automatic", "web", "telephone"] as const;
export type ActivationMethod = (typeof ACTIVATION_METHODS)[number];

const licenseServerIdSchema = z
  .string({ error: (issue) => `activation.licenseServerId must be text, got ${describe(issue.input)}` })
  .transform(normalizeLicenseServerId)
  .refine((v) => /^[A-Z0-9]{35}$/.test(v), {
    error: (issue) => {
      const v = String(issue.input ?? "");
      const bad = v.replace(/[A-Z0-9]/g, "");
      return bad.length > 0
        ? `activation.licenseServerId may hold only letters A-Z and digits (hyphens and spaces are ignored); found ${JSON.stringify(
            [...new Set(bad)].join(""),
          )}: copy the license server id exactly as the Clearinghouse gave it`
        : `activation.licenseServerId must be ${LICENSE_SERVER_ID_LENGTH} letters and digits (7 groups of 5; hyphens and spaces are ignored), got ${v.length}: copy all 7 groups the Clearinghouse gave you`;
    },
  });

/** How the license server is activated with Microsoft's Clearinghouse: automatic, web or telephone. */
export const activationSchema = z
  .strictObject(
    {
      method: z.enum(ACTIVATION_METHODS, {
        error: (issue) =>
          `activation.method must be one of "automatic", "web" or "telephone", got ${JSON.stringify(issue.input) ?? "nothing"}`,
      }),
      licenseServerId: licenseServerIdSchema.optional(),
    },
    {
      error: (issue) =>
        issue.code === "invalid_type"
          ? 'activation must be an object such as { method: "automatic" }'
          : unknownKeys("activation.", ["method", "licenseServerId"])(issue as { code?: string; keys?: string[] }),
    },
  )
  .superRefine((value, ctx) => {
    if (value.method === "automatic" && value.licenseServerId !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["licenseServerId"],
        message:
          'activation.licenseServerId is only used with method "web" or "telephone" (the id you got from the web site or by phone); ' +
          'automatic activation gets its id from the Clearinghouse itself: remove licenseServerId, or set method to "web" or "telephone"',
      });
    }
  });
export type Activation = z.infer<typeof activationSchema>;

export const DISCOVERY_SCOPES = ["workgroup", "domain", "forest"] as const;
export type DiscoveryScope = (typeof DISCOVERY_SCOPES)[number];
/** ChangeRole / ServerRole values: 0 workgroup, 1 domain, 2 forest (docs/windows-facts.md). */
export const DISCOVERY_SCOPE_ROLE: Readonly<Record<DiscoveryScope, number>> = { workgroup: 0, domain: 1, forest: 2 };
export function discoveryScopeFromRole(role: number | null | undefined): DiscoveryScope | undefined {
  return DISCOVERY_SCOPES.find((s) => DISCOVERY_SCOPE_ROLE[s] === role);
}

/**
 * The fields of RdsLicenseServer, each declared once. The comparator (provider/diff.ts) compares the
 * state (outputs, refreshed by read) with the inputs as "views" of these fields (rules.ts builds them):
 * - `host`, `transport` (from the connection): replace. Another host is another license server. An
 *   unknown host at preview means "may change", not "replace".
 * - `connection` (whole, host compared case-insensitively): the rest of the connection (credentials, the
 *   simulator's stateDir) is how we reach the host, not what is on it: a change updates state only.
 *   Secret in state: the resource class marks it secret and the provider returns it under the same
 *   top-level name, so the engine keeps it secret.
 * - `contact`, `discoveryScope`: in place, compared with their LIVE values (drift).
 * - `activation`: in place (phase two of web/telephone; a method switch on an activated server only
 *   changes state).
 * - `addToLicenseServersGroup`: in place; its state side is false while the live membership read says the
 *   server is not in the group (drift: an update adds it again). Set back to false: no host change.
 * - `installRole`, `deactivateOnDelete`: state only.
 * - secret outputs: `connection` always; `activation` and `licenseServerId` whenever
 *   `activation.licenseServerId` is given (they carry it: a `pulumi.secret(id)` must not come back in
 *   plain text; `secretFrom`, fields.ts).
 * - `activationStatus` (derived): desired "activated" when the inputs can activate (automatic, or a
 *   license server id given), otherwise whatever the server has (pending is not drift).
 */
export const FIELDS = deriveFields({
  host: { change: "replace", rule: { normalize: "caseInsensitive" } },
  transport: { change: "replace" },
  connection: { input: connectionSchema, secret: true, output: true, change: "stateOnly", rule: { normalize: lowerConnectionHost } },
  contact: { input: contactSchema, output: true, change: "update" },
  activation: { input: activationSchema, output: true, change: "update", secretFrom: ["activation.licenseServerId"] },
  /** Default true. */
  installRole: {
    input: z.boolean({ error: (issue) => `installRole must be true or false, got ${describe(issue.input)}` }).default(true),
    output: true,
    change: "stateOnly",
  },
  /** Default: not managed (left as it is on the server). */
  discoveryScope: {
    input: z
      .enum(DISCOVERY_SCOPES, {
        error: (issue) => `discoveryScope must be "workgroup", "domain" or "forest", got ${JSON.stringify(issue.input) ?? "nothing"}`,
      })
      .optional(),
    output: true,
    change: "update",
  },
  /**
   * Default false. Opt-in: put the server in its domain's Terminal Server License Servers group
   * (AddLStoTSLSGroup, needs Domain Admins). Compared with the LIVE membership (drift: removed by hand).
   * Set back to false, it only writes state: the server is never removed from the group.
   */
  addToLicenseServersGroup: {
    input: z
      .boolean({
        error: (issue) =>
          `addToLicenseServersGroup must be true (put the license server in its domain's Terminal Server License Servers group) or false, got ${describe(issue.input)}`,
      })
      .default(false),
    output: true,
    change: "update",
  },
  /** Default false. */
  deactivateOnDelete: {
    input: z.boolean({ error: (issue) => `deactivateOnDelete must be true or false, got ${describe(issue.input)}` }).default(false),
    output: true,
    change: "stateOnly",
  },
  activationStatus: { output: true, change: "update" },
  serverName: { output: true },
  productId: { output: true },
  licenseServerId: { output: true, secretFrom: ["activation.licenseServerId"] },
  activationMethod: { output: true },
  activatedProductId: { output: true },
  nextStep: { output: true },
  version: { output: true },
  licenseServersGroup: { output: true },
  calUsage: { output: true },
});

/** The resource inputs after check: validated, normalised, defaults filled in. */
export const argsSchema = inputObject(FIELDS);
export type LicenseServerInputs = z.infer<typeof argsSchema>;

export const ACTIVATION_STATUSES = ["activated", "pending", "notActivated", "unknown"] as const;
export type ActivationStatus = (typeof ACTIVATION_STATUSES)[number];

/** How the current (or last) activation was made: a method, or "external" when it predates the resource. */
export const ACTIVATION_ORIGINS = [...ACTIVATION_METHODS, "external"] as const;
export type ActivationOrigin = (typeof ACTIVATION_ORIGINS)[number];

/**
 * The license server and Active Directory (get.ps1, Directory.Common.ps1): member and scpRegistered
 * are null in a workgroup or when the read failed, and readError says why.
 */
export const licenseServersGroupSchema = z.object({
  domainJoined: z.boolean(),
  domain: z.string().nullable(),
  member: z.boolean().nullable(),
  scpRegistered: z.boolean().nullable(),
  readError: z.string().nullable(),
});
export type LicenseServersGroup = z.infer<typeof licenseServersGroupSchema>;

/** CAL usage (get.ps1, Usage.Common.ps1). */
export const calUsageSchema = z.object({
  /** Packs with CALs (no built-in pack, no leftover rows). */
  packs: z.array(
    z.object({
      keyPackId: z.number().int(),
      calType: z.enum(["perDevice", "perUser"]),
      productVersion: z.string(),
      installed: z.number().int(),
      issued: z.number().int(),
      available: z.number().int(),
    }),
  ),
  /** Active per-device licenses: all counted, at most `limit` listed, soonest expiry first. */
  perDevice: z.object({
    total: z.number().int(),
    listed: z.array(z.object({ device: z.string(), keyPackId: z.number().int(), expires: z.string() })),
    limit: z.number().int(),
  }),
  /** Per-user CALs installed, and in use per the per-user report (null, with the reason, where it cannot be read). */
  perUser: z.object({
    installed: z.number().int(),
    issued: z.number().int().nullable(),
    reportAvailable: z.boolean(),
    reason: z.string().nullable(),
  }),
});
export type CalUsage = z.infer<typeof calUsageSchema>;

/** The state this resource keeps: the inputs (contact and discoveryScope as read live) plus the outputs. */
export const outputsSchema = z.object({
  connection: z.record(z.string(), z.unknown()),
  contact: z.object(Object.fromEntries(CONTACT_FIELDS.map((f) => [f, z.string()])) as Record<keyof Contact, z.ZodString>),
  activation: z.object({ method: z.enum(ACTIVATION_METHODS), licenseServerId: z.string().optional() }),
  installRole: z.boolean(),
  discoveryScope: z.enum(DISCOVERY_SCOPES).optional(),
  deactivateOnDelete: z.boolean(),
  serverName: z.string(),
  productId: z.string(),
  licenseServerId: z.string(),
  activationStatus: z.enum(ACTIVATION_STATUSES),
  /** "" while the server has never been activated through (or found activated by) this resource. */
  activationMethod: z.union([z.enum(ACTIVATION_ORIGINS), z.literal("")]),
  /** The product id the current (or last) activation belongs to; "" when never activated. */
  activatedProductId: z.string(),
  nextStep: z.string(),
  version: z.string(),
  /** Absent in states written before these outputs existed. */
  addToLicenseServersGroup: z.boolean().optional(),
  licenseServersGroup: licenseServersGroupSchema.nullable().optional(),
  calUsage: calUsageSchema.nullable().optional(),
});
export type LicenseServerOutputs = z.infer<typeof outputsSchema>;

// ---- script results --------------------------------------------------------------------------

const liveContactSchema = z.object(Object.fromEntries(CONTACT_FIELDS.map((f) => [f, z.string()])) as Record<keyof Contact, z.ZodString>);

/** get.ps1: the whole live state (DSC "Get"). `server` is null when the WMI class does not answer. */
export const getResultSchema = z.object({
  roleInstalled: z.boolean(),
  serviceStatus: z.string(),
  classReady: z.boolean(),
  server: z
    .object({
      serverName: z.string(),
      productId: z.string(),
      version: z.string(),
      activationStatus: z.number().int(),
      licenseServerId: z.string(),
      serverRole: z.number().int().nullable(),
      contact: liveContactSchema,
    })
    .nullable(),
  /** Null whenever `server` is null. */
  licenseServersGroup: licenseServersGroupSchema.nullable(),
  calUsage: calUsageSchema.nullable(),
});
export type GetResult = z.infer<typeof getResultSchema>;

/** group.ps1: whether AddLStoTSLSGroup was called (false: already a member), and the membership after it. */
export const groupResultSchema = z.object({
  added: z.boolean(),
  member: z.boolean(),
});
export type GroupResult = z.infer<typeof groupResultSchema>;

/** install.ps1: whether this call installed the RDS-Licensing role. */
export const installResultSchema = z.object({
  installedNow: z.boolean(),
  restartNeeded: z.boolean(),
});
export type InstallResult = z.infer<typeof installResultSchema>;

/** wait.ps1: how long the wait for the service and the WMI class took. */
export const waitResultSchema = z.object({
  attempts: z.number().int(),
  waitedMs: z.number(),
  serviceStarted: z.boolean(),
});
export type WaitResult = z.infer<typeof waitResultSchema>;

/** set.ps1: which contact properties (WMI names) were written, and whether ChangeRole ran. */
export const setResultSchema = z.object({
  changedProperties: z.array(z.string()),
  roleChanged: z.boolean(),
});
export type SetResult = z.infer<typeof setResultSchema>;

/**
 * The WMI activation methods activate.ps1 may call. Never Reactivate*: Microsoft documents those for an
 * activated server (a new license server id, or a reason), and no input asks to reactivate (README.md).
 */
export const ACTIVATION_CALLS = ["ActivateServerAutomatic", "ActivateServer"] as const;
export type ActivationCall = (typeof ACTIVATION_CALLS)[number];

/** activate.ps1: the call made ("none" when the server was already activated) and the status after it. */
export const activateResultSchema = z.object({
  call: z.union([z.enum(ACTIVATION_CALLS), z.literal("none")]),
  activationStatus: z.number().int(),
});
export type ActivateResult = z.infer<typeof activateResultSchema>;

/** deactivate.ps1: the call made ("none" when there was nothing to deactivate). */
export const deactivateResultSchema = z.object({
  call: z.enum(["DeactivateServerAutomatic", "none"]),
  activationStatus: z.number().int().nullable(),
});
export type DeactivateResult = z.infer<typeof deactivateResultSchema>;

/** The connection as the comparator sees it: the host compared case-insensitively. */
function lowerConnectionHost(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  const v = value as Record<string, unknown>;
  return typeof v.host === "string" ? { ...v, host: v.host.toLowerCase() } : v;
}

/** Role/service wait: the bound and the first poll interval (doubling, capped). */
export const ROLE_WAIT = { timeoutSeconds: 300, firstPollMs: 200, maxPollMs: 5000 } as const;
