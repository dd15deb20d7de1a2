#!/usr/bin/env node
/**
 * `rds-sim`: inspect and drive the RD Licensing simulator (the WMI emulator behind the `simulator`
 * transport). It lists and shows hosts, plays the Clearinghouse for web and telephone activation,
 * configures hosts, issues licenses to fake clients, injects faults and Group Policy values, and
 * resets state. The command reference lives in CLI.md next to this file.
 *
 * Each command runs pwsh once: `pwsh -NoLogo -NoProfile -NonInteractive -File cli-driver.ps1
 * -ModulePath <RdsEmulator.psm1>` with one request (base64 JSON) on stdin. Arguments are data: they
 * reach PowerShell only as values in that request, never as script text.
 *
 * Exit codes: 0 success, 1 the emulator (or pwsh) reported an error, 2 bad arguments.
 */
import { spawn } from "child_process";
import * as path from "path";
import { parseArgs } from "util";
import { providerFile } from "../paths";
import { findPwsh as findRunnerPwsh, PWSH_INSTALL_HINT } from "../powershell/executable";

// ------------------------------------------------------------------------------------------------
// Errors and exit codes
// ------------------------------------------------------------------------------------------------

/** Bad command line: exit 2, with a usage hint. */
class UsageError extends Error {
  constructor(message: string, readonly command?: Command, readonly group?: string) {
    super(message);
  }
}

/** The emulator, pwsh or the environment said no: exit 1. */
class CliError extends Error {}

const EXIT_OK = 0;
const EXIT_ERROR = 1;
const EXIT_USAGE = 2;

// ------------------------------------------------------------------------------------------------
// Values the emulator accepts (RdsEmulator.psm1 is the source of truth; these mirror its tables)
// ------------------------------------------------------------------------------------------------

const OS_VERSIONS = ["2008R2", "2012", "2016", "2019", "2022", "2025"] as const;
const CAL_TYPES = ["perUser", "perDevice"] as const;
const PROGRAMS = ["retail", "openLicense", "select", "enterpriseAgreement", "campus", "school", "spla", "otherAgreement"] as const;
const SERVICE_STATES = ["running", "stopped"] as const;
const BOOL_FAULTS = ["clearinghouseUnreachable", "accessDenied", "providerFailure", "activationStatusUnknown"] as const;
const FAULTS = [...BOOL_FAULTS, "latencyMs", "classNotReadyCalls", "failureStyle"] as const;
const FAILURE_STYLES = ["return", "exception"] as const;
/** Group Policy LicensingMode values (TerminalServer.admx; reference 5.3). */
const GPO_MODES: Record<string, number> = { perDevice: 2, perUser: 4, aadPerUser: 6 };

const LICENSING_TYPES: Record<number, string> = {
  0: "Personal Terminal Server",
  1: "Remote Desktop for Administration",
  2: "Per Device",
  4: "Per User",
  5: "Not configured",
  6: "AAD Per User",
};
const PRODUCT_TYPES: Record<number, string> = { 0: "Per Device", 1: "Per User", 2: "Not valid", 3: "Built-in" };
const LICENSE_STATUS: Record<number, string> = {
  0: "unknown", 1: "temporary", 2: "active", 3: "upgrade", 4: "revoked", 5: "pending", 6: "concurrent",
};
const SERVER_ROLES: Record<number, string> = { 0: "workgroup", 1: "domain", 2: "forest" };
const WBEM_NAMES: Record<number, string> = {
  0x80041001: "WBEM_E_FAILED",
  0x80041002: "WBEM_E_NOT_FOUND",
  0x80041003: "WBEM_E_ACCESS_DENIED",
  0x80041004: "WBEM_E_PROVIDER_FAILURE",
  0x80041005: "WBEM_E_TYPE_MISMATCH",
  0x80041008: "WBEM_E_INVALID_PARAMETER",
  0x80041009: "WBEM_E_NOT_AVAILABLE",
  0x8004100c: "WBEM_E_NOT_SUPPORTED",
  0x8004100e: "WBEM_E_INVALID_NAMESPACE",
  0x80041010: "WBEM_E_INVALID_CLASS",
  0x80041016: "WBEM_E_INVALID_OPERATION",
  0x80041023: "WBEM_E_READ_ONLY",
  0x8004102b: "WBEM_E_VALUE_OUT_OF_RANGE",
  0x8004102e: "WBEM_E_INVALID_METHOD",
  0x8004102f: "WBEM_E_INVALID_METHOD_PARAMETERS",
};

// ------------------------------------------------------------------------------------------------
// Command table
// ------------------------------------------------------------------------------------------------

interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in help for string options. */
  value?: string;
  help: string;
}

interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: Record<string, string | undefined>;
}

interface Context {
  stateDir: string;
  json: boolean;
  out: (text: string) => void;
}

interface Command {
  /** Words after `rds-sim`, e.g. "fault set". */
  name: string;
  /** The synopsis after `rds-sim <name>` when it is more than the positionals, e.g. "<host> --count <N>". */
  usage?: string;
  /** Positional arguments, in order. */
  positionals: Array<{ name: string; optional?: boolean; help: string }>;
  options: Record<string, OptionSpec>;
  summary: string;
  /** More help text (lines). */
  details?: string[];
  examples?: string[];
  run(ctx: Context, p: Parsed, cmd: Command): Promise<void>;
}

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  "state-dir": {
    type: "string",
    value: "DIR",
    help: "simulator state directory (default: $RDS_SIM_STATE_DIR, else ./.rds-sim)",
  },
  json: { type: "boolean", help: "print machine-readable JSON on stdout" },
  help: { type: "boolean", short: "h", help: "show help" },
};

const HOST_ARG = { name: "host", help: "simulated host name (any string; case-insensitive)" };

