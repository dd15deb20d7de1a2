/**
 * Quickstart: a whole RDS licensing environment on the embedded simulator, nothing to configure.
 *
 * One RD license server activated automatically with the (simulated) Clearinghouse, two CAL packs
 * bought under two different license programs, and two RD Session Hosts set to Per User and pointed
 * at the license server. The RdsLicensing component wires the order (activate, then install, then
 * point the hosts) and reports Best Practices Analyzer-style findings.
 *
 * The simulator transport runs the provider's real PowerShell scripts in a local pwsh on top of a
 * WMI emulator; each host name is its own emulated Windows Server 2022, domain-joined to the domain
 * of its name, with its state under `.rds-sim/` in the project directory. Inspect it with `npx rds-sim`.
 */
import * as pulumi from "@pulumi/pulumi";
import { RdsLicensing } from "pulumi-rds-licensing";

const config = new pulumi.Config();
/** DNS domain of the simulated hosts (Per User licensing needs domain-joined hosts). Default contoso.com. */
const domain = config.get("domain") ?? "contoso.com";
const simulated = (name: string) => ({ transport: "simulator" as const, host: `${name}.${domain}` });

const farm = new RdsLicensing("quickstart", {
  licenseServer: {
    connection: simulated("ls01"),
    contact: {
      firstName: config.get("contactFirstName") ?? "Ada",
      lastName: config.get("contactLastName") ?? "Lovelace",
      company: config.get("company") ?? "Contoso Ltd",
      countryRegion: config.get("countryRegion") ?? "United Kingdom",
    },
    activation: { method: "automatic" },
    // Per User CALs are tracked in Active Directory only for a license server in the domain's "Terminal
    // Server License Servers" group (RDS-LIC-009); adding it needs Domain Admins (the simulated admin is one).
    addToLicenseServersGroup: true,
  },
  calPacks: [
    {
      // An Enterprise Agreement: the 7-digit agreement number (any 7 digits on the simulator).
      name: "users-ea",
      program: "enterpriseAgreement",
      agreementNumber: config.getSecret("agreementNumber") ?? pulumi.secret("1234567"),
      productVersion: "2022",
      calType: "perUser",
      quantity: 50,
    },
    {
      // An Open License: license number (8 digits) and authorization number (15 letters/digits).
      name: "users-open",
      program: "openLicense",
      licenseNumber: config.getSecret("openLicenseNumber") ?? pulumi.secret("12345678"),
      authorizationNumber: config.getSecret("openAuthorizationNumber") ?? pulumi.secret("ABCDE12345FGHIJ"),
      productVersion: "2022",
      calType: "perUser",
      quantity: 25,
    },
  ],
  mode: "perUser",
  sessionHosts: [
    { name: "sh01", connection: simulated("sh01"), osVersion: "2022", domainJoined: true },
    { name: "sh02", connection: simulated("sh02"), osVersion: "2022", domainJoined: true },
  ],
});

/** The license server's product id (what the Clearinghouse knows it by). */
export const productId = farm.licenseServer.productId;
/** "activated" once the Clearinghouse activated the server. */
export const activationStatus = farm.licenseServer.activationStatus;
/** Per User CALs available to the session hosts, over both packs. */
export const calsAvailable = pulumi
  .all(farm.calPacks.map((pack) => pack.availableLicenses))
  .apply((counts) => counts.reduce((sum, n) => sum + n, 0));
/** RDS-LIC-001 ... RDS-LIC-013: each { id, severity, status: "pass" | "fail", title, fix, detail }. */
export const findings = farm.findings;
