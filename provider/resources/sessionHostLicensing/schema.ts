/**
 * RdsSessionHostLicensing: the field table (each field declared once: input type and default,
 * secrecy, what a change does, output), the input and script-result schemas derived from it. Pure: no
 * host, no runner, no I/O. The licensing rules themselves live in rules.ts.
 */
import { z } from "zod";
import { connectionSchema } from "../../powershell/transport";
import { deriveFields, freeTextRule, inputObject } from "../fields";
import { connectivityEntrySchema, type ConnectivityEntry } from "./connectivity";
import { CAL_VERSIONS } from "./rules";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

export const MODES = ["perUser", "perDevice"] as const;
export const SCOPES = ["sessionHost", "deployment"] as const;
export const SOURCES = ["local", "groupPolicy", "deployment"] as const;
export type Source = (typeof SOURCES)[number];

const modeSchema = z.enum(MODES, {
  error: (issue) => `mode must be "perUser" or "perDevice", got ${JSON.stringify(issue.input) ?? "nothing"}`,
});

/** The longest license server name: a DNS name is at most 253 characters (RFC 1035), an address less. */
export const SERVER_NAME_MAX_LENGTH = 253;

/** The free-text rule of one license server name (length, no control character), for messages `where`. */
export const serverNameRule = (where: string) => freeTextRule(where, SERVER_NAME_MAX_LENGTH);

/** One license server name: a NetBIOS name, an FQDN or an address; no spaces, commas or semicolons
 * (the Group Policy value is one comma-separated string, so a comma could never match), no control
 * character (NUL, BEL...: Windows would store the name as given, and no server answers to it). */
const serverNameSchema = z
  .string({ error: (issue) => `a license server name must be text, got ${describe(issue.input)}` })
  .superRefine(serverNameRule("a license server name"))
  .transform((s) => s.trim())
  .refine((s) => s.length > 0, { error: "a license server name is empty: give the license server's name (its serverName)" })
  .refine((s) => !/[\s,;]/.test(s), {
    error: (issue) => `license server name ${JSON.stringify(issue.input)} holds a space, comma or semicolon: give one name per list entry`,
  });

/**
 * One CAL pack this host's CALs come from, as the class builds it from an RdsCalPack's outputs.
 * `licenseServerConnection` is how the live check reaches the pack's license server.
 */
export const calPackRefSchema = z.strictObject(
  {
    keyPackId: z
      .number({ error: (issue) => `calPacks[].keyPackId must be a KeyPackId (a whole number), got ${describe(issue.input)}` })
      .int({ error: "calPacks[].keyPackId must be a whole number (the RdsCalPack's keyPackId output)" })
      .min(0, { error: "calPacks[].keyPackId must be 0 or more (the RdsCalPack's keyPackId output)" }),
    calType: modeSchema,
    productVersion: z.enum(CAL_VERSIONS, {
      error: (issue) => `calPacks[].productVersion must be one of ${CAL_VERSIONS.join(", ")}, got ${JSON.stringify(issue.input)}`,
    }),
    licenseServerConnection: connectionSchema,
    /** The license server's name, for messages. Default "". */
    licenseServerName: z
      .string({ error: (issue) => `calPacks[].licenseServerName must be text, got ${describe(issue.input)}` })
      .superRefine(serverNameRule("calPacks[].licenseServerName"))
      .default(""),
  },
  {
    error: (issue) => {
      const i = issue as { code?: string; keys?: string[] };
      if (i.code === "unrecognized_keys") {
        return `unknown field(s) ${(i.keys ?? []).map((k) => `"calPacks[].${k}"`).join(", ")}: remove ${(i.keys ?? []).length > 1 ? "them" : "it"} (allowed are keyPackId, calType, productVersion, licenseServerConnection, licenseServerName)`;
      }
      if (i.code === "invalid_type") return "each calPacks entry must be an object (pass RdsCalPack resources to the class)";
      return undefined;
    },
  },
);
export type CalPackRef = z.infer<typeof calPackRefSchema>;

const scopeSchema = z
  .enum(SCOPES, {
    error: (issue) => `scope must be "sessionHost" or "deployment", got ${JSON.stringify(issue.input) ?? "nothing"}`,
  })
  .default("sessionHost");

