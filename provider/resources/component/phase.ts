/**
 * The two phases of a web or telephone activation through RdsLicensing. Pure: the component asks
 * which phase the program declares and words the next step; tests call these directly.
 *
 * Phase 1 is `activation: { method: "web" | "telephone" }` without a `licenseServerId`: the license
 * server can only be created and left pending, and a CAL pack cannot be installed on a server that is
 * not activated (the Best Practices Analyzer rule RdsCalPack enforces). So the component registers the
 * license server only, defers the packs and the hosts (they are not registered, so nothing fails), and
 * says what to do next. Phase 2 is the same declaration with the id: everything is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { activationRoute } from "../licenseServer/rules";

export type PendingMethod = "web" | "telephone";

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Promise) && !pulumi.Output.isInstance(value)
  );
}

/**
 * The method of a phase-1 declaration ("web" or "telephone" with no license server id), else
 * undefined (phase 2, automatic, or not knowable at construction).
 *
 * The graph has to be decided when the component is constructed, so only what the program states
 * plainly counts: `licenseServerId` absent (undefined, null or "", as the resource itself reads it) and
 * `method` a plain "web" or "telephone". An Output id is "declared", whatever it resolves to (a secret
 * from `cfg.requireSecret`); `cfg.getSecret` returns undefined when the key is not set, which is how a
 * program says "not yet". A whole `activation` given as an Output, or an Output `method`, cannot be
 * read at construction: everything is registered, as with the standalone resources.
 */
export function pendingActivationMethod(licenseServer: unknown): PendingMethod | undefined {
  if (!isPlainObject(licenseServer)) return undefined;
  const activation = licenseServer.activation;
  if (!isPlainObject(activation)) return undefined;
  const { method, licenseServerId } = activation;
  if (method !== "web" && method !== "telephone") return undefined;
  return licenseServerId === undefined || licenseServerId === null || licenseServerId === "" ? method : undefined;
}

/** What phase 1 leaves for phase 2: the resource names of the CAL packs and of the session hosts. */
export interface Deferred {
  calPacks: string[];
  sessionHosts: string[];
}

/** The deferred resource names in registration order (packs, then hosts): the component's `deferred` output. */
export function deferredNames(d: Deferred): string[] {
  return [...d.calPacks, ...d.sessionHosts];
}

/** "CAL packs farm-a, farm-b and session hosts farm-sh1, farm-sh2" (the parts that exist). */
export function describeDeferred(d: Deferred): string {
  const part = (one: string, many: string, names: string[]) =>
    names.length === 0 ? "" : `${names.length === 1 ? one : many} ${names.join(", ")}`;
  return (
    [part("CAL pack", "CAL packs", d.calPacks), part("session host", "session hosts", d.sessionHosts)].filter(Boolean).join(" and ") ||
    "nothing"
  );
}

/** Where the id goes, and how a program usually puts it there (a secret in the stack config). */
export function whereTheIdGoes(method: PendingMethod): string {
  return (
    `put it in licenseServer.activation.licenseServerId, for example: pulumi config set --secret licenseServerId <id>, ` +
    `with activation: { method: "${method}", licenseServerId: cfg.getSecret("licenseServerId") } in the program`
  );
}

export interface PendingFacts {
  method: PendingMethod;
  /** The license server's connection transport ("simulator", "local", "ssh", "winrm"). */
  transport: string;
  /** RdsLicenseServer outputs. */
  serverName: string;
  productId: string;
  activationStatus: string;
  /** RdsLicenseServer.nextStep (used when the status cannot be determined). */
  nextStep: string;
  /** The contact's country/region (the telephone route depends on it). */
  countryRegion?: string;
  deferred: Deferred;
}

/**
 * The next step of a phase-1 run: the component's `nextStep` output and the text of its warning. It
 * says what is deferred, how to get the license server id for the product id by the route the
 * transport really has (rds-sim only on the simulator), where to put the id, and what phase 2 does.
 */
export function pendingNextStep(f: PendingFacts): string {
  const waiting = `deferred until the license server is activated (not registered, not failed): ${describeDeferred(f.deferred)}`;
  const phase2 = "then run pulumi up again: phase 2 activates the server, installs the CAL packs, then configures the session hosts";
  if (f.activationStatus === "activated") {
    // Activated outside this declaration (RD Licensing Manager, or an id removed from the program after phase 2).
    return (
      `license server ${f.serverName} is activated, but licenseServer.activation.licenseServerId is not declared, so the component is in phase 1: ${waiting}. ` +
      `Next: declare the server's license server id (the license server's licenseServerId output); ${whereTheIdGoes(f.method)}; ${phase2}. ` +
      `Resources of these names deployed by an earlier run are deleted by this one: keep the id declared once you have it`
    );
  }
  if (f.activationStatus !== "pending") {
    return `phase 1 of ${f.method} activation: license server ${f.serverName} is ${f.activationStatus}: ${f.nextStep}; ${waiting}`;
  }
  return (
    `phase 1 of ${f.method} activation done: license server ${f.serverName} (product id ${f.productId}) is created and pending; ${waiting}. ` +
    `Next: ${activationRoute(f.method, f.transport, f.productId, f.countryRegion)}; ${whereTheIdGoes(f.method)}; ${phase2}`
  );
}