const commands: Command[] = [
  {
    name: "hosts",
    positionals: [],
    options: {},
    summary: "list the simulated hosts",
    details: ["One row per host that has state: OS, domain or workgroup, licensing role, activation,", "installed CAL packs (the built-in pack not counted), the effective licensing mode."],
    run: runHosts,
  },
  {
    name: "show",
    positionals: [HOST_ARG],
    options: {},
    summary: "show the whole state of a host",
    details: [
      "License server (role, service, activation, product ID, license server ID, contact), key packs,",
      "issued per-device licenses, session host licensing (mode, license servers, grace period),",
      "deployment settings, Group Policy values and faults. License codes and agreement numbers are",
      "never shown: like Windows, the emulator does not keep them.",
    ],
    run: runShow,
  },
  {
    name: "clearinghouse license-server-id",
    usage: "(<productId> | --host <HOST>)",
    positionals: [{ name: "productId", optional: true, help: "the license server's product ID (or use --host)" }],
    options: { host: { type: "string", value: "HOST", help: "use this host's product ID" } },
    summary: "get the license server ID for web or telephone activation",
    details: [
      "Stands in for the Remote Desktop Licensing web site and the telephone operator: give the",
      "product ID of the license server, get the 35-character license server ID that ActivateServer",
      "(and the provider's web/telephone activation) accepts. Prints the bare ID (no hyphens).",
    ],
    examples: ["rds-sim clearinghouse license-server-id --host ls01", "rds-sim clearinghouse license-server-id 00490-92005-99454-AT527"],
    run: runLicenseServerId,
  },
  {
    name: "clearinghouse confirmation-code",
    usage: "(<productId> | --host <HOST>)",
    positionals: [{ name: "productId", optional: true, help: "the license server's product ID (or use --host)" }],
    options: { host: { type: "string", value: "HOST", help: "use this host's product ID" } },
    summary: "get the confirmation code for telephone deactivation",
    details: ["Stands in for the telephone operator: the code DeactivateServer accepts for this product ID."],
    run: runConfirmationCode,
  },
  {
    name: "clearinghouse key-pack-id",
    usage: "(--host <HOST> | --product-id <ID>) --program <PROGRAM> --version <VERSION> --cal-type <TYPE> --quantity <N>",
    positionals: [],
    options: {
      host: { type: "string", value: "HOST", help: "the license server the CALs are for (its product ID is used)" },
      "product-id": { type: "string", value: "ID", help: "the license server's product ID, instead of --host" },
      program: { type: "string", value: "PROGRAM", help: `license program: ${PROGRAMS.join("|")}` },
      version: { type: "string", value: "VERSION", help: `CAL version: ${OS_VERSIONS.join("|")}` },
      "cal-type": { type: "string", value: "TYPE", help: `CAL type: ${CAL_TYPES.join("|")}` },
      quantity: { type: "string", value: "N", help: "number of CALs (1..4294967294)" },
    },
    summary: "get a license key pack ID for an offline (web/telephone) CAL install",
    details: [
      "Stands in for the web site and the telephone operator for CAL installs: returns a new",
      "35-character license key pack ID that InstallLicenseKeyPack accepts once, on the license",
      "server with that product ID (which must be activated when the ID is used).",
    ],
    examples: ["rds-sim clearinghouse key-pack-id --host ls01 --program select --version 2022 --cal-type perUser --quantity 50"],
    run: runKeyPackId,
  },
  {
    name: "clearinghouse retail-code",
    usage: "--version <VERSION> --cal-type <TYPE> --quantity <N>",
    positionals: [],
    options: {
      version: { type: "string", value: "VERSION", help: `CAL version: ${OS_VERSIONS.join("|")}` },
      "cal-type": { type: "string", value: "TYPE", help: `CAL type: ${CAL_TYPES.join("|")}` },
      quantity: { type: "string", value: "N", help: "number of CALs (1..100)" },
    },
    summary: "make up a fresh retail license code (a \"License Pack (Retail Purchase)\")",
    details: [
      "Prints a new 25-character retail license code whose terms are the ones asked for. Any",
      "well-formed code installs once (InstallRetailPurchaseLicenseKeyPack); this one is simply",
      "guaranteed to carry these terms.",
    ],
    run: runRetailCode,
  },
  {
    name: "host set",
    usage: "<host> [--os <VERSION>] [--domain <FQDN> | --workgroup] [--broker | --no-broker] [--role-installed | --no-role-installed] [...]",
    positionals: [HOST_ARG],
    options: {
      os: { type: "string", value: "VERSION", help: `Windows Server version: ${OS_VERSIONS.join("|")}` },
      domain: { type: "string", value: "FQDN", help: "join this domain" },
      workgroup: { type: "boolean", help: "leave the domain (workgroup member)" },
      "workgroup-name": { type: "string", value: "NAME", help: "workgroup name (implies --workgroup)" },
      broker: { type: "boolean", help: "make it an RD Connection Broker" },
      "no-broker": { type: "boolean", help: "not an RD Connection Broker" },
      "role-installed": { type: "boolean", help: "install the RDS-Licensing role (service running)" },
      "no-role-installed": { type: "boolean", help: "remove the RDS-Licensing role" },
      service: { type: "string", value: "STATE", help: `TermServLicensing service: ${SERVICE_STATES.join("|")}` },
      "product-id": { type: "string", value: "ID", help: "license server product ID ('' = derived from the host name); a new one deactivates (a rebuilt server)" },
      "grace-days": { type: "string", value: "N", help: "RDSH grace period days left (0..120)" },
      "grace-start": { type: "string", value: "DATE", help: "RDSH grace period start (ISO 8601)" },
    },
    summary: "set host facts (creates the host if needed)",
    examples: ["rds-sim host set ls01 --os 2019 --domain contoso.com --role-installed", "rds-sim host set rdsh01 --workgroup --grace-days 3"],
    run: runHostSet,
  },
  {
    name: "issue",
    usage: "<host> --key-pack <ID> --count <N> [--computer <NAME>]",
    positionals: [HOST_ARG],
    options: {
      "key-pack": { type: "string", value: "ID", help: "KeyPackId of an installed pack" },
      count: { type: "string", value: "N", help: "number of licenses to issue (1..100000)" },
      computer: { type: "string", value: "NAME", help: "client computer name (NAME-1, NAME-2... when --count > 1)" },
    },
    summary: "issue licenses from a key pack to fake clients",
    details: [
      "Per-device packs get Win32_TSIssuedLicense rows (status active); per-user packs only count",
      "(per-user CALs are tracked in Active Directory). Fails if the pack has too few available.",
    ],
    examples: ["rds-sim issue ls01 --key-pack 3 --count 5 --computer PC"],
    run: runIssue,
  },
  {
    name: "fault set",
    positionals: [HOST_ARG, { name: "fault", help: FAULTS.join("|") }, { name: "value", optional: true, help: "depends on the fault, see the list above" }],
    options: {},
    summary: "switch a fault on (creates the host if needed)",
    details: [
      "clearinghouseUnreachable [true|false]  automatic activation and online CAL installs fail (WBEM_E_NOT_AVAILABLE)",
      "accessDenied [true|false]              every licensing call fails (WBEM_E_ACCESS_DENIED)",
      "providerFailure [true|false]           licensing method calls fail (WBEM_E_PROVIDER_FAILURE)",
      "activationStatusUnknown [true|false]   GetActivationStatus reports 2 (unknown)",
      "latencyMs <ms>                         every emulated call takes this long (0..600000)",
      "classNotReadyCalls <n>                 the next n licensing calls fail as if the class were not registered yet",
      "failureStyle return|exception          WMI errors as a nonzero ReturnValue, or as an exception",
      "Boolean faults default to true when no value is given.",
    ],
    examples: ["rds-sim fault set ls01 clearinghouseUnreachable", "rds-sim fault set ls01 latencyMs 250"],
    run: runFaultSet,
  },
  {
    name: "fault clear",
    positionals: [HOST_ARG, { name: "fault", optional: true, help: `${FAULTS.join("|")}; all faults and the Group Policy values when omitted` }],
    options: {},
    summary: "clear one fault, or all faults and Group Policy values",
    run: runFaultClear,
  },
  {
    name: "gpo set",
    usage: "<host> [--mode <MODE>] [--license-servers <LIST>]",
    positionals: [HOST_ARG],
    options: {
      mode: { type: "string", value: "MODE", help: `LicensingMode policy: ${Object.keys(GPO_MODES).join("|")}` },
      "license-servers": { type: "string", value: "LIST", help: "LicenseServers policy: comma-separated server names" },
    },
    summary: "set Group Policy licensing values (they override WMI; creates the host if needed)",
    examples: ["rds-sim gpo set rdsh01 --mode perUser --license-servers ls01.contoso.com,ls02.contoso.com"],
    run: runGpoSet,
  },
  {
    name: "gpo clear",
    usage: "<host> [--mode] [--license-servers]",
    positionals: [HOST_ARG],
    options: {
      mode: { type: "boolean", help: "remove only the LicensingMode policy" },
      "license-servers": { type: "boolean", help: "remove only the LicenseServers policy" },
    },
    summary: "remove Group Policy licensing values (both unless one is named)",
    run: runGpoClear,
  },
  {
    name: "reset",
    positionals: [{ name: "host", optional: true, help: "forget only this host; without it, every host and the Clearinghouse" }],
    options: {},
    summary: "forget a host, or the whole simulator",
    run: runReset,
  },
  {
    name: "log",
    usage: "<host> [--last <N>]",
    positionals: [HOST_ARG],
    options: { last: { type: "string", value: "N", help: "show only the last N calls" } },
    summary: "show the emulated calls made on a host (never argument values)",
    run: runLog,
  },
];