const licenseServersSchema = z
  .array(serverNameSchema, {
    error: (issue) => `licenseServers must be a list of license server names, got ${describe(issue.input)}`,
  })
  .min(1, { error: "licenseServers is empty: give at least one license server (usually the RdsLicenseServer's serverName)" })
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((name, i) => {
      const key = name.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: `license server ${JSON.stringify(name)} is listed twice (entries ${seen.get(key)} and ${i}): list each server once`,
        });
      } else seen.set(key, i);
    });
  });

/**
 * Every field of the resource, once. What a difference between state (outputs, refreshed by read) and
 * inputs does, on the flat view `diffView` (rules.ts) builds:
 * - targetHost, transport (pulled out of the connection), scope: another host, or the deployment
 *   instead of the host, is another resource: replace. The host compares case-insensitively.
 * - connection: credentials and the rest: state only.
 * - mode / licenseServers: compared with the LIVE effectiveMode / effectiveLicenseServers (so refresh
 *   shows drift and the next up repairs it); list order matters, case does not.
 * - calPacks, resetOnDelete: state only on the host (a change of calPacks re-runs the live pre-flight,
 *   which only reads).
 * The connection and the packs (which hold their license server's connection) are secret.
 */
export const FIELDS = deriveFields({
  targetHost: { change: "replace", rule: { normalize: "caseInsensitive" } },
  transport: { change: "replace" },
  connection: { input: connectionSchema, output: true, secret: true, change: "stateOnly" },
  /** Default "sessionHost" (Win32_TerminalServiceSetting on the host); "deployment" goes through the broker. */
  scope: { input: scopeSchema, output: true, change: "replace" },
  mode: { input: modeSchema, output: true, change: "update" },
  licenseServers: { input: licenseServersSchema, output: true, change: "update", rule: { normalize: "caseInsensitive" } },
  /** Default: none (only the workgroup rule is checked). */
  calPacks: {
    input: z.array(calPackRefSchema, { error: (issue) => `calPacks must be a list of CAL packs, got ${describe(issue.input)}` }).optional(),
    output: true,
    secret: true,
    change: "stateOnly",
  },
  /**
   * Default false: a host without the RD Session Host role stops the operation (RDS_SESSION_HOST_ROLE_MISSING).
   * true: install RDS-RD-Server, restart the host and go on. State only: on a host with the role it changes
   * nothing.
   */
  installRole: {
    input: z.boolean({ error: (issue) => `installRole must be true or false, got ${describe(issue.input)}` }).default(false),
    output: true,
    change: "stateOnly",
  },
  /** Default false: delete leaves the host configured. */
  resetOnDelete: {
    input: z.boolean({ error: (issue) => `resetOnDelete must be true or false, got ${describe(issue.input)}` }).default(false),
    output: true,
    change: "stateOnly",
  },
  // Read live on every create, update and refresh (SessionHostLicensingOutputs documents each).
  serverName: { output: true },
  effectiveMode: { output: true },
  effectiveLicenseServers: { output: true },
  modeSource: { output: true },
  licenseServersSource: { output: true },
  gracePeriodDaysLeft: { output: true },
  osVersion: { output: true },
  domainJoined: { output: true },
  sessionHostRole: { output: true },
  connectivity: { output: true },
});

/** The provider inputs after check: validated, normalised, defaults filled in. */
export const argsSchema = inputObject(FIELDS, "the session host licensing inputs");
export type SessionHostLicensingInputs = z.infer<typeof argsSchema>;

/** The state: the checked inputs plus what was read live. */
export type SessionHostLicensingOutputs = SessionHostLicensingInputs & {
  /** The host (or broker) name as it reports itself. */
  serverName: string;
  /** perUser, perDevice, notConfigured, or another LicensingType meaning. */
  effectiveMode: string;
  /** The license servers in effect, in order. */
  effectiveLicenseServers: string[];
  modeSource: Source;
  licenseServersSource: Source;
  /** Days left in the 120-day grace period (0 = over); null when the host cannot report it. */
  gracePeriodDaysLeft: number | null;
  /** "2022", "2012R2", ...; "" when not a Windows Server release we know. */
  osVersion: string;
  /** Domain membership of the host (workgroup hosts cannot use Per User). */
  domainJoined: boolean | null;
  /** The RD Session Host role (TerminalServerMode 1); null for scope deployment (not read there). */
  sessionHostRole: boolean | null;
  /** GetTStoLSConnectivityStatus for each license server in effect, in order; [] for scope deployment. */
  connectivity: ConnectivityEntry[];
};

