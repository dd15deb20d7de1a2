/**
 * Shared helpers of the reliability suite (not a test file).
 *
 * - `Sim`: one emulator state directory and its admin connection (fixtures/RelAdmin.ps1 through the
 *   REAL runner on its own warm pwsh), for setup, faults, out-of-band changes and inspection.
 * - `snapshotDir`: every file of a state directory (host state, Clearinghouse, call logs), to prove
 *   that nothing reached the emulator.
 * - `providers()`: the three resource providers, in process, from the TypeScript sources (ts-jest),
 *   with the real runner, pool and pwsh underneath.
 * - `ResourceUnderTest`: one resource deployed by THE engine emulation (engine/engine.ts: check -> diff
 *   -> create / update / replace / delete; read -> diff for refresh; init failures recorded) through
 *   the in-process host (engine/inProcessHost.ts: what the dynamic-provider host does around each call,
 *   without a process, so spies on the runner see every call).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { createEngine, type Engine } from "../../engine/engine";
import { HostRpcError, makeUrn } from "../../engine/hostProtocol";
import { providerRef, startInProcessHost } from "../../engine/inProcessHost";
import { isSecret, stripSecrets } from "../../engine/secrets";
import { DeploymentError, type StateEntry } from "../../engine/state";
import { packageRoot } from "../../provider/paths";
import { runOperation } from "../../provider/powershell/runner";
import type { Connection } from "../../provider/powershell/transport";
import type { CallLogRow } from "../resources/sessionHostLicensing/simAdmin";
import type { EmulatorView } from "../../provider/emulator/cli/driver";

export const REL_ADMIN = path.join(packageRoot(), "test", "reliability", "fixtures", "RelAdmin.ps1");
export const ADMIN_HOST = "rel-admin.invalid";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rel-${prefix}-`));
}

export type Props = Record<string, unknown>;

/** One emulator call-log row (Get-RdsSimCallLog). */
export type CallRow = CallLogRow;

export const INSTALL_METHODS = [
  "InstallRetailPurchaseLicenseKeyPack",
  "InstallOpenLicenseKeyPack",
  "InstallAgreementLicenseKeyPack",
  "InstallLicenseKeyPack",
];
export const ACTIVATE_METHODS = ["ActivateServerAutomatic", "ActivateServer", "ReactivateServerAutomatic", "ReactivateServer"];

/** One emulator state directory and the admin actions on it. */
export class Sim {
  readonly adminConnection: Connection;
  constructor(readonly stateDir: string) {
    this.adminConnection = { transport: "simulator", host: ADMIN_HOST, stateDir };
  }

  conn(host: string): Connection {
    return { transport: "simulator", host, stateDir: this.stateDir };
  }

  admin<T = unknown>(args: Props): Promise<T> {
    return runOperation(this.adminConnection, {
      name: `test.relAdmin.${String(args.action)}`,
      script: REL_ADMIN,
      args,
      result: z.any(),
      timeoutMs: 120_000,
    }) as Promise<T>;
  }