const GROUPS: Record<string, string> = {
  clearinghouse: "play Microsoft's Clearinghouse (web site / telephone)",
  host: "configure simulated hosts",
  fault: "inject faults",
  gpo: "simulate Group Policy licensing values",
};

function topWords(): string[] {
  const seen: string[] = [];
  for (const c of commands) {
    const w = c.name.split(" ")[0]!;
    if (!seen.includes(w)) seen.push(w);
  }
  return [...seen, "help"];
}

function subcommandsOf(group: string): Command[] {
  return commands.filter((c) => c.name.startsWith(group + " "));
}

// ------------------------------------------------------------------------------------------------
// Help
// ------------------------------------------------------------------------------------------------

function synopsis(cmd: Command): string {
  if (cmd.usage !== undefined) return `rds-sim ${cmd.name} ${cmd.usage}`;
  const parts = [`rds-sim ${cmd.name}`];
  for (const p of cmd.positionals) parts.push(p.optional ? `[<${p.name}>]` : `<${p.name}>`);
  if (Object.keys(cmd.options).length > 0) parts.push("[options]");
  return parts.join(" ");
}

function optionLines(opts: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(opts).map(([name, o]) => {
    const flag = (o.short ? `-${o.short}, ` : "    ") + `--${name}` + (o.type === "string" ? ` <${o.value ?? "VALUE"}>` : "");
    return [flag, o.help] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`);
}

function commandHelp(cmd: Command): string {
  const lines = [`usage: ${synopsis(cmd)}`, "", `${cmd.summary[0]!.toUpperCase()}${cmd.summary.slice(1)}.`];
  if (cmd.details) lines.push("", ...cmd.details.map((l) => `  ${l}`));
  if (cmd.positionals.length > 0) {
    lines.push("", "Arguments:");
    const width = Math.max(...cmd.positionals.map((p) => p.name.length + 2));
    for (const p of cmd.positionals) lines.push(`  ${`<${p.name}>`.padEnd(width)}  ${p.help}`);
  }
  if (Object.keys(cmd.options).length > 0) lines.push("", "Options:", ...optionLines(cmd.options));
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  if (cmd.examples) lines.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}

function groupHelp(group: string): string {
  const subs = subcommandsOf(group);
  const width = Math.max(...subs.map((c) => c.name.length));
  return [
    `usage: rds-sim ${group} <${subs.map((c) => c.name.split(" ")[1]).join("|")}> ...`,
    "",
    `${GROUPS[group]![0]!.toUpperCase()}${GROUPS[group]!.slice(1)}.`,
    "",
    "Commands:",
    ...subs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    `Run 'rds-sim ${group} <command> --help' for a command's options.`,
  ].join("\n") + "\n";
}

function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    "usage: rds-sim [--state-dir DIR] [--json] <command> [arguments]",
    "",
    "Inspect and drive the RD Licensing simulator (the emulated Windows hosts behind the",
    "`simulator` transport of pulumi-rds-licensing).",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help [<command>]".padEnd(width)}  show help for a command`,
    "",
    "Global options (accepted anywhere):",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    "Exit codes: 0 success, 1 the simulator reported an error, 2 bad arguments.",
    "Environment: RDS_SIM_STATE_DIR (state directory), RDS_PWSH (the pwsh to run).",
    "Run 'rds-sim <command> --help' for a command's arguments and options.",
  ].join("\n") + "\n";
}

// ------------------------------------------------------------------------------------------------
// Argument parsing
// ------------------------------------------------------------------------------------------------

interface Resolved {
  command?: Command;
  group?: string;
  /** argv without the command words. */
  rest: string[];
  help: boolean;
}

