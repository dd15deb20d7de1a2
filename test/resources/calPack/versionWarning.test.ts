/**
 * The RdsCalPack class warns when an Open or agreement pack declares CAL version 2022 or 2025: the
 * install methods' ProductVersion code for them (7, 8) is in no Microsoft source
 * (docs/windows-facts.md#product-version-input). A warning, not a check failure.
 *
 * Real: the RdsCalPack class and the Pulumi SDK's registration and `pulumi.log.warn`.
 * Stands in: the engine (the SDK's mock monitor, engine/capture.ts); the license server is a plain
 * object with its outputs; no provider method runs (mocks never call it).
 */
import * as pulumi from "@pulumi/pulumi";
import { RdsCalPack, type RdsCalPackArgs } from "../../../provider/resources/calPack/resource";
import { captureRegistrations } from "../../helpers/captureProvider";
import { withWarnings } from "../../helpers/warnings";

const licenseServer = {
  connection: pulumi.output({ transport: "simulator" as const, host: "ls01" }),
  serverName: pulumi.output("LS01"),
  activationMethod: pulumi.output("automatic"),
};

async function warningsOf(args: Omit<RdsCalPackArgs, "licenseServer">): Promise<string[]> {
  const { warnings } = await withWarnings(async () => {
    await captureRegistrations(() => new RdsCalPack("pack", { licenseServer, ...args }));
    // The warning is sent from an apply on the declared values: let it run.
    await new Promise((resolve) => setImmediate(resolve));
  });
  return warnings.filter((w) => w.includes("productVersion"));
}

describe("RdsCalPack warns about an unconfirmed ProductVersion code", () => {
  it("an SPLA pack of 2025 CALs: one warning naming the method, the code and the way out", async () => {
    const warnings = await warningsOf({
      program: "spla",
      agreementNumber: "88637253",
      quantity: 5,
      productVersion: "2025",
      calType: "perUser",
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/productVersion "2025" is sent to InstallAgreementLicenseKeyPack as ProductVersion 8/);
    expect(warnings[0]).toMatch(/adoptKeyPackId/);
    // The agreement number is a secret: never in a warning.
    expect(warnings[0]).not.toContain("88637253");
  });

  it("an Open License pack of 2022 CALs warns; a 2019 agreement pack and a 2025 retail pack do not", async () => {
    const open = await warningsOf({
      program: "openLicense",
      licenseNumber: "12345678",
      authorizationNumber: "A1B2C3D4E5F6G7H",
      quantity: 5,
      productVersion: "2022",
      calType: "perDevice",
    });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatch(/InstallOpenLicenseKeyPack as ProductVersion 7/);
    expect(
      await warningsOf({ program: "select", agreementNumber: "1234567", quantity: 5, productVersion: "2019", calType: "perUser" }),
    ).toEqual([]);
    expect(
      await warningsOf({ program: "retail", licenseCode: "ABCDE12345FGHIJ67890KLMNP", productVersion: "2025", calType: "perUser" }),
    ).toEqual([]);
  });
});
