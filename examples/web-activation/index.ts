/**
 * Web activation in two phases, for a license server that cannot reach the Internet itself.
 *
 * Phase 1 (no `licenseServerId` in the stack config): `pulumi up` installs the licensing role, sets
 * the contact and leaves the server `pending`; the outputs give its `productId` and the `nextStep`.
 * On https://activate.microsoft.com (on the simulator: `npx rds-sim clearinghouse ...`, see README.md)
 * you get the license server id for that product id, and a license key pack id for your CALs.
 *
 * Phase 2 (`pulumi config set --secret licenseServerId ...` and `... licenseKeyPackId ...`): `pulumi up`
 * activates the server (ActivateServer), installs the CALs offline (InstallLicenseKeyPack), then points
 * the session hosts at the server in Per User mode. CALs can only be installed on an activated server,
 * so the packs and the hosts are declared in phase 2 only.
 *
 * Phase 1 is a success: the run exits 0 with the server pending (nothing else is declared yet). The
 * RdsLicensing component does the same two phases for you (README.md, "The same through the
 * RdsLicensing component").
 */
import * as pulumi from "@pulumi/pulumi";
import { RdsCalPack, RdsLicenseServer, RdsSessionHostLicensing, type RdsConnectionArgs } from "pulumi-rds-licensing";

const config = new pulumi.Config();
const domain = config.get("domain") ?? "contoso.com";
/** Simulated hosts (state in ./.rds-sim). For real servers, use the winrm/ssh transports. */
const connection = (name: string): RdsConnectionArgs => ({ transport: "simulator", host: `${name}.${domain}` });

/** The 35-character id the Clearinghouse gives for this server's product id (phase 2). */
const licenseServerId = config.getSecret("licenseServerId");

const licenseServer = new RdsLicenseServer("ls", {
  connection: connection(config.get("licenseServerName") ?? "ls01"),
  contact: {
    firstName: config.get("contactFirstName") ?? "Ada",
    lastName: config.get("contactLastName") ?? "Lovelace",
    company: config.get("company") ?? "Contoso Ltd",
    countryRegion: config.get("countryRegion") ?? "United Kingdom",
    email: config.get("contactEmail"),
  },
  activation: { method: "web", licenseServerId },
});

const calPacks: RdsCalPack[] = [];
const sessionHosts: RdsSessionHostLicensing[] = [];
if (licenseServerId !== undefined) {
  // The license key pack id the web site gives for the CALs you bought (35 characters; offline install).
  calPacks.push(
    new RdsCalPack("users-2022", {
      licenseServer,
      program: "keyPackId",
      licenseKeyPackId: config.requireSecret("licenseKeyPackId"),
      productVersion: "2022",
      calType: "perUser",
    }),
  );
  for (const name of ["sh01", "sh02"]) {
    sessionHosts.push(
      new RdsSessionHostLicensing(name, {
        connection: connection(name),
        mode: "perUser",
        licenseServers: [licenseServer.serverName],
        calPacks,
      }),
    );
  }
}

/** Give this to the Clearinghouse (web site or telephone). */
export const productId = licenseServer.productId;
/** "pending" after phase 1, "activated" after phase 2. */
export const activationStatus = licenseServer.activationStatus;
/** What to do next ("" once activated). */
export const nextStep = licenseServer.nextStep;
export const calsAvailable = pulumi.all(calPacks.map((p) => p.availableLicenses)).apply((counts) => counts.reduce((sum, n) => sum + n, 0));
export const sessionHostModes = pulumi.all(sessionHosts.map((h) => h.effectiveMode));