function resolveCommand(argv: string[]): Resolved {
  const words: string[] = [];
  const rest: string[] = [];
  let help = false;
  let wanted = 1;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (token.startsWith("-") && token !== "-") {
      if (token === "-h" || token === "--help") help = true;
      rest.push(token);
      // A global option's value must not be taken for a command word.
      if (words.length < wanted && token === "--state-dir" && i + 1 < argv.length) rest.push(argv[++i]!);
      continue;
    }
    if (words.length < wanted) {
      words.push(token);
      if (words.length === 1 && token in GROUPS) wanted = 2;
      // `rds-sim help [<command> [<sub>]]`
      if (words.length === 1 && token === "help") wanted = 2;
      if (words.length === 2 && words[0] === "help" && token in GROUPS) wanted = 3;
      continue;
    }
    rest.push(token);
  }

  if (words.length === 0) return { rest, help };
  const [first, second] = words as [string, string | undefined];
  if (first === "help") return { ...resolveHelpTarget(words.slice(1)), rest: [], help: true };
  if (first in GROUPS) {
    if (second === undefined) {
      if (help) return { group: first, rest, help };
      throw new UsageError(`missing command after '${first}' (accepted: ${subcommandsOf(first).map((c) => c.name.split(" ")[1]).join(", ")})`, undefined, first);
    }
    const cmd = commands.find((c) => c.name === `${first} ${second}`);
    if (!cmd) {
      throw new UsageError(`unknown command '${first} ${second}' (accepted: ${subcommandsOf(first).map((c) => c.name.split(" ")[1]).join(", ")})`, undefined, first);
    }
    return { command: cmd, rest, help };
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) throw new UsageError(`unknown command '${first}' (accepted: ${topWords().join(", ")})`);
  return { command: cmd, rest, help };
}

function resolveHelpTarget(words: string[]): { command?: Command; group?: string } {
  if (words.length === 0) return {};
  const [first, second] = words as [string, string | undefined];
  if (first in GROUPS) {
    if (second === undefined) return { group: first };
    const cmd = commands.find((c) => c.name === `${first} ${second}`);
    if (!cmd) throw new UsageError(`unknown command '${first} ${second}' (accepted: ${subcommandsOf(first).map((c) => c.name.split(" ")[1]).join(", ")})`, undefined, first);
    return { command: cmd };
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) throw new UsageError(`unknown command '${first}' (accepted: ${topWords().join(", ")})`);
  return { command: cmd };
}

function acceptedOptions(cmd: Command): string {
  return Object.keys({ ...cmd.options, ...GLOBAL_OPTIONS }).map((o) => `--${o}`).join(", ");
}

function parseCommandArgs(cmd: Command, rest: string[]): { parsed: Parsed; global: { stateDir?: string; json: boolean } } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...cmd.options, ...GLOBAL_OPTIONS })) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  let result: ReturnType<typeof parseArgs>;
  try {
    result = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(describeParseError(e, cmd), cmd);
  }
  const values = result.values as Record<string, string | boolean | undefined>;
  const positionals: Record<string, string | undefined> = {};
  const given = result.positionals;
  if (given.length > cmd.positionals.length) {
    const extra = given[cmd.positionals.length]!;
    throw new UsageError(`unexpected argument '${printable(extra)}' (${cmd.positionals.length === 0 ? "this command takes no arguments" : `expected: ${cmd.positionals.map((p) => (p.optional ? `[<${p.name}>]` : `<${p.name}>`)).join(" ")}`})`, cmd);
  }
  cmd.positionals.forEach((p, i) => {
    const v = given[i];
    if (v === undefined && !p.optional) throw new UsageError(`missing argument <${p.name}> (${p.help})`, cmd);
    positionals[p.name] = v;
  });
  const stateDir = values["state-dir"];
  if (stateDir !== undefined && (stateDir as string).trim() === "") throw new UsageError("--state-dir needs a directory path", cmd);
  return {
    parsed: { values, positionals },
    global: { stateDir: stateDir as string | undefined, json: values.json === true },
  };
}

function describeParseError(e: unknown, cmd: Command): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  const name = /'(-[^' ]*)/.exec(msg)?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${name ? printable(name) : "?"}' (accepted: ${acceptedOptions(cmd)})`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const flag = name ?? "?";
      const key = flag.replace(/^-+/, "");
      const spec = { ...cmd.options, ...GLOBAL_OPTIONS }[key];
      if (/does not take an argument/.test(msg)) return `option ${flag} takes no value`;
      return `option ${flag} needs a value${spec?.value ? ` <${spec.value}>` : ""}${spec ? `: ${spec.help}` : ""}`;
    }
    default:
      return msg.split("\n")[0]!;
  }
}

// ------------------------------------------------------------------------------------------------
// Value validation (exit 2 with the argument named and the accepted values)
// ------------------------------------------------------------------------------------------------

function req(p: Parsed, option: string, cmd: Command): string {
  const v = p.values[option];
  if (v === undefined) {
    const spec = cmd.options[option];
    throw new UsageError(`missing option --${option}${spec?.value ? ` <${spec.value}>` : ""}${spec ? ` (${spec.help})` : ""}`, cmd);
  }
  return v as string;
}

function oneOf<T extends string>(label: string, value: string, accepted: readonly T[], cmd: Command): T {
  const hit = accepted.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!hit) throw new UsageError(`${label} must be one of ${accepted.join(", ")} (got '${printable(value)}')`, cmd);
  return hit;
}

function wholeNumber(label: string, value: string, min: number, max: number, cmd: Command): number {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min || Number(trimmed) > max) {
    throw new UsageError(`${label} must be a whole number from ${min} to ${max} (got '${printable(value)}')`, cmd);
  }
  return Number(trimmed);
}

function boolValue(label: string, value: string, cmd: Command): boolean {
  const v = value.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  throw new UsageError(`${label} must be true or false (also accepted: yes/no, on/off, 1/0; got '${printable(value)}')`, cmd);
}

function hostArg(p: Parsed, cmd: Command, name = "host"): string {
  const h = p.positionals[name] ?? (p.values[name] as string | undefined);
  if (h === undefined) throw new UsageError(`missing argument <${name}>`, cmd);
  if (h.trim() === "") throw new UsageError(`<${name}> must not be empty`, cmd);
  if (Buffer.byteLength(h, "utf8") > 100) throw new UsageError(`<${name}> must be at most 100 bytes of UTF-8`, cmd);
  return h;
}

