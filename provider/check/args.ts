/**
 * The command line of `rds-licensing check`: flags to the raw inventory (inventory.ts validates it).
 * Hosts come from flags or from an inventory file, never both; connection flags set the defaults of
 * every host (with an inventory, on top of its `connection`); `--mode` wins over the inventory's.
 */
import { parseArgs, type ParseArgsConfig } from "util";
import { CheckInputError } from "./errors";
import { loadInventoryFile } from "./inventory";

/** A connection flag and the connection field it sets. */
interface ConnectionFlag {
  flag: string;
  field: string;
  kind: "string" | "int" | "boolean";
  help: string;
}

/** Every connection flag (CONNECTIONS.md documents the fields). Secrets only by variable name. */
export const CONNECTION_FLAGS: readonly ConnectionFlag[] = [
  { flag: "transport", field: "transport", kind: "string", help: "simulator | local | ssh | winrm (required)" },
  {
    flag: "state-dir",
    field: "stateDir",
    kind: "string",
    help: "simulator: the emulator's state directory (default $RDS_SIM_STATE_DIR, else ./.rds-sim)",
  },
  {
    flag: "shell",
    field: "shell",
    kind: "string",
    help: "local: pwsh | powershell; ssh (exec channel): the target's PowerShell, a command or path",
  },
  { flag: "user", field: "user", kind: "string", help: "ssh / winrm: the account" },
  { flag: "port", field: "port", kind: "int", help: "ssh / winrm: the port" },
  {
    flag: "password-env",
    field: "passwordEnv",
    kind: "string",
    help: "ssh / winrm: NAME of the environment variable holding the password",
  },
  { flag: "private-key-file", field: "privateKeyFile", kind: "string", help: "ssh: a private key file" },
  { flag: "private-key-env", field: "privateKeyEnv", kind: "string", help: "ssh: NAME of the environment variable holding a private key" },
  {
    flag: "private-key-passphrase-env",
    field: "privateKeyPassphraseEnv",
    kind: "string",
    help: "ssh: NAME of the variable holding the key's passphrase",
  },
  { flag: "known-hosts-file", field: "knownHostsFile", kind: "string", help: "ssh: the known_hosts file to check host keys against" },
  { flag: "channel", field: "channel", kind: "string", help: "ssh: exec (default) | subsystem" },
  { flag: "subsystem", field: "subsystem", kind: "string", help: "ssh (subsystem channel): the PowerShell subsystem (default powershell)" },
  { flag: "scheme", field: "scheme", kind: "string", help: "winrm: https | http" },
  { flag: "authentication", field: "authentication", kind: "string", help: "winrm: negotiate | kerberos | credssp | basic" },
  { flag: "skip-certificate-checks", field: "skipCertificateChecks", kind: "boolean", help: "winrm: lab only" },
  { flag: "configuration-name", field: "configurationName", kind: "string", help: "winrm: the session configuration (endpoint)" },
  { flag: "connect-timeout-seconds", field: "connectTimeoutSeconds", kind: "int", help: "ssh / winrm: seconds per connection attempt" },
  { flag: "connect-attempts", field: "connectAttempts", kind: "int", help: "ssh / winrm: attempts for transient failures" },
];

/** Flags that would put a secret on the command line: refused with the reference to use instead. */
const SECRET_FLAGS: Record<string, string> = {
  password: "--password-env NAME",
  "private-key": "--private-key-file FILE or --private-key-env NAME",
  "private-key-passphrase": "--private-key-passphrase-env NAME",
};

export interface CheckArgs {
  help: boolean;
  json: boolean;
  /** The raw inventory (inventory.ts parseInventory validates it), and where it came from. */
  inventory: unknown;
  source: string;
}

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  inventory: { type: "string" },
  "license-server": { type: "string" },
  "session-host": { type: "string", multiple: true },
  mode: { type: "string" },
  ...Object.fromEntries(CONNECTION_FLAGS.map((f) => [f.flag, { type: f.kind === "boolean" ? "boolean" : "string" }])),
  ...Object.fromEntries(Object.keys(SECRET_FLAGS).map((f) => [f, { type: "string" }])),
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(argv: string[]): Values {
  try {
    const config: ParseArgsConfig = { args: argv, options: OPTIONS as ParseArgsConfig["options"], strict: true, allowPositionals: false };
    return parseArgs(config).values as Values;
  } catch (e) {
    const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new CheckInputError(message, "see rds-licensing check --help");
  }
}

