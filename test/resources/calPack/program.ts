/**
 * The RdsCalPack test program, shared by provider.test.ts (through the real host) and
 * provider.fast.test.ts (in process over the fake world). Not a test file.
 *
 * It registers a license server and its packs under mocks (the SDK's real inputs and `__provider`), and
 * wires each pack's license-server inputs to the server's outputs in the engine's state the way the
 * RdsCalPack class does with Pulumi outputs (engine/calPackWiring.ts).
 */
import { captureRegistrations, type Registration } from "../../../engine/capture";
import { calPackInputsFromServer } from "../../../engine/calPackWiring";
import type { Engine } from "../../../engine/engine";
import { specOf, type ResourceSpec } from "../../../engine/spec";
import { DeploymentError } from "../../../engine/state";
import { RdsCalPack, type RdsCalPackArgs } from "../../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";

export const AGREEMENT = "4417302";
export const LICENSE_NUMBER = "8812-7734";
export const AUTHORIZATION = "M3N4B5V6C7X8Z9L";

/** The outputs that must be secret: written out here, not taken from the product, so the tests check it. */
export const SECRET_OUTPUTS = ["connection", "licenseCode", "licenseNumber", "authorizationNumber", "agreementNumber", "licenseKeyPackId"];

export type PackArgs = Omit<RdsCalPackArgs, "licenseServer">;

/** Three packs of three programs on one license server (the full-cycle program of both provider files). */
export function threePacks(retailCode: string): Record<string, PackArgs> {
  return {
    ea: { program: "enterpriseAgreement", agreementNumber: AGREEMENT, productVersion: "2022", calType: "perUser", quantity: 50 },
    open: {
      program: "openLicense",
      licenseNumber: LICENSE_NUMBER,
      authorizationNumber: AUTHORIZATION,
      productVersion: "2019",
      calType: "perDevice",
      quantity: 20,
    },
    box: { program: "retail", licenseCode: retailCode, productVersion: "2022", calType: "perDevice" },
  };
}

export interface Program {
  ls: ResourceSpec;
  packs: Record<string, ResourceSpec>;
}

/** `program(lsHost, packs, company?, method?)` for the simulated hosts of one state directory. */
export function programFor(stateDir: string) {
  return async function program(
    lsHost: string,
    packs: Record<string, PackArgs>,
    company = "Contoso",
    method: "automatic" | "web" = "automatic",
  ): Promise<Program> {
    const regs = await captureRegistrations(() => {
      const ls = new RdsLicenseServer("ls", {
        connection: { transport: "simulator", host: lsHost, stateDir },
        contact: { firstName: "Ada", lastName: "Lovelace", company, countryRegion: "United Kingdom" },
        activation: { method },
      });
      return [ls, ...Object.entries(packs).map(([name, args]) => new RdsCalPack(name, { licenseServer: ls, ...args }))];
    });
    const ls = specOf(
      regs.find((r) => r.name === "ls")!,
      { additionalSecretOutputs: ["connection"] },
    );
    const out: Program = { ls, packs: {} };
    for (const name of Object.keys(packs)) {
      const reg = regs.find((r) => r.name === name) as Registration;
      expect(reg.type).toBe("pulumi-nodejs:dynamic/rds:CalPack");
      expect(reg.inputs.journalKey).toBe(`proj/stack/${name}`);
      out.packs[name] = {
        urn: reg.urn,
        additionalSecretOutputs: SECRET_OUTPUTS,
        inputs: (refs) => calPackInputsFromServer(reg.inputs, refs.outputs(ls.urn)),
      };
    }
    return out;
  };
}

/** The license server, then the packs (all, or the named ones). */
export function specs(p: Program, only?: string[]): ResourceSpec[] {
  return [
    p.ls,
    ...Object.entries(p.packs)
      .filter(([n]) => !only || only.includes(n))
      .map(([, s]) => s),
  ];
}

/** The deployment error of a run that must fail (`seen` gets each one, e.g. for a secrets scan). */
export async function expectFailure(promise: Promise<unknown>, seen?: (err: DeploymentError) => void): Promise<DeploymentError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DeploymentError) {
      seen?.(err);
      return err;
    }
    throw err;
  }
  throw new Error("expected the deployment to fail");
}

export function keyPackIdOf(engine: Engine, p: Program, name: string): number {
  return engine.outputs(p.packs[name].urn).keyPackId as number;
}

/** What the three packs of the scenario report once installed (enterprise agreement, Open License, retail). */
export const THREE_PACK_OUTPUTS = {
  ea: {
    program: "enterpriseAgreement",
    productVersion: "2022",
    calType: "perUser",
    totalLicenses: 50,
    availableLicenses: 50,
    typeAndModel: "RDS Per User CAL",
    keyPackType: 2,
  },
  open: { productVersion: "2019", calType: "perDevice", totalLicenses: 20, keyPackType: 5 },
  box: { productVersion: "2022", calType: "perDevice", totalLicenses: 15, keyPackType: 1 },
} as const;