  reset(host: string) {
    return this.admin({ action: "reset", host });
  }
  config(host: string, settings: Props) {
    return this.admin({ action: "config", host, settings });
  }
  fault(host: string, fault: string, value: unknown) {
    return this.admin({ action: "fault", host, fault, value });
  }
  faults(host: string, faults: Props) {
    return this.admin({ action: "faults", host, faults });
  }
  clearFaults(host: string) {
    return this.admin({ action: "clearFaults", host });
  }
  groupPolicy(host: string, values: { licensingMode?: number | null; licenseServers?: string | null }) {
    return this.admin({ action: "groupPolicy", host, ...values });
  }
  host(host: string): Promise<SimHost> {
    return this.admin<SimHost>({ action: "host", host });
  }
  async calls(host: string): Promise<CallRow[]> {
    return (await this.admin<CallRow[] | null>({ action: "calls", host })) ?? [];
  }
  licenseServerId(productId: string): Promise<string> {
    return this.admin<string>({ action: "licenseServerId", productId });
  }
  retailCode(productVersion: string, calType: string, quantity: number): Promise<string> {
    return this.admin<string>({ action: "retailCode", productVersion, calType, quantity });
  }
  keyPackId(host: string, program: string, productVersion: string, calType: string, quantity: number): Promise<string> {
    return this.admin<string>({ action: "keyPackId", host, program, productVersion, calType, quantity });
  }
  async prepareLicenseServer(
    host: string,
    packs: { productVersion: string; calType: string; count: number }[],
    osVersion = "2025",
  ): Promise<number[]> {
    const ids = await this.admin<number[] | number>({ action: "prepareLicenseServer", host, packs, osVersion });
    return Array.isArray(ids) ? ids : [ids];
  }
  wmi(
    host: string,
    call: {
      className: string;
      namespace?: string;
      instance?: boolean;
      method: string;
      arguments?: Record<string, { type: string; value: unknown }>;
    },
  ) {
    return this.admin<{ returnValue: number; keyPackId: number | null }>({ action: "wmi", host, ...call });
  }
  setContact(host: string, properties: Record<string, string>) {
    return this.admin({ action: "setContact", host, properties });
  }

  /**
   * The host's state file, parsed (no pwsh; the emulator writes it atomically). Keys as stored:
   * `features`, `service`, `licenseServer.{activated, contact, keyPacks}`, `sessionHost.{licensingType,
   * specifiedLSList}`, ... (see RdsEmulator.psm1). Undefined when the host does not exist yet.
   */
  stateFile(host: string): EmulatorView | undefined {
    const file = path.join(this.stateDir, "hosts", `${Buffer.from(host.toLowerCase(), "utf8").toString("hex")}.json`);
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
  }

  /** The raw call log file of a host (no pwsh). */
  callLogText(host: string): string {
    const file = path.join(this.stateDir, "hosts", `${Buffer.from(host.toLowerCase(), "utf8").toString("hex")}.calls.jsonl`);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  }

  /** The call log of a host read from its file (no pwsh): one row per emulated call. */
  callRows(host: string): CallRow[] {
    return this.callLogText(host)
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as CallRow);
  }
}

export interface SimPack {
  KeyPackId: number;
  KeyPackType: number;
  ProductType: number;
  ProductVersionID: number;
  TotalLicenses: number;
  IssuedLicenses: number;
  AvailableLicenses: number;
}

export interface SimHost {
  hostName: string;
  roleInstalled: boolean;
  serviceStatus: string | null;
  faults: Props;
  licenseServer: {
    productId: string;
    activated: boolean;
    activationStatus: number;
    licenseServerId: string | null;
    serverRole: number;
    contact: Record<string, string | null>;
    keyPacks: SimPack[];
  };
  sessionHost: {
    licensingType: number;
    effectiveLicensingType: number;
    specifiedLicenseServers: string[];
    effectiveLicenseServers: string[];
  };
  [key: string]: unknown;
}

/** Installed packs (the built-in pack, KeyPackId 2, left out). */
export function installedPacks(h: SimHost): SimPack[] {
  return (h.licenseServer.keyPacks ?? []).filter((p) => p.KeyPackId !== 2);
}

