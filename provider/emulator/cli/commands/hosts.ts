/** `rds-sim hosts` and `rds-sim show`: list the hosts, show one host's whole state. */
import type { Command, Context, Parsed } from "../command";
import { HOST_ARG } from "../command";
import { callEmulator, type EmulatorView } from "../driver";
import { activeFaults, day, emit, kv, modeName, moment, printable, table, yesNo } from "../format";
import { hostArg } from "../validate";
import { LICENSE_STATUS, LICENSING_TYPES, SERVER_ROLES } from "../values";

export const hostsCommand: Command = {
  name: "hosts",
  positionals: [],
  options: {},
  summary: "list the simulated hosts",
  details: [
    "One row per host that has state: OS, domain or workgroup, licensing role, activation,",
    "installed CAL packs (the built-in pack not counted), the effective licensing mode.",
  ],
  run: runHosts,
};

export const showCommand: Command = {
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
};

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

function formatHost(h: EmulatorView): string[] {
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
      [
        "Reactivations",
        String(ls.reactivations) +
          (ls.lastReactivationReason !== null && ls.lastReactivationReason !== undefined
            ? ` (last reason ${ls.lastReactivationReason})`
            : ""),
      ],
      ["Contact", contactText],
    ]),
  );
  const extra = ["OrgUnit", "Address", "City", "State", "PostalCode"].filter((f) => contact[f]);
  if (extra.length > 0) lines.push(...kv(extra.map((f) => [`  ${f}`, printable(contact[f])] as [string, string])));

  const packs: EmulatorView[] = ls.keyPacks ?? [];
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

  const issued: EmulatorView[] = ls.issuedLicenses ?? [];
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
      [
        "Licensing mode",
        modeName(sh.effectiveLicensingType) + (gpoMode ? ` from Group Policy (WMI setting: ${modeName(sh.licensingType)})` : ""),
      ],
      [
        "License servers",
        list(sh.effectiveLicenseServers) + (gpoServers ? ` from Group Policy (WMI setting: ${list(sh.specifiedLicenseServers)})` : ""),
      ],
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
