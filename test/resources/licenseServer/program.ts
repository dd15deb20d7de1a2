/**
 * The RdsLicenseServer test program, shared by provider.test.ts (through the real host) and
 * provider.fast.test.ts (in process over the fake world). Not a test file.
 *
 * It registers `new RdsLicenseServer("ls", args)` under mocks (the SDK's real inputs and `__provider`,
 * the connection wrapped as a secret) and holds the declarations and the outputs both files expect.
 */
import { captureProvider } from "../../../engine/capture";
import type { Engine } from "../../../engine/engine";
import { isSecret } from "../../../engine/secrets";
import { specOf, type ResourceSpec } from "../../../engine/spec";
import { DeploymentError } from "../../../engine/state";
import type { SimulatorConnection } from "../../../provider/powershell/transport";
import { RdsLicenseServer, type RdsLicenseServerArgs } from "../../../provider/resources/licenseServer/resource";

export const TYPE = "pulumi-nodejs:dynamic/rds:LicenseServer";

export const LS = "ls.contoso.com";
export const LS2 = "ls2.contoso.com";

export const CONTACT = {
  firstName: "Ada",
  lastName: "Lovelace",
  company: "Contoso Ltd",
  countryRegion: "United Kingdom",
  email: "ada@contoso.example",
};
/** The contact as the server reports it back: every field, the undeclared ones empty. */
export const LIVE_CONTACT = { ...CONTACT, orgUnit: "", address: "", city: "", state: "", postalCode: "" };
/** CONTACT in the WMI property names, as an administrator sets it by hand. */
export const WMI_CONTACT = {
  FirstName: "Ada",
  LastName: "Lovelace",
  Company: "Contoso Ltd",
  CountryRegion: "United Kingdom",
  eMail: "ada@contoso.example",
};

/** The connection, declarations and registration of one emulator state directory. */
export function programFor(stateDir: string) {
  function conn(hostName = LS): SimulatorConnection {
    return { transport: "simulator", host: hostName, stateDir };
  }

  function args(over: Partial<RdsLicenseServerArgs> = {}): RdsLicenseServerArgs {
    return { connection: conn(), contact: CONTACT, activation: { method: "automatic" }, ...over };
  }

  /** The program `new RdsLicenseServer("ls", args)`, as the SDK registers it. */
  async function program(a: RdsLicenseServerArgs): Promise<ResourceSpec> {
    const reg = await captureProvider(() => new RdsLicenseServer("ls", a));
    expect(reg.type).toBe(TYPE);
    return specOf(reg, { additionalSecretOutputs: ["connection"] });
  }

  return { conn, args, program };
}

/** What a fresh automatic activation of LS reports (productId, licenseServerId: the host's own). */
export function activatedOutputs(stateDir: string, productId: string, licenseServerId: string) {
  return {
    serverName: LS,
    productId,
    licenseServerId,
    activationStatus: "activated",
    activationMethod: "automatic",
    activatedProductId: productId,
    nextStep: "",
    version: "10.0.20348",
    contact: LIVE_CONTACT,
    activation: { method: "automatic" },
    installRole: true,
    deactivateOnDelete: false,
    connection: { transport: "simulator", host: LS, stateDir },
  };
}

/** The deployment error of a run that must fail. */
export async function expectFailure(promise: Promise<unknown>): Promise<DeploymentError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof DeploymentError) return e;
    throw e;
  }
  throw new Error("expected the deployment to fail");
}

/**
 * A create stopped by an unreachable Clearinghouse: a partial success. The message has the code, the
 * ways out (web, telephone) and what was done; nothing of the connection. The engine keeps the
 * resource (one init error) with what is live, its connection secret.
 */
export function expectUnreachablePartial(engine: Engine, urn: string, err: DeploymentError, stateDir: string): void {
  expect(err.kind).toBe("initFailed");
  expect(err.message).toContain("[RDS_CLEARINGHOUSE_UNREACHABLE]");
  expect(err.message).toContain('"web"');
  expect(err.message).toContain('"telephone"');
  expect(err.message).toContain("already done: installed the RDS-Licensing role");
  expect(err.message).not.toContain(stateDir);
  const entry = engine.entry(urn);
  expect(entry.id).toBe(LS);
  expect(entry.initErrors?.length).toBe(1);
  expect(engine.outputs(urn)).toMatchObject({ activationStatus: "notActivated", contact: LIVE_CONTACT });
  expect(isSecret(entry.outputs.connection)).toBe(true);
}

/** The product id a nextStep or an error message names. */
export function productIdIn(text: string): string {
  const m = /product id (\d{5}-\d{5}-\d{5}-[A-Z]{2}\d{3})/.exec(text);
  if (!m) throw new Error(`no product id in: ${text}`);
  return m[1];
}

/** A license server id as an admin would paste it: 7 groups of 5, lower case. */
export function pasted(id: string): string {
  return id.toLowerCase().match(/.{5}/g)!.join("-");
}

/** The assertions on a pending (web or telephone) activation's nextStep, for `productId`. */
export function expectPendingNextStep(next: string, method: "web" | "telephone", productId: string): void {
  expect(productIdIn(next)).toBe(productId);
  expect(next).toContain(`npx rds-sim clearinghouse license-server-id ${productId}`);
  expect(next).toContain("activation.licenseServerId");
  expect(next).toContain("pulumi up again");
  if (method === "web") expect(next).toContain("https://activate.microsoft.com");
  else expect(next).toMatch(/telephone number .* country\/region \(United Kingdom\)/);
}