/** Every file of a directory tree (relative path -> content), lock files left out. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    if (!fs.existsSync(abs)) return;
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (!e.name.endsWith(".lock")) out[r] = fs.readFileSync(path.join(dir, r), "utf8");
    }
  };
  walk("");
  return out;
}

/** Polls until `condition` holds. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

// ---- the providers, in process ------------------------------------------------------------------

export interface Provider {
  check(olds: Props, news: Props): Promise<{ inputs?: Props; failures?: { property: string; reason: string }[] }>;
  diff(id: string, olds: Props, news: Props): Promise<{ changes?: boolean; replaces?: string[]; deleteBeforeReplace?: boolean }>;
  create(inputs: Props): Promise<{ id: string; outs?: Props }>;
  read(id: string, props?: Props): Promise<{ id?: string; props?: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ outs?: Props }>;
  delete(id: string, props: Props): Promise<void>;
}

/** The three providers from the TypeScript sources (the real runner and pwsh underneath). */
export function providers(): { licenseServer: Provider; calPack: Provider; sessionHost: Provider } {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    licenseServer: require("../../provider/resources/licenseServer/provider").provider,
    calPack: require("../../provider/resources/calPack/provider").provider,
    sessionHost: require("../../provider/resources/sessionHostLicensing/provider").provider,
  };
}

/**
 * The in-process host's provider table: the classes register the shim's serialized closure, which names
 * its implementation module; the provider object from the TypeScript sources answers for it.
 */
export function providerTableOf(p: ReturnType<typeof providers>): Record<string, pulumi.dynamic.ResourceProvider> {
  const byModule: [string, Provider][] = [
    ["resources/licenseServer/provider", p.licenseServer],
    ["resources/calPack/provider", p.calPack],
    ["resources/sessionHostLicensing/provider", p.sessionHost],
  ];
  return new Proxy({} as Record<string, pulumi.dynamic.ResourceProvider>, {
    get(_, ref) {
      if (typeof ref !== "string") return undefined;
      return byModule.find(([module]) => ref.includes(module))?.[1] as pulumi.dynamic.ResourceProvider | undefined;
    },
  });
}

// ---- secrets in engine form ---------------------------------------------------------------------

export { isSecret, SECRET_SIG, SECRET_SIG_KEY } from "../../engine/secrets";

/** What the engine sends a host that does not accept secrets: the wrappers removed. */
export const strip = stripSecrets;

/** Secret wrappers replaced by "[secret]": what is left is readable in plain text. */
export function redact(v: unknown): unknown {
  if (isSecret(v)) return "[secret]";
  if (Array.isArray(v)) return v.map(redact);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redact(x)]));
  return v;
}

/** Fails when any of `secrets` (as given, or without hyphens/spaces, upper-cased) occurs in `text`. */
export function expectNoSecrets(where: string, text: string, secrets: readonly string[]): void {
  for (const s of secrets) {
    for (const form of new Set([s, s.replace(/[-\s]/g, ""), s.replace(/[-\s]/g, "").toUpperCase()])) {
      if (form.length >= 4 && text.includes(form))
        throw new Error(`a secret (${form.length} characters, starting ${form.slice(0, 2)}…) appears in ${where}`);
    }
  }
}

// ---- one resource under the engine, in process --------------------------------------------------

/** A resource's state as the tests read it: the engine's entry with secrets unwrapped and `__provider` left out. */
export interface Entry {
  id: string;
  inputs: Props;
  outputs: Props;
  initErrors?: string[];
}

export class CheckFailed extends Error {
  constructor(readonly failures: { property: string; reason: string }[]) {
    super(failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
  }
}

/** An init failure as the dynamic-provider host sees it: `{ id, properties, reasons }` on the thrown value. */
export function initFailureOf(e: unknown): { id: string; properties: Props; reasons: string[] } | undefined {
  if (e === null || typeof e !== "object") return undefined;
  const x = e as Props;
  if (typeof x.id === "string" && x.id !== "" && x.properties !== null && typeof x.properties === "object") {
    return { id: x.id, properties: x.properties as Props, reasons: Array.isArray(x.reasons) ? (x.reasons as string[]) : [] };
  }
  return undefined;
}

export type Op = "same" | "create" | "update" | "replace";

const RESOURCE_URN = makeUrn("pulumi-nodejs:dynamic:Resource", "resource");
const PROVIDER_REF = providerRef("resource");

/**
 * One resource, deployed by the engine (engine/engine.ts, the same step logic as every other test and
 * the demo's harness) through the in-process host over `provider`: Check(olds = old inputs) -> Diff(old
 * outputs, checked inputs) -> Create | Update | Replace (Check again with empty olds, then
 * create-before-delete, or delete-before-replace when Diff asks) | nothing; an init failure is recorded
 * in state (create: new inputs; update: the old inputs) and the next up updates even without a diff;
 * refresh is Read(old outputs) -> Diff(refreshed outputs, old inputs). Secrets are stripped before
 * every call, as the engine does for the dynamic-provider host.
 *
 * A failed step rejects with what the provider threw (an RdsError, an init failure carrying `id`), or
 * `CheckFailed` for failed checks, so tests assert on the provider's own errors.
 */
export class ResourceUnderTest {
  readonly engine: Engine;
  /** The steps that succeeded, in order. */
  readonly ops: Op[] = [];