/** The product ID for clearinghouse commands: a positional or --product-id, or --host (exactly one). */
function productSource(p: Parsed, cmd: Command): { host?: string; productId?: string } {
  const positional = p.positionals.productId;
  const flag = p.values["product-id"] as string | undefined;
  const host = p.values.host as string | undefined;
  const ids = [positional, flag].filter((v) => v !== undefined);
  if (ids.length > 1) throw new UsageError("give the product ID once (as an argument or with --product-id)", cmd);
  const productId = ids[0];
  if (productId !== undefined && host !== undefined) throw new UsageError("give either a product ID or --host, not both", cmd);
  if (productId === undefined && host === undefined) {
    throw new UsageError(`missing product ID: give ${"productId" in p.positionals ? "<productId>" : "--product-id <ID>"} or --host <HOST>`, cmd);
  }
  if (host !== undefined) return { host: hostArg({ values: { host }, positionals: {} }, cmd) };
  if (productId!.trim() === "") throw new UsageError("the product ID must not be empty", cmd);
  return { productId: productId! };
}

// ------------------------------------------------------------------------------------------------
// pwsh
// ------------------------------------------------------------------------------------------------

/** The runner's lookup (executable.ts): env RDS_PWSH, else pwsh on PATH, else ~/.dotnet/tools/pwsh. */
export function findPwsh(env: NodeJS.ProcessEnv = process.env): string {
  const found = findRunnerPwsh(env);
  if (found.found) return found.path;
  throw new CliError(`${found.reason}; ${PWSH_INSTALL_HINT}`);
}

const MARKER = "@@rds-sim@@";

interface DriverError {
  message: string;
  type?: string;
  code?: string;
}

/** Runs one driver action in a fresh pwsh; resolves to its result, or throws CliError. */
async function callEmulator<T = any>(ctx: Context, action: string, args: Record<string, unknown>): Promise<T> {
  const pwsh = findPwsh();
  const request = Buffer.from(JSON.stringify({ stateDir: ctx.stateDir, action, args }), "utf8").toString("base64");
  const child = spawn(
    pwsh,
    ["-NoLogo", "-NoProfile", "-NonInteractive", "-File", providerFile("emulator/cli-driver.ps1"), "-ModulePath", providerFile("emulator/RdsEmulator.psm1")],
    { stdio: ["pipe", "pipe", "pipe"], windowsHide: true },
  );
  // Ctrl-C / kill of the CLI ends its pwsh too (never leave one running).
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);

  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (d: Buffer) => stdout.push(d));
  child.stderr.on("data", (d: Buffer) => stderr.push(d));
  child.stdin.on("error", () => undefined); // pwsh died early; reported below
  child.stdin.end(request);

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  process.removeListener("SIGINT", onInt);
  process.removeListener("SIGTERM", onTerm);

  if (exit.error) {
    const e = exit.error as NodeJS.ErrnoException;
    if (e.code === "ENOENT") throw new CliError(`pwsh could not be started (${pwsh} not found); ${PWSH_INSTALL_HINT}`);
    throw new CliError(`pwsh could not be started (${pwsh}): ${e.message}`);
  }
  const out = Buffer.concat(stdout).toString("utf8");
  const line = out
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith(MARKER));
  if (line === undefined) {
    const err = Buffer.concat(stderr).toString("utf8").trim();
    const tail = err.split(/\r?\n/).slice(-5).join(" | ");
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    throw new CliError(`the emulator gave no answer (pwsh ${how})${tail ? `: ${tail}` : ""}`);
  }
  let doc: { ok: boolean; result?: T; error?: DriverError };
  try {
    doc = JSON.parse(line.slice(MARKER.length));
  } catch {
    throw new CliError("the emulator's answer was not valid JSON");
  }
  if (!doc.ok) throw new CliError(doc.error?.message ?? "the emulator reported an unknown error");
  return doc.result as T;
}

// ------------------------------------------------------------------------------------------------
// Output helpers
// ------------------------------------------------------------------------------------------------

