/**
 * Telephone activation in two phases, Per Device CALs.
 *
 * Phase 1 (no `licenseServerId` in the stack config): `pulumi up` prepares the license server and
 * leaves it `pending`; `productId` and `nextStep` say what to read to the Clearinghouse operator (the
 * number to call is the one RD Licensing Manager's Activate Server wizard shows for your country or
 * region). The operator gives you the license server id, and a license key pack id for your CALs.
 * On the simulator, `npx rds-sim clearinghouse ...` plays the operator (README.md).
 *
 * Phase 2 (`pulumi config set --secret licenseServerId ...` and `... licenseKeyPackId ...`): `pulumi up`
 * activates the server, installs the CALs and sets the session hosts to Per Device.
 *
 * Phase 1 is a success: the run exits 0 with the server pending (nothing else is declared yet).
 */
import * as pulumi from "@pulumi/pulumi";
import { RdsCalPack, RdsLicenseServer, RdsSessionHostLicensing, type RdsConnectionArgs } from "pulumi-rds-licensing";

const config = new pulumi.Config();
const domain = config.get("domain") ?? "fabrikam.com";
const connection = (name: string): RdsConnectionArgs => ({ transport: "simulator", host: `${name}.${domain}` });
/** Session host names (default sh01, sh02). */
const sessionHostNames = config.getObject<string[]>("sessionHosts") ?? ["sh01", "sh02"];

const licenseServerId = config.getSecret("licenseServerId");

const licenseServer = new RdsLicenseServer("ls", {
  connection: connection(config.get("licenseServerName") ?? "ls01"),
  contact: {
    firstName: config.get("contactFirstName") ?? "Grace",
    lastName: config.get("contactLastName") ?? "Hopper",
    company: config.get("company") ?? "Fabrikam Inc",
    countryRegion: config.get("countryRegion") ?? "United States",
  },
  activation: { method: "telephone", licenseServerId },
  // Deactivating needs the Clearinghouse; leave the activation in place when the stack is destroyed.
  deactivateOnDelete: false,
});

const calPacks: RdsCalPack[] = [];
const sessionHosts: RdsSessionHostLicensing[] = [];
if (licenseServerId !== undefined) {
  calPacks.push(
    new RdsCalPack("devices-2022", {
      licenseServer,
      program: "keyPackId",
      licenseKeyPackId: config.requireSecret("licenseKeyPackId"),
      productVersion: "2022",
      calType: "perDevice",
    }),
  );
  for (const name of sessionHostNames) {
    sessionHosts.push(
      new RdsSessionHostLicensing(name, {
        connection: connection(name),
        mode: "perDevice",
        licenseServers: [licenseServer.serverName],
        calPacks,
      }),
    );
  }
}

export const productId = licenseServer.productId;
export const activationStatus = licenseServer.activationStatus;
export const nextStep = licenseServer.nextStep;
export const calsAvailable = pulumi.all(calPacks.map((p) => p.availableLicenses)).apply((counts) => counts.reduce((sum, n) => sum + n, 0));
export const sessionHostModes = pulumi.all(sessionHosts.map((h) => h.effectiveMode));