function connectionFromFlags(values: Values): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of CONNECTION_FLAGS) {
    const v = values[f.flag];
    if (v === undefined) continue;
    if (f.kind === "int") {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new CheckInputError(`--${f.flag}: '${String(v)}' is not a whole number`, `--${f.flag} <n>`);
      out[f.field] = n;
    } else {
      out[f.field] = v;
    }
  }
  return out;
}

/** Comma lists and repeats alike: `--session-host a,b --session-host c`. */
function hostList(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(","))
    .map((h) => h.trim())
    .filter((h) => h !== "");
}

/** The command line as a raw inventory (flags), or the inventory file with the flags on top. */
export function parseCheckArgs(argv: string[], cwd: string): CheckArgs {
  // `rds-licensing check ...` and `rds-licensing ...` both work: `check` is the only command.
  const rest = argv[0] === "check" ? argv.slice(1) : argv;
  const values = parse(rest);
  const help = values.help === true;
  const json = values.json === true;
  if (help) return { help, json, inventory: undefined, source: "" };
  for (const [flag, instead] of Object.entries(SECRET_FLAGS)) {
    if (values[flag] !== undefined) {
      throw new CheckInputError(`--${flag}: secrets are never given on the command line (other users can read it)`, `use ${instead}`);
    }
  }
  const connection = connectionFromFlags(values);
  const mode = values.mode as string | undefined;
  const sessionHosts = hostList(values["session-host"] as string[] | undefined);
  const licenseServer = values["license-server"] as string | undefined;

  if (values.inventory !== undefined) {
    const file = values.inventory as string;
    if (licenseServer !== undefined || sessionHosts.length > 0) {
      throw new CheckInputError(
        "--license-server / --session-host: the hosts come from --inventory",
        "give the hosts in the inventory or by flags, not both",
      );
    }
    const raw = loadInventoryFile(file, cwd);
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
      throw new CheckInputError(
        `--inventory ${file}: not a mapping`,
        "the inventory has licenseServer, sessionHosts, mode, connection (see docs/check.md)",
      );
    }
    const inv = { ...(raw as Record<string, unknown>) };
    if (Object.keys(connection).length > 0) {
      const base = inv.connection && typeof inv.connection === "object" ? (inv.connection as Record<string, unknown>) : {};
      inv.connection = { ...base, ...connection };
    }
    if (mode !== undefined) inv.mode = mode;
    return { help, json, inventory: inv, source: `inventory ${file}` };
  }
  if (licenseServer === undefined)
    throw new CheckInputError("--license-server: required", "--license-server <host>, or --inventory <file>");
  if (sessionHosts.length === 0)
    throw new CheckInputError("--session-host: required", "--session-host <host> (repeat it, or a comma list)");
  const inventory: Record<string, unknown> = { licenseServer, sessionHosts, connection };
  if (mode !== undefined) inventory.mode = mode;
  return { help, json, inventory, source: "flags" };
}

/** `rds-licensing check --help`. */
export function helpText(): string {
  const width = Math.max(...CONNECTION_FLAGS.map((f) => f.flag.length)) + 8;
  const row = (flag: string, text: string) => `  ${flag.padEnd(width)}${text}\n`;
  return (
    "usage: rds-licensing check --license-server <host> --session-host <host>[,<host>...] [--mode perUser|perDevice] --transport <t> [connection flags] [--json]\n" +
    "       rds-licensing check --inventory <file.yaml|file.json> [--mode ...] [connection flags] [--json]\n\n" +
    "Reads the license server and the session hosts (read-only: it never writes to a host) and prints the\n" +
    "findings of the RdsLicensing component with the facts behind them. See docs/check.md.\n\n" +
    row("--license-server", "the RD license server") +
    row("--session-host", "a session host (repeat, or a comma list)") +
    row("--mode", "the expected licensing mode (default: the installed CAL type, when there is one)") +
    row("--inventory", "a YAML/JSON inventory instead of the host flags") +
    row("--json", "one JSON document on stdout") +
    CONNECTION_FLAGS.map((f) => row(`--${f.flag}`, f.help)).join("") +
    "\nExit codes: 0 no error-severity finding fails; 1 errors found; 2 could not check (bad input, a host not read).\n"
  );
}
