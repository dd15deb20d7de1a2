/**
 * Shared helpers of the reliability suite (not a test file).
 *
 * - `Sim`: one emulator state directory and its admin connection (fixtures/RelAdmin.ps1 through the
 *   REAL runner on its own warm pwsh), for setup, faults, out-of-band changes and inspection.
 * - `snapshotDir`: every file of a state directory (host state, Clearinghouse, call logs), to prove
 *   that nothing reached the emulator.
 * - `providers()`: the three resource providers, in process, from the TypeScript sources (ts-jest),
 *   with the real runner, pool and pwsh underneath.
 * - `MiniEngine`: the Pulumi engine's step logic for one resource, in process (check -> diff ->
 *   create / update / replace / delete; read -> diff for refresh; init failures recorded).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { packageRoot } from "../../provider/paths";
import { runOperation } from "../../provider/powershell/runner";
import type { Connection } from "../../provider/powershell/transport";
import type { CallLogRow } from "../resources/sessionHostLicensing/simAdmin";

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
  async prepareLicenseServer(host: string, packs: { productVersion: string; calType: string; count: number }[], osVersion = "2025"): Promise<number[]> {
    const ids = await this.admin<number[] | number>({ action: "prepareLicenseServer", host, packs, osVersion });
    return Array.isArray(ids) ? ids : [ids];
  }
  wmi(host: string, call: { className: string; namespace?: string; instance?: boolean; method: string; arguments?: Record<string, { type: string; value: unknown }> }) {
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
  stateFile(host: string): Record<string, any> | undefined {
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
  sessionHost: { licensingType: number; effectiveLicensingType: number; specifiedLicenseServers: string[]; effectiveLicenseServers: string[] };
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

// ---- secrets in engine form ---------------------------------------------------------------------

export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecret(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Props)[SECRET_SIG_KEY] === SECRET_SIG;
}

/** What the engine sends a host that does not accept secrets: the wrappers removed. */
export function strip<T>(v: T): T {
  if (isSecret(v)) return strip((v as Props).value) as T;
  if (Array.isArray(v)) return v.map(strip) as T;
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)])) as T;
  return v;
}

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
      if (form.length >= 4 && text.includes(form)) throw new Error(`a secret (${form.length} characters, starting ${form.slice(0, 2)}…) appears in ${where}`);
    }
  }
}

// ---- the engine's step logic, in process ----------------------------------------------------------

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

/**
 * The Pulumi engine's step logic for one resource, calling a provider in process. What it mimics
 * (test/helpers/engine.ts does the same over gRPC): Check(olds = old inputs) -> Diff(old outputs,
 * checked inputs) -> Create | Update | Replace (Check again with empty olds, then create-before-delete,
 * or delete-before-replace when Diff asks) | nothing; an init failure is recorded in state (create: new
 * inputs; update: the old inputs) and the next up updates even without a diff; refresh is Read(old
 * outputs) -> Diff(refreshed outputs, old inputs). Secrets are stripped before every call (a host that
 * does not accept secrets), as the engine does.
 */
export class MiniEngine {
  entry: Entry | undefined;
  readonly ops: Op[] = [];
  constructor(readonly provider: Provider) {}

  private async check(olds: Props, news: Props): Promise<Props> {
    const res = await this.provider.check(strip(olds), news);
    if (res.failures && res.failures.length) throw new CheckFailed(res.failures);
    return strip(res.inputs ?? {});
  }

  private record(e: unknown, inputs: Props, old?: Entry): never {
    const f = initFailureOf(e);
    if (f) this.entry = { id: old ? old.id : f.id, inputs: old ? old.inputs : inputs, outputs: strip(f.properties), initErrors: f.reasons };
    throw e;
  }

  private async create(checked: Props): Promise<void> {
    let res;
    try {
      res = await this.provider.create(checked);
    } catch (e) {
      this.record(e, checked);
    }
    this.entry = { id: res.id, inputs: checked, outputs: strip(res.outs ?? {}) };
  }

  async up(news: Props): Promise<Op> {
    const old = this.entry;
    const checked = await this.check(old ? old.inputs : {}, news);
    if (!old) {
      await this.create(checked);
      this.ops.push("create");
      return "create";
    }
    const diff = await this.provider.diff(old.id, old.outputs, checked);
    const changes = diff.changes ?? JSON.stringify(old.inputs) !== JSON.stringify(checked);
    if (!changes && !old.initErrors?.length) {
      this.entry = { ...old, inputs: checked };
      this.ops.push("same");
      return "same";
    }
    if (changes && diff.replaces && diff.replaces.length > 0) {
      const rechecked = await this.check({}, news);
      if (diff.deleteBeforeReplace) {
        await this.provider.delete(old.id, old.outputs);
        this.entry = undefined;
        await this.create(rechecked);
      } else {
        try {
          await this.create(rechecked);
        } catch (e) {
          // The old resource is still there (and still in state unless the new one was recorded).
          if (!initFailureOf(e)) this.entry = old;
          throw e;
        }
        await this.provider.delete(old.id, old.outputs);
      }
      this.ops.push("replace");
      return "replace";
    }
    let res;
    try {
      res = await this.provider.update(old.id, old.outputs, checked);
    } catch (e) {
      this.record(e, checked, old);
    }
    this.entry = { id: old.id, inputs: checked, outputs: strip(res.outs ?? {}) };
    this.ops.push("update");
    return "update";
  }

  /** `pulumi refresh`: "gone", or whether the refreshed outputs differ from the inputs. */
  async refresh(): Promise<{ op: "same" | "update" | "gone"; diff?: unknown }> {
    const old = this.entry;
    if (!old) return { op: "gone" };
    const read = await this.provider.read(old.id, old.outputs);
    if (!read.id) {
      this.entry = undefined;
      return { op: "gone" };
    }
    this.entry = { id: read.id, inputs: old.inputs, outputs: strip(read.props ?? {}), initErrors: old.initErrors };
    const diff = await this.provider.diff(read.id, this.entry.outputs, old.inputs);
    return { op: diff.changes ? "update" : "same", diff };
  }

  async destroy(): Promise<void> {
    if (this.entry) await this.provider.delete(this.entry.id, this.entry.outputs);
    this.entry = undefined;
  }
}