/** Shows control characters (and only those) escaped, so a hostile name cannot drive the terminal. */
function printable(s: unknown): string {
  if (s === null || s === undefined) return "";
  return String(s).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const map: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return map[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

function table(headers: string[], rows: string[][]): string[] {
  const cells = rows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [fmt(headers), ...cells.map(fmt)];
}

function kv(pairs: Array<[string, string]>, indent = "  "): string[] {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${indent}${`${k}:`.padEnd(width)} ${v}`);
}

function modeName(n: number | null | undefined): string {
  if (n === null || n === undefined) return "not set";
  return `${LICENSING_TYPES[n] ?? "unknown"} (${n})`;
}

function wbem(code: number): string {
  if (code === 0) return "0";
  return `0x${code.toString(16).toUpperCase().padStart(8, "0")} ${WBEM_NAMES[code] ?? ""}`.trimEnd();
}

function day(iso: string | null | undefined): string {
  if (!iso) return "-";
  return iso.slice(0, 10);
}

function moment(iso: string | null | undefined): string {
  if (!iso) return "-";
  return iso.replace("T", " ").replace(/\.\d+/, "").replace(/Z$/, "Z");
}

function yesNo(b: boolean): string {
  return b ? "yes" : "no";
}

function emit(ctx: Context, json: unknown, human: () => string[]): void {
  if (ctx.json) ctx.out(JSON.stringify(json, null, 2) + "\n");
  else ctx.out(human().join("\n") + "\n");
}

// ------------------------------------------------------------------------------------------------
// Commands
// ------------------------------------------------------------------------------------------------

interface HostRow {
  hostName: string;
  osVersion: string;
  partOfDomain: boolean;
  roleInstalled: boolean;
  isConnectionBroker: boolean;
  activated: boolean;
  productId: string;
  keyPacks: number;
  licensingType: number;
  stateFile: string;
}

async function runHosts(ctx: Context): Promise<void> {
  const rows = await callEmulator<HostRow[]>(ctx, "hosts", {});
  emit(ctx, rows, () => {
    if (rows.length === 0) return [`no simulated hosts in ${ctx.stateDir}`];
    return table(
      ["HOST", "OS", "JOINED", "LICENSING ROLE", "ACTIVATED", "PACKS", "MODE", "BROKER"],
      rows.map((r) => [
        r.hostName,
        r.osVersion,
        r.partOfDomain ? "domain" : "workgroup",
        r.roleInstalled ? "installed" : "-",
        r.roleInstalled ? yesNo(r.activated) : "-",
        String(r.keyPacks),
        LICENSING_TYPES[r.licensingType] ?? String(r.licensingType),
        r.isConnectionBroker ? "yes" : "-",
      ]),
    );
  });
}

async function runShow(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const h = await callEmulator(ctx, "show", { host: hostArg(p, cmd) });
  emit(ctx, h, () => formatHost(h));
}

function formatHost(h: any): string[] {
  const c = h.config;
  const ls = h.licenseServer;
  const sh = h.sessionHost;
  const lines: string[] = [];
  lines.push(`Host ${printable(h.hostName)} (${printable(h.computerName)})`);
  lines.push(
    ...kv([
      ["OS", `${h.os.caption} (${h.os.version})`],
      ["Joined", c.partOfDomain ? `domain ${printable(c.domain)}` : `workgroup ${printable(c.workgroup)}`],
      ["Connection broker", yesNo(c.isConnectionBroker)],
      ["State file", printable(h.stateFile)],
    ]),
  );

  lines.push("", "License server");
  const contact = ls.contact ?? {};
  const contactText =
    [[contact.FirstName, contact.LastName].filter(Boolean).join(" "), contact.Company, contact.CountryRegion, contact.eMail]
      .filter((v) => v)
      .map(printable)
      .join(", ") || "not set";
  const methods: Record<string, string> = { automatic: "automatic", licenseServerId: "web or telephone, with a license server ID" };
  const activation = ls.activated
    ? `activated${ls.activatedAt ? ` ${moment(ls.activatedAt)}` : ""}${ls.activationMethod ? ` (${methods[ls.activationMethod] ?? printable(ls.activationMethod)})` : ""}`
    : `not activated (ActivationStatus ${ls.activationStatus})`;
  lines.push(
    ...kv([
      ["Role (RDS-Licensing)", h.roleInstalled ? `installed, service ${h.serviceStatus ?? "unknown"}` : "not installed"],
      ["Activation", activation],
      ["Product ID", printable(ls.productId) + (c.productId ? "" : " (derived from the host name)")],
      ["License server ID", ls.licenseServerId ? printable(ls.licenseServerId) : "-"],
      ["Discovery scope", `${SERVER_ROLES[ls.serverRole] ?? "unknown"} (ServerRole ${ls.serverRole})`],
      ["Reactivations", String(ls.reactivations) + (ls.lastReactivationReason !== null && ls.lastReactivationReason !== undefined ? ` (last reason ${ls.lastReactivationReason})` : "")],
      ["Contact", contactText],
    ]),
  );
  const extra = ["OrgUnit", "Address", "City", "State", "PostalCode"].filter((f) => contact[f]);
  if (extra.length > 0) lines.push(...kv(extra.map((f) => [`  ${f}`, printable(contact[f])] as [string, string])));

  const packs: any[] = ls.keyPacks ?? [];
  lines.push("", "Key packs");
  lines.push(
    ...table(
      ["ID", "TYPE AND MODEL", "VERSION", "PROGRAM", "TOTAL", "ISSUED", "AVAILABLE", "INSTALLED"],
      packs.map((k) => [
        String(k.KeyPackId),
        k.TypeAndModel,
        k.ProductVersion,
        k.program ?? "-",
        k.KeyPackId === 2 ? "unlimited" : String(k.TotalLicenses),
        String(k.IssuedLicenses),
        k.KeyPackId === 2 ? "unlimited" : String(k.AvailableLicenses),
        k.installMethod ? `${day(k.installedAt)} ${k.installMethod}` : "-",
      ]),
    ).map((l) => `  ${l}`),
  );

  const issued: any[] = ls.issuedLicenses ?? [];
  lines.push("", "Issued per-device licenses");
  if (issued.length === 0) lines.push("  none");
  else
    lines.push(
      ...table(
        ["ID", "PACK", "COMPUTER", "STATUS", "ISSUED", "EXPIRES"],
        issued.map((l) => [
          String(l.LicenseId),
          String(l.KeyPackId),
          l.sIssuedToComputer ?? l.sIssuedToUser ?? "-",
          LICENSE_STATUS[l.LicenseStatus] ?? String(l.LicenseStatus),
          day(l.IssueDate),
          day(l.ExpirationDate),
        ]),
      ).map((l) => `  ${l}`),
    );

  const gpoMode = sh.policySourceLicensingType === 1;
  const gpoServers = sh.policySourceConfiguredLicenseServers === 1;
  const list = (xs: string[]) => (xs.length ? xs.map(printable).join(", ") : "none");
  lines.push("", "Session host");
  lines.push(
    ...kv([
      ["Licensing mode", modeName(sh.effectiveLicensingType) + (gpoMode ? ` from Group Policy (WMI setting: ${modeName(sh.licensingType)})` : "")],
      ["License servers", list(sh.effectiveLicenseServers) + (gpoServers ? ` from Group Policy (WMI setting: ${list(sh.specifiedLicenseServers)})` : "")],
      ["Grace period", `${sh.graceDaysLeft} days left (started ${day(c.gracePeriodStart)})`],
    ]),
  );

  if (c.isConnectionBroker) {
    const d = h.deployment;
    lines.push("", "Deployment (RD Connection Broker)");
    lines.push(
      ...kv([
        ["Mode", `${d.mode} (${d.licensingType})`],
        ["License servers", list(d.licenseServers)],
      ]),
    );
  }

  const g = h.groupPolicy;
  lines.push("", "Group Policy");
  lines.push(
    ...kv([
      ["LicensingMode", g.LicensingMode === null || g.LicensingMode === undefined ? "not set" : modeName(g.LicensingMode)],
      ["LicenseServers", g.LicenseServers === null || g.LicenseServers === undefined ? "not set" : printable(g.LicenseServers)],
    ]),
  );

  lines.push("", "Faults");
  const active = activeFaults(h.faults);
  lines.push(...(active.length ? active.map((f) => `  ${f}`) : ["  none"]));
  return lines;
}

/** Faults that differ from their defaults, as `name value`. */
function activeFaults(f: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name of FAULTS) {
    const v = f[name];
    if (v === undefined) continue;
    const isDefault = name === "failureStyle" ? v === "return" : v === false || v === 0;
    if (!isDefault) out.push(`${name} ${String(v)}`);
  }
  return out;
}

async function runLicenseServerId(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const r = await callEmulator<{ productId: string; licenseServerId: string }>(ctx, "license-server-id", productSource(p, cmd));
  emit(ctx, r, () => [r.licenseServerId]);
}

async function runConfirmationCode(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const r = await callEmulator<{ productId: string; confirmationCode: string }>(ctx, "confirmation-code", productSource(p, cmd));
  emit(ctx, r, () => [r.confirmationCode]);
}

async function runKeyPackId(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const args = {
    ...productSource(p, cmd),
    program: oneOf("--program", req(p, "program", cmd), PROGRAMS, cmd),
    version: oneOf("--version", req(p, "version", cmd), OS_VERSIONS, cmd),
    calType: oneOf("--cal-type", req(p, "cal-type", cmd), CAL_TYPES, cmd),
    quantity: wholeNumber("--quantity", req(p, "quantity", cmd), 1, 4294967294, cmd),
  };
  const r = await callEmulator<{ keyPackId: string }>(ctx, "key-pack-id", args);
  emit(ctx, r, () => [r.keyPackId]);
}

async function runRetailCode(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const args = {
    version: oneOf("--version", req(p, "version", cmd), OS_VERSIONS, cmd),
    calType: oneOf("--cal-type", req(p, "cal-type", cmd), CAL_TYPES, cmd),
    quantity: wholeNumber("--quantity", req(p, "quantity", cmd), 1, 100, cmd),
  };
  const r = await callEmulator<{ licenseCode: string }>(ctx, "retail-code", args);
  emit(ctx, r, () => [r.licenseCode]);
}

async function runHostSet(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const v = p.values;
  const settings: Record<string, unknown> = {};
  const changed: string[] = [];
  const conflict = (a: string, b: string) => {
    if (v[a] !== undefined && v[b] !== undefined) throw new UsageError(`--${a} and --${b} contradict each other; give one`, cmd);
  };
  conflict("domain", "workgroup");
  conflict("domain", "workgroup-name");
  conflict("broker", "no-broker");
  conflict("role-installed", "no-role-installed");
  conflict("no-role-installed", "service");
  conflict("grace-days", "grace-start");

  if (v.os !== undefined) {
    settings.osVersion = oneOf("--os", v.os as string, OS_VERSIONS, cmd);
    changed.push(`os ${settings.osVersion}`);
  }
  if (v.domain !== undefined) {
    const d = (v.domain as string).trim();
    if (d === "") throw new UsageError("--domain needs a domain name (use --workgroup to leave the domain)", cmd);
    settings.domain = d;
    changed.push(`domain ${d}`);
  }
  if (v.workgroup || v["workgroup-name"] !== undefined) {
    settings.domain = "";
    if (v["workgroup-name"] !== undefined) {
      const w = (v["workgroup-name"] as string).trim();
      if (w === "") throw new UsageError("--workgroup-name must not be empty", cmd);
      settings.workgroup = w;
    }
    changed.push(`workgroup${settings.workgroup ? ` ${settings.workgroup}` : ""}`);
  }
  if (v.broker || v["no-broker"]) {
    settings.isConnectionBroker = v.broker === true;
    changed.push(v.broker ? "connection broker" : "not a connection broker");
  }
  if (v["role-installed"] || v["no-role-installed"]) {
    settings.roleInstalled = v["role-installed"] === true;
    changed.push(v["role-installed"] ? "licensing role installed" : "licensing role removed");
  }
  if (v.service !== undefined) {
    const s = oneOf("--service", v.service as string, SERVICE_STATES, cmd);
    settings.serviceStatus = s === "running" ? "Running" : "Stopped";
    changed.push(`service ${s}`);
  }
  if (v["product-id"] !== undefined) {
    const id = (v["product-id"] as string).trim();
    settings.productId = id === "" ? null : id;
    changed.push(id === "" ? "product ID derived from the host name" : `product ID ${id}`);
  }
  if (v["grace-days"] !== undefined) {
    settings.gracePeriodDaysLeft = wholeNumber("--grace-days", v["grace-days"] as string, 0, 120, cmd);
    changed.push(`grace period ${settings.gracePeriodDaysLeft} days left`);
  }
  if (v["grace-start"] !== undefined) {
    const s = (v["grace-start"] as string).trim();
    if (!/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) || Number.isNaN(Date.parse(s))) {
      throw new UsageError(`--grace-start must be an ISO 8601 date such as 2025-01-31 or 2025-01-31T12:00:00Z (got '${printable(s)}')`, cmd);
    }
    settings.gracePeriodStart = s;
    changed.push(`grace period started ${s}`);
  }
  if (Object.keys(settings).length === 0) {
    throw new UsageError(`nothing to set: give at least one of ${Object.keys(cmd.options).map((o) => `--${o}`).join(", ")}`, cmd);
  }
  const h = await callEmulator(ctx, "host-set", { host, settings });
  emit(ctx, h, () => [`${printable(h.hostName)}: ${changed.map(printable).join(", ")}`]);
}

async function runIssue(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const keyPackId = wholeNumber("--key-pack", req(p, "key-pack", cmd), 1, 4294967295, cmd);
  const count = wholeNumber("--count", req(p, "count", cmd), 1, 100000, cmd);
  const computer = p.values.computer as string | undefined;
  if (computer !== undefined && computer.trim() === "") throw new UsageError("--computer must not be empty", cmd);
  const r = await callEmulator(ctx, "issue", { host, keyPackId, count, ...(computer !== undefined ? { computer } : {}) });
  emit(ctx, r, () => {
    const lines = [
      `${printable(host)}: issued ${r.count} license${r.count === 1 ? "" : "s"} from key pack ${r.KeyPackId} (now ${r.IssuedLicenses} issued, ${r.AvailableLicenses} available)`,
    ];
    const licenses: any[] = r.licenses ?? [];
    if (licenses.length > 0) lines.push(...table(["LICENSE", "COMPUTER", "STATUS"], licenses.map((l) => [String(l.LicenseId), l.sIssuedToComputer, LICENSE_STATUS[l.LicenseStatus] ?? String(l.LicenseStatus)])).map((l) => `  ${l}`));
    else lines.push("  per-user pack: counted only (per-user CALs are tracked in Active Directory)");
    return lines;
  });
}

async function runFaultSet(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const fault = oneOf("<fault>", p.positionals.fault!, FAULTS, cmd);
  const raw = p.positionals.value;
  let value: boolean | number | string;
  if ((BOOL_FAULTS as readonly string[]).includes(fault)) value = raw === undefined ? true : boolValue(`the value of ${fault}`, raw, cmd);
  else if (raw === undefined) {
    const what = fault === "failureStyle" ? FAILURE_STYLES.join(" or ") : "a whole number";
    throw new UsageError(`missing argument <value> for ${fault} (${what})`, cmd);
  } else if (fault === "latencyMs") value = wholeNumber("the value of latencyMs", raw, 0, 600000, cmd);
  else if (fault === "classNotReadyCalls") value = wholeNumber("the value of classNotReadyCalls", raw, 0, 1000000, cmd);
  else value = oneOf("the value of failureStyle", raw, FAILURE_STYLES, cmd);
  const r = await callEmulator(ctx, "fault-set", { host, fault, value });
  emit(ctx, r, () => [`${printable(host)}: ${fault} ${String(value)}`, ...summarizeFaults(r)]);
}

function summarizeFaults(view: any): string[] {
  const active = activeFaults(view);
  return [`  active faults: ${active.length ? active.join(", ") : "none"}`];
}

async function runFaultClear(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const fault = p.positionals.fault === undefined ? undefined : oneOf("<fault>", p.positionals.fault, FAULTS, cmd);
  const r = await callEmulator(ctx, "fault-clear", { host, ...(fault ? { fault } : {}) });
  emit(ctx, r, () => [`${printable(host)}: ${fault ? `${fault} cleared` : "all faults and Group Policy values cleared"}`, ...summarizeFaults(r)]);
}

async function runGpoSet(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const args: Record<string, unknown> = { host };
  if (p.values.mode !== undefined) {
    const m = oneOf("--mode", p.values.mode as string, Object.keys(GPO_MODES), cmd);
    args.licensingMode = GPO_MODES[m];
  }
  if (p.values["license-servers"] !== undefined) {
    const raw = p.values["license-servers"] as string;
    const names = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    if (names.length === 0) throw new UsageError("--license-servers needs at least one server name, comma-separated (use 'gpo clear --license-servers' to remove the policy)", cmd);
    args.licenseServers = names.join(",");
  }
  if (!("licensingMode" in args) && !("licenseServers" in args)) {
    throw new UsageError("nothing to set: give --mode and/or --license-servers", cmd);
  }
  const r = await callEmulator(ctx, "gpo-set", args);
  emit(ctx, r, () => [`${printable(host)}: Group Policy`, ...formatPolicy(r)]);
}

function formatPolicy(r: any): string[] {
  return kv([
    ["LicensingMode", r.LicensingMode === null || r.LicensingMode === undefined ? "not set" : modeName(r.LicensingMode)],
    ["LicenseServers", r.LicenseServers === null || r.LicenseServers === undefined ? "not set" : printable(r.LicenseServers)],
  ]);
}

async function runGpoClear(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const both = !p.values.mode && !p.values["license-servers"];
  const r = await callEmulator(ctx, "gpo-clear", { host, mode: both || p.values.mode === true, licenseServers: both || p.values["license-servers"] === true });
  emit(ctx, r, () => [`${printable(host)}: Group Policy`, ...formatPolicy(r)]);
}

async function runReset(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = p.positionals.host === undefined ? undefined : hostArg(p, cmd);
  const r = await callEmulator(ctx, "reset", host === undefined ? {} : { host });
  emit(ctx, r, () => {
    if (host !== undefined) return [r.existed ? `${printable(host)}: reset (state and call log removed)` : `${printable(host)}: had no state; nothing to reset`];
    return [`reset ${r.hostsReset} host${r.hostsReset === 1 ? "" : "s"} and the Clearinghouse in ${printable(ctx.stateDir)}`];
  });
}

async function runLog(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const last = p.values.last === undefined ? undefined : wholeNumber("--last", p.values.last as string, 1, Number.MAX_SAFE_INTEGER, cmd);
  let rows = await callEmulator<any[]>(ctx, "log", { host });
  if (last !== undefined) rows = rows.slice(-last);
  emit(ctx, rows, () => {
    if (rows.length === 0) return [`${printable(host)}: no calls logged`];
    return table(
      ["SEQ", "TIME (UTC)", "PID", "CMDLET", "CLASS", "METHOD", "RESULT"],
      rows.map((r) => [
        String(r.seq),
        moment(r.at),
        String(r.pid),
        r.cmdlet ?? "-",
        r.className ?? "-",
        (r.method ?? "-") + (Array.isArray(r.properties) && r.properties.length ? ` (${r.properties.join(", ")})` : ""),
        typeof r.result === "number" ? wbem(r.result) : String(r.result ?? "-"),
      ]),
    );
  });
}

// ------------------------------------------------------------------------------------------------
// Main
// ------------------------------------------------------------------------------------------------

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
};

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let resolved: Resolved | undefined;
  try {
    resolved = resolveCommand(argv);
    if (resolved.help) {
      io.stdout(resolved.command ? commandHelp(resolved.command) : resolved.group ? groupHelp(resolved.group) : globalHelp());
      return EXIT_OK;
    }
    if (!resolved.command) {
      // Global options alone (e.g. `rds-sim --json`) still need a command.
      const stray = resolved.rest.find((t) => t.startsWith("-") && !["--json", "--state-dir"].includes(t.split("=")[0]!));
      throw new UsageError(stray ? `unknown option '${printable(stray)}' (accepted before a command: --state-dir, --json, --help)` : `missing command (accepted: ${topWords().join(", ")})`);
    }
    const cmd = resolved.command;
    const { parsed, global } = parseCommandArgs(cmd, resolved.rest);
    const stateDir = path.resolve(io.cwd, global.stateDir ?? (io.env.RDS_SIM_STATE_DIR || path.join(io.cwd, ".rds-sim")));
    const ctx: Context = { stateDir, json: global.json, out: io.stdout };
    await cmd.run(ctx, parsed, cmd);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) {
      const where = e.command ? `rds-sim ${e.command.name}` : e.group ? `rds-sim ${e.group}` : "rds-sim";
      const hint = e.command
        ? `usage: ${synopsis(e.command)}  (see 'rds-sim ${e.command.name} --help')`
        : e.group
          ? `usage: rds-sim ${e.group} <${subcommandsOf(e.group).map((c) => c.name.split(" ")[1]).join("|")}> ...  (see 'rds-sim ${e.group} --help')`
          : "usage: rds-sim [--state-dir DIR] [--json] <command> [arguments]  (see 'rds-sim --help')";
      io.stderr(`${where}: ${e.message}\n${hint}\n`);
      return EXIT_USAGE;
    }
    const name = resolved?.command ? `rds-sim ${resolved.command.name}` : "rds-sim";
    const message = e instanceof Error ? e.message : String(e);
    io.stderr(`${name}: ${printable(message)}\n`);
    return EXIT_ERROR;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`rds-sim: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exitCode = EXIT_ERROR;
    },
  );
}