/** Every output key the class declares (so the SDK makes each an Output). */
export const OUTPUT_KEYS = FIELDS.outputKeys;

/** Outputs kept secret (the engine re-marks outputs that share a top-level name with a secret input). */
export const SECRET_OUTPUTS = FIELDS.secretFields;

/** What the comparator compares, and what a difference does. */
export const DIFF_SPEC = FIELDS.diffSpec;

// ---- script results ----------------------------------------------------------------------------

const nullableString = z.string().nullable();
const nullableNumber = z.number().nullable();

/** get.ps1: the whole live licensing state of the host (scope sessionHost) or deployment (scope deployment). */
export const getResultSchema = z.object({
  scope: z.enum(SCOPES),
  serverName: z.string(),
  /** Win32_TerminalServiceSetting.TerminalServerMode (sessionHost: 1 = the RD Session Host role); null for deployment. */
  terminalServerMode: nullableNumber,
  /** Win32_TerminalServiceSetting.LicensingType (sessionHost); null for deployment. */
  licensingType: nullableNumber,
  /** Get-RDLicenseConfiguration Mode (deployment); null for sessionHost. */
  rdmsMode: nullableString,
  policySourceLicensingType: nullableNumber,
  policySourceConfiguredLicenseServers: nullableNumber,
  /** GetSpecifiedLicenseServerList (sessionHost) or the RDMS LicenseServer list (deployment). */
  licenseServers: z.array(z.string()),
  /** The Group Policy values (HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services). */
  policy: z.object({ licensingMode: nullableNumber, licenseServers: nullableString }),
  gracePeriodDaysLeft: nullableNumber,
  os: z.object({ caption: nullableString, version: nullableString, buildNumber: nullableString }),
  partOfDomain: z.boolean().nullable(),
  domain: nullableString,
  /** GetTStoLSConnectivityStatus for each license server in effect (sessionHost); [] for deployment. */
  connectivity: z.array(connectivityEntrySchema),
});
export type GetResult = z.infer<typeof getResultSchema>;

/** set.ps1: the calls made, in order. */
export const setResultSchema = z.object({ calls: z.array(z.string()) });
export type SetResult = z.infer<typeof setResultSchema>;

/** reset.ps1: the calls made and what was left alone (and why). */
export const resetResultSchema = z.object({ calls: z.array(z.string()), skipped: z.array(z.string()) });
export type ResetResult = z.infer<typeof resetResultSchema>;

/** role.ps1: whether it installed RDS-RD-Server now, whether Windows waits for a restart, the boot it ran in. */
export const roleResultSchema = z.object({ installedNow: z.boolean(), restartNeeded: z.boolean(), lastBootUpTime: nullableString });
export type RoleResult = z.infer<typeof roleResultSchema>;

/** restart.ps1: Restart-Computer was called. */
export const restartResultSchema = z.object({ requested: z.boolean() });

/** boot.ps1: the boot the host is in and its TerminalServerMode. */
export const bootResultSchema = z.object({ lastBootUpTime: nullableString, terminalServerMode: nullableNumber });
export type BootResult = z.infer<typeof bootResultSchema>;

/** packs.ps1 (on a license server): the packs asked for, by KeyPackId. */
export const packsResultSchema = z.object({
  serverName: z.string(),
  packs: z.array(
    z.object({
      keyPackId: z.number().int(),
      productType: z.number().int(),
      productVersionId: z.number().int(),
      productVersion: z.string(),
      typeAndModel: z.string(),
      totalLicenses: z.number(),
      issuedLicenses: z.number(),
      availableLicenses: z.number(),
    }),
  ),
  missing: z.array(z.number().int()),
});
export type PacksResult = z.infer<typeof packsResultSchema>;
