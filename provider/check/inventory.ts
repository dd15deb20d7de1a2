/**
 * The inventory of a check: which license server, which session hosts, the expected mode, and how to
 * reach each host. It comes from a small YAML/JSON file (`--inventory`) or from flags (args.ts builds
 * the same raw object), and is validated here before any host is touched: a bad field is a
 * `CheckInputError` naming the field and the fix (exit 2).
 *
 * Secrets never sit in the file: a password, key or passphrase is given by reference, as the name of an
 * environment variable (`passwordEnv: RDS_PASSWORD`); an inline value is refused. The value is read from
 * the environment only here, into the connection the runner validates again (connectionSchema).
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { connectionSchema, type Connection } from "../powershell/transport";
import { CheckInputError } from "./errors";

export const MODES = ["perUser", "perDevice"] as const;
export type CheckMode = (typeof MODES)[number];

/** Connection fields that hold a secret, and the reference field that names its environment variable. */
export const SECRET_REFERENCES = {
  password: "passwordEnv",
  privateKey: "privateKeyEnv",
  privateKeyPassphrase: "privateKeyPassphraseEnv",
} as const;
type SecretField = keyof typeof SECRET_REFERENCES;

/** Connection settings as written in the inventory: any connection field but `host`, secrets by reference. */
const connectionSettingsSchema = z.record(z.string(), z.unknown());

/** A host: its name alone, or the name with settings that override the inventory's `connection`. */
const hostEntrySchema = z.union([z.string(), z.object({ host: z.string(), connection: connectionSettingsSchema.optional() }).strict()]);

/** The inventory file as written (YAML or JSON). */
export const inventorySchema = z
  .object({
    /** The expected licensing mode; absent: the license server's installed CAL types decide when unambiguous. */
    mode: z.enum(MODES).optional(),
    /** Defaults for every host's connection (transport, user, port, stateDir, passwordEnv, ...). */
    connection: connectionSettingsSchema.optional(),
    licenseServer: hostEntrySchema,
    sessionHosts: z.array(hostEntrySchema).min(1, "list at least one session host"),
  })
  .strict();
export type Inventory = z.infer<typeof inventorySchema>;

/** One host to read, its connection resolved (secrets read from the environment) and validated. */
export interface Target {
  /** The name as the inventory gives it (how the report names the host). */
  name: string;
  connection: Connection;
}

/** The validated inventory: everything the reading needs. */
export interface CheckPlan {
  mode: CheckMode | undefined;
  licenseServer: Target;
  sessionHosts: Target[];
}

function fieldPath(parts: readonly (string | number | symbol)[]): string {
  return parts.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), "");
}

/** The first few zod issues as `field: message` (never the value). */
function describeIssues(issues: readonly { path: PropertyKey[]; message: string }[], prefix: string): string {
  return issues
    .slice(0, 5)
    .map((i) => `${fieldPath([...(prefix ? [prefix] : []), ...i.path])}: ${i.message}`)
    .join("; ");
}

/** Reads an inventory file: `.json` as JSON, `.yaml`/`.yml` as YAML (js-yaml). */
export function loadInventoryFile(file: string, cwd: string): unknown {
  const full = path.resolve(cwd, file);
  let text: string;
  try {
    text = fs.readFileSync(full, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot be read";
    throw new CheckInputError(`--inventory ${file}: ${why}`, "give the path of a .yaml, .yml or .json inventory file (see docs/check.md)");
  }
  const ext = path.extname(full).toLowerCase();
  try {
    if (ext === ".json") return JSON.parse(text) as unknown;
    if (ext === ".yaml" || ext === ".yml") return parseYaml(text);
  } catch (e) {
    if (e instanceof CheckInputError) throw e;
    const detail = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new CheckInputError(`--inventory ${file}: not valid ${ext === ".json" ? "JSON" : "YAML"} (${detail})`, "fix the file's syntax");
  }
  throw new CheckInputError(`--inventory ${file}: unknown file type '${ext}'`, "name the file .yaml, .yml or .json");
}

function parseYaml(text: string): unknown {
  // js-yaml 4 ships without types; load() with the default schema builds plain data only (no code).
  let yaml: { load(text: string): unknown };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    yaml = require("js-yaml") as typeof yaml;
  } catch {
    throw new CheckInputError(
      "--inventory: reading YAML needs the js-yaml package, which is not installed",
      "npm install js-yaml, or write the inventory as JSON",
    );
  }
  return yaml.load(text);
}

