/** `rds-sim host set`: host facts (OS, domain, broker, role, service, product ID, grace period). */
import type { Command, Context, Parsed } from "../command";
import { HOST_ARG } from "../command";
import { callEmulator } from "../driver";
import { UsageError } from "../errors";
import { emit, printable } from "../format";
import { hostArg, oneOf, wholeNumber } from "../validate";
import { OS_VERSIONS, SERVICE_STATES } from "../values";

/** The groups of the account the simulated scripts run as (host fact callerRights): what ChangeRole checks. */
const CALLER_RIGHTS = ["enterprise-admin", "domain-admin", "local-admin"] as const;

export const hostSetCommand: Command = {
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
    "product-id": {
      type: "string",
      value: "ID",
      help: "license server product ID ('' = derived from the host name); a new one deactivates (a rebuilt server)",
    },
    "grace-days": { type: "string", value: "N", help: "RDSH grace period days left (0..120)" },
    "grace-start": { type: "string", value: "DATE", help: "RDSH grace period start (ISO 8601)" },
    "role-install-seconds": {
      type: "string",
      value: "N",
      help: "how long installing the RDS-Licensing role takes (0..3600; default 0, at once): shows a long install",
    },
    "session-host-role": { type: "boolean", help: "give it the RD Session Host role (RDS-RD-Server; TerminalServerMode 1, the default)" },
    "no-session-host-role": { type: "boolean", help: "remove the RD Session Host role (TerminalServerMode 0, Remote Administration)" },
    "restart-seconds": {
      type: "string",
      value: "N",
      help: "how long Restart-Computer keeps the host unreachable (0..3600; default $RDS_SIM_RESTART_SECONDS, else 2)",
    },
    "caller-rights": {
      type: "string",
      value: "RIGHTS",
      help: `groups of the calling account: ${CALLER_RIGHTS.join("|")} (default enterprise-admin; ChangeRole 1 needs domain-admin, 2 enterprise-admin)`,
    },
  },
  summary: "set host facts (creates the host if needed)",
  examples: ["rds-sim host set ls01 --os 2019 --domain contoso.com --role-installed", "rds-sim host set rdsh01 --workgroup --grace-days 3"],
  run: runHostSet,
};

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
  conflict("session-host-role", "no-session-host-role");

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
      throw new UsageError(
        `--grace-start must be an ISO 8601 date such as 2025-01-31 or 2025-01-31T12:00:00Z (got '${printable(s)}')`,
        cmd,
      );
    }
    settings.gracePeriodStart = s;
    changed.push(`grace period started ${s}`);
  }
  if (v["role-install-seconds"] !== undefined) {
    settings.roleInstallSeconds = wholeNumber("--role-install-seconds", v["role-install-seconds"] as string, 0, 3600, cmd);
    changed.push(`role install takes ${settings.roleInstallSeconds} s`);
  }
  if (v["session-host-role"] || v["no-session-host-role"]) {
    settings.sessionHostRole = v["session-host-role"] === true;
    changed.push(v["session-host-role"] ? "RD Session Host role installed" : "RD Session Host role removed");
  }
  if (v["restart-seconds"] !== undefined) {
    settings.restartSeconds = wholeNumber("--restart-seconds", v["restart-seconds"] as string, 0, 3600, cmd);
    changed.push(`a restart takes ${settings.restartSeconds} s`);
  }
  if (v["caller-rights"] !== undefined) {
    const r = oneOf("--caller-rights", v["caller-rights"] as string, CALLER_RIGHTS, cmd);
    settings.callerRights = r === "enterprise-admin" ? "enterpriseAdmin" : r === "domain-admin" ? "domainAdmin" : "localAdmin";
    changed.push(`calling account ${r}`);
  }
  if (Object.keys(settings).length === 0) {
    throw new UsageError(
      `nothing to set: give at least one of ${Object.keys(cmd.options)
        .map((o) => `--${o}`)
        .join(", ")}`,
      cmd,
    );
  }
  const h = await callEmulator(ctx, "host-set", { host, settings });
  emit(ctx, h, () => [`${printable(h.hostName)}: ${changed.map(printable).join(", ")}`]);
}
