/**
 * Bring a farm that already exists under Pulumi, then watch it for drift.
 *
 * Dynamic resources cannot be imported (`pulumi import` does not work for them, pulumi/pulumi#3550),
 * so this program adopts instead:
 * - the license server: RdsLicenseServer's create adopts an already activated server as the desired
 *   state (no activation call; `activationMethod` reads "external");
 * - the CAL packs: explicitly, by KeyPackId (`adoptKeyPackId`), never by guessing: nothing is installed;
 * - the session hosts: RdsSessionHostLicensing's create reads first and sets only what differs, so
 *   hosts already in the declared mode and list are left untouched.
 *
 * Then `pulumi refresh` (or `pulumi preview --refresh`) shows what changed behind Pulumi's back: a
 * deactivated server, removed CALs, a mode flipped by hand or by Group Policy. See README.md for a
 * walk-through on the simulator (simulate-existing-farm.ps1 builds the "existing" farm).
 */
import * as pulumi from "@pulumi/pulumi";
import { RdsCalPack, RdsLicenseServer, RdsSessionHostLicensing, type RdsConnectionArgs } from "pulumi-rds-licensing";

/** One existing CAL pack, as RD Licensing Manager shows it, plus its license program. */
interface ExistingPack {
  /** Resource name. */
  name: string;
  /** The pack's KeyPackId (RD Licensing Manager, or `npx rds-sim show <license server>`). */
  keyPackId: number;
  program: "select" | "enterpriseAgreement" | "campus" | "school" | "spla" | "otherAgreement";
  productVersion: "2008R2" | "2012" | "2016" | "2019" | "2022" | "2025";
  calType: "perUser" | "perDevice";
  /** The pack's total CALs. */
  quantity: number;
}

const config = new pulumi.Config();
const domain = config.get("domain") ?? "contoso.com";
const connection = (name: string): RdsConnectionArgs => ({ transport: "simulator", host: `${name}.${domain}` });

/** Defaults: what simulate-existing-farm.ps1 builds. */
const packs = config.getObject<ExistingPack[]>("packs") ?? [
  { name: "users-2019", keyPackId: 3, program: "select", productVersion: "2019", calType: "perUser", quantity: 20 },
  { name: "users-2022", keyPackId: 4, program: "enterpriseAgreement", productVersion: "2022", calType: "perUser", quantity: 40 },
];
/** Agreement number of each pack, by pack name (secret: `pulumi config set --secret --path agreementNumbers.users-2022 ...`). */
const agreementNumbers: pulumi.Output<Record<string, string>> =
  config.getSecretObject<Record<string, string>>("agreementNumbers") ??
  pulumi.secret<Record<string, string>>({ "users-2019": "1234567", "users-2022": "7654321" });
const sessionHostNames = config.getObject<string[]>("sessionHosts") ?? ["sh01", "sh02"];
const mode = config.get("mode") ?? "perUser"; // "perUser" or "perDevice": RdsSessionHostLicensing checks it

const licenseServer = new RdsLicenseServer("ls", {
  connection: connection(config.get("licenseServerName") ?? "ls01"),
  // The contact registered on the server: declare what is there, or the first `up` rewrites it.
  contact: {
    firstName: config.get("contactFirstName") ?? "Ada",
    lastName: config.get("contactLastName") ?? "Lovelace",
    company: config.get("company") ?? "Contoso Ltd",
    countryRegion: config.get("countryRegion") ?? "United Kingdom",
  },
  // Already activated: adopted as is. Should it be deactivated later, `up` reactivates it automatically.
  activation: { method: "automatic" },
  // The server was not created by this stack: never install the role, never deactivate on destroy.
  installRole: false,
  deactivateOnDelete: false,
});

const calPacks = packs.map(
  (pack) =>
    new RdsCalPack(pack.name, {
      licenseServer,
      adoptKeyPackId: pack.keyPackId,
      program: pack.program,
      agreementNumber: agreementNumbers.apply((numbers) => {
        const n = numbers[pack.name];
        if (!n) throw new Error(`no agreement number for pack ${pack.name}: set agreementNumbers.${pack.name}`);
        return n;
      }),
      productVersion: pack.productVersion,
      calType: pack.calType,
      quantity: pack.quantity,
    }),
);

const sessionHosts = sessionHostNames.map(
  (name) =>
    new RdsSessionHostLicensing(name, {
      connection: connection(name),
      mode,
      licenseServers: [licenseServer.serverName],
      calPacks,
    }),
);

export const productId = licenseServer.productId;
/** "external" when the server was activated before this stack (adopted). */
export const activationMethod = licenseServer.activationMethod;
export const activationStatus = licenseServer.activationStatus;
/** Per pack: KeyPackId, total and available CALs, as read from the server (refresh updates them). */
export const packTotals = pulumi.all(
  calPacks.map((p) =>
    pulumi
      .all([p.keyPackId, p.totalLicenses, p.availableLicenses])
      .apply(([keyPackId, total, available]) => ({ keyPackId, total, available })),
  ),
);
/** Per host: the mode in effect and where it comes from ("local" or "groupPolicy"). */
export const sessionHostModes = pulumi.all(
  sessionHosts.map((h) =>
    pulumi.all([h.serverName, h.effectiveMode, h.modeSource]).apply(([host, effective, source]) => ({ host, effective, source })),
  ),
);