/** Checks the inventory's shape; a failure names the first fields that are wrong. */
export function parseInventory(raw: unknown, source: string): Inventory {
  const checked = inventorySchema.safeParse(raw);
  if (checked.success) return checked.data;
  throw new CheckInputError(
    `${source}: ${describeIssues(checked.error.issues, "")}`,
    "the inventory has licenseServer, sessionHosts (a list), and optionally mode (perUser | perDevice) and connection (see docs/check.md)",
  );
}

/** Replaces each `<secret>Env` reference with the variable's value; an inline secret is refused. */
function resolveSecrets(settings: Record<string, unknown>, where: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = { ...settings };
  for (const [secret, reference] of Object.entries(SECRET_REFERENCES) as [SecretField, string][]) {
    if (secret in out) {
      throw new CheckInputError(
        `${where}.${secret}: secrets are never written in the inventory or on the command line`,
        `put the value in an environment variable and name it: ${reference}: NAME`,
      );
    }
    if (!(reference in out)) continue;
    const name = out[reference];
    delete out[reference];
    if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new CheckInputError(
        `${where}.${reference}: must name an environment variable`,
        `${reference}: RDS_PASSWORD (letters, digits, _)`,
      );
    }
    const value = env[name];
    if (value === undefined || value === "") {
      throw new CheckInputError(
        `${where}.${reference}: the environment variable ${name} is not set`,
        `export ${name} before running the check`,
      );
    }
    out[secret] = value;
  }
  return out;
}

function hostOf(entry: Inventory["licenseServer"]): { host: string; settings: Record<string, unknown> } {
  return typeof entry === "string" ? { host: entry, settings: {} } : { host: entry.host, settings: entry.connection ?? {} };
}

/** One host's connection: the defaults, its overrides, its name; secrets resolved; validated. */
function resolveTarget(
  entry: Inventory["licenseServer"],
  where: string,
  defaults: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Target {
  const { host, settings } = hostOf(entry);
  if ("host" in settings) {
    throw new CheckInputError(
      `${where}.connection.host: the host is the entry's name`,
      `write the name as ${where}.host (or the entry itself)`,
    );
  }
  const merged: Record<string, unknown> = {
    ...resolveSecrets(defaults, "connection", env),
    ...resolveSecrets(settings, `${where}.connection`, env),
    host,
  };
  if (merged.transport === undefined) {
    throw new CheckInputError(`${where}: no transport`, "set connection.transport (simulator | local | ssh | winrm), or --transport");
  }
  const checked = connectionSchema.safeParse(merged);
  if (!checked.success) {
    const hostIssue = checked.error.issues.find((i) => i.path[0] === "host");
    const issues = checked.error.issues.filter((i) => i.path[0] !== "host");
    const text = hostIssue ? `${where}: ${hostIssue.message}` : `${describeIssues(issues, `${where}.connection`)}`;
    throw new CheckInputError(
      text,
      "fix the connection setting named (docs/check.md lists them; provider/powershell/CONNECTIONS.md has every field)",
    );
  }
  return { name: host, connection: checked.data };
}

/** The plan: every host's connection resolved and validated, duplicates refused. */
export function planFrom(inventory: Inventory, env: NodeJS.ProcessEnv): CheckPlan {
  const defaults = inventory.connection ?? {};
  const licenseServer = resolveTarget(inventory.licenseServer, "licenseServer", defaults, env);
  const sessionHosts = inventory.sessionHosts.map((h, i) => resolveTarget(h, `sessionHosts[${i}]`, defaults, env));
  const seen = new Map<string, number>();
  sessionHosts.forEach((t, i) => {
    const key = t.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      throw new CheckInputError(
        `sessionHosts[${i}]: ${t.name} is listed twice (first at sessionHosts[${first}])`,
        "list each session host once",
      );
    }
    seen.set(key, i);
  });
  return { mode: inventory.mode, licenseServer, sessionHosts };
}