  constructor(provider: Provider) {
    const host = startInProcessHost({ providers: { [PROVIDER_REF]: provider as unknown as pulumi.dynamic.ResourceProvider } });
    this.engine = createEngine(host);
  }

  /** The state of the resource (undefined when not deployed). Setting it replaces the engine's state. */
  get entry(): Entry | undefined {
    const e = this.engine.state.get(RESOURCE_URN);
    if (!e) return undefined;
    const view: Entry = { id: e.id, inputs: withoutProvider(e.inputs), outputs: withoutProvider(e.outputs) };
    if (e.initErrors) view.initErrors = [...e.initErrors];
    return view;
  }

  set entry(entry: Entry | undefined) {
    if (!entry) {
      this.engine.state.delete(RESOURCE_URN);
      return;
    }
    const state: StateEntry = {
      urn: RESOURCE_URN,
      type: "pulumi-nodejs:dynamic:Resource",
      id: entry.id,
      inputs: { ...entry.inputs, __provider: PROVIDER_REF },
      outputs: { ...entry.outputs, __provider: PROVIDER_REF },
    };
    if (entry.initErrors) state.initErrors = [...entry.initErrors];
    this.engine.state.set(RESOURCE_URN, state);
  }

  /** `pulumi up` with `news` as the resource's inputs; resolves with what the engine did. */
  async up(news: Props): Promise<Op> {
    const steps = await unwrapping(() => this.engine.up([{ urn: RESOURCE_URN, inputs: { ...news, __provider: PROVIDER_REF } }]));
    const op = steps.find((s) => s.urn === RESOURCE_URN)!.op as Op;
    this.ops.push(op);
    return op;
  }

  /** `pulumi refresh`: "gone", or whether the refreshed outputs differ from the inputs. */
  async refresh(): Promise<{ op: "same" | "update" | "gone"; diff?: unknown }> {
    if (!this.engine.state.has(RESOURCE_URN)) return { op: "gone" };
    const reports = await unwrapping(() => this.engine.refresh());
    const report = reports.find((r) => r.urn === RESOURCE_URN)!;
    return report.op === "delete" ? { op: "gone" } : { op: report.op, diff: report.diff };
  }

  /** `pulumi destroy`. */
  async destroy(): Promise<void> {
    await unwrapping(() => this.engine.destroy());
  }
}

function withoutProvider(props: Props): Props {
  const { __provider: _ignored, ...rest } = stripSecrets(props);
  return rest;
}

/** Runs an engine operation; a failure rejects with the provider's own error (see ResourceUnderTest). */
async function unwrapping<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw providerErrorOf(e);
  }
}

function providerErrorOf(e: unknown): unknown {
  if (e instanceof DeploymentError) {
    if (e.kind === "checkFailed") return new CheckFailed(e.details.failures ?? []);
    return providerErrorOf(e.details.cause ?? e);
  }
  // The in-process host keeps what the provider threw as the cause of the RPC error.
  if (e instanceof HostRpcError && e.cause !== undefined) return e.cause;
  return e;
}
