/**
 * The fault matrix both fault tests share (faults.fast.test.ts over the fake world, every case;
 * faults.test.ts through real pwsh and the emulator, one case per fault kind): the fault switches, what
 * each step's error must say, where a fault must bite, the three resources' scenarios (each operation's
 * steps recorded from a clean run), the check of one case and the convergence check after it.
 *
 * What differs between the two stays in the test files, behind a FaultBench: how a host's state is read
 * and put back, how installs and activations are counted, and how the fault is switched on around the
 * chosen step (each file steers its runner through `Injections.stepOn`).
 *
 * Each case must show:
 *   1. a fault that bites gives a typed error (an RdsError code, or an init failure whose message ends
 *      with it) of the fault's kind, naming the host and the step; a fault that does not bite changes
 *      nothing in the outcome;
 *   2. no partial state lost: when the host changed, a failed create/update is recorded (init failure
 *      carrying id + properties);
 *   3. with the fault cleared, the next up converges: it succeeds, a second up changes nothing, a
 *      refresh shows no drift (delete: the next destroy succeeds); never a second install or activation.
 */
import * as fs from "fs";
import * as path from "path";
import { isRdsError } from "../../provider/errors";
import { initFailureOf, ResourceUnderTest, providers, strip, type Entry, type Props, type Provider, type Sim } from "./support";

/** One fault switch (Set-RdsSimFault), with the codes it may produce when it bites (none: it never bites). */
export interface Fault {
  name: string;
  set: Props;
  codes: string[];
  /** The codes at a step where the fault bites differently (by the step's operation); `codes` elsewhere. */
  codesAt?: Record<string, string[]>;
}

/** The fault switches that need no clock (the fake world has none). */
export const FAULTS: Fault[] = [
  { name: "clearinghouseUnreachable", set: { clearinghouseUnreachable: true }, codes: ["RDS_CLEARINGHOUSE_UNREACHABLE"] },
  { name: "accessDenied", set: { accessDenied: true }, codes: ["RDS_ACCESS_DENIED"] },
  { name: "providerFailure", set: { providerFailure: true }, codes: ["RDS_WMI_ERROR"] },
  { name: "providerFailure, failureStyle exception", set: { failureStyle: "exception", providerFailure: true }, codes: ["RDS_WMI_ERROR"] },
  { name: "classNotReadyCalls 2", set: { classNotReadyCalls: 2 }, codes: ["RDS_CLASS_NOT_READY"] },
  { name: "activationStatusUnknown", set: { activationStatusUnknown: true }, codes: ["RDS_SCRIPT_ERROR", "RDS_NOT_ACTIVATED"] },
  {
    name: "groupPolicy (another mode and list)",
    set: { groupPolicy: { LicensingMode: 2, LicenseServers: "gp-ls1,gp-ls2" } },
    codes: ["RDS_GROUP_POLICY_CONFLICT"],
    // On only while set.ps1 runs, the policy is in no read (neither the one before the set nor the one
    // after its failure): nothing shows a policy source, so the setter's WBEM_E_INVALID_OPERATION passes
    // through as the WMI error it is. A read that sees it (the fault around a read) refuses as a conflict.
    codesAt: { "sessionHostLicensing.set": ["RDS_WMI_ERROR"] },
  },
];

/** Latency: it never bites and must change nothing; only meaningful where there is a clock (real pwsh). */
export const LATENCY_FAULT: Fault = { name: "latencyMs 250", set: { latencyMs: 250 }, codes: [] };

/** What each step's error message must say (the step, in words). */
const STEP_PHRASE: Record<string, RegExp> = {
  "licenseServer.install": /installing the RDS-Licensing role/,
  "licenseServer.wait": /preparing the license server/,
  "licenseServer.get": /reading license server/,
  "licenseServer.set": /setting license server properties/,
  "licenseServer.activate": /activating license server/,
  "licenseServer.deactivate": /deactivating license server/,
  "calPack.inspect": /installing 2022 Per User CAL pack \(enterpriseAgreement\)/,
  "calPack.install": /installing 2022 Per User CAL pack \(enterpriseAgreement\)/,
  "calPack.resize": /updating CAL pack #\d+/,
  "calPack.get": /(reading|removing|updating) CAL pack #\d+/,
  "calPack.remove": /removing CAL pack #\d+/,
  "sessionHostLicensing.read": /sessionHostLicensing\.read|configuring licensing/,
  "sessionHostLicensing.packs": /sessionHostLicensing\.packs/,
  "sessionHostLicensing.set": /sessionHostLicensing\.set|configuring licensing/,
  "sessionHostLicensing.reset": /sessionHostLicensing\.reset/,
};

/** The steps where a WMI-level fault (access denied, provider failure) always hits a call. */
const WMI_STEPS = [
  "licenseServer.set",
  "licenseServer.activate",
  "licenseServer.deactivate",
  "calPack.inspect",
  "calPack.install",
  "calPack.resize",
  "calPack.get",
  "calPack.remove",
  "sessionHostLicensing.read",
  "sessionHostLicensing.packs",
  "sessionHostLicensing.set",
  "sessionHostLicensing.reset",
];

/** Faults (by name prefix) that must bite at a step (so a success there is a bug, not luck). */
const MUST_BITE: Record<string, string[]> = {
  accessDenied: WMI_STEPS,
  providerFailure: WMI_STEPS,
  clearinghouseUnreachable: ["licenseServer.deactivate", "calPack.install"],
  groupPolicy: ["sessionHostLicensing.set"],
};

/** The codes `fault` may produce when switched on around a step running `op`. */
function expectedCodes(fault: Fault, op: string | undefined): string[] {
  return (op !== undefined && fault.codesAt?.[op]) || fault.codes;
}

function isBiting(fault: string, op: string, sc: Scenario): boolean {
  const key = Object.keys(MUST_BITE).find((k) => fault.startsWith(k));
  if (key === "clearinghouseUnreachable" && op === "licenseServer.activate") return sc.op === "create"; // automatic; web needs no Clearinghouse
  return key !== undefined && MUST_BITE[key].includes(op);
}

// ---- fault injection around one step ---------------------------------------------------------------

/** One operation script as the provider ran it. */
export interface StepRun {
  op: string;
  host: string;
}

/** A fault to switch on around step `at` (-1: none, only record) of the operations on some hosts. */
interface Injection {
  at: number;
  faults: Props;
  /** The admin of the pipeline the hosts belong to (pipelines may run at the same time). */
  sim: Sim;
  /** Steps seen so far. */
  seen: StepRun[];
}

/** The injection active for each host under test; the test file's runner asks it at every operation. */
export class Injections {
  private readonly byHost = new Map<string, Injection>();

  /**
   * Records an operation about to run on `host` as a step; returns the faults to switch on around it
   * (and the admin to switch them with), or undefined to run it unchanged. Admin actions ("test.")
   * are not steps.
   */
  stepOn(host: string, op: string): { faults: Props; sim: Sim } | undefined {
    if (op.startsWith("test.")) return undefined;
    const inj = this.byHost.get(host.toLowerCase());
    if (!inj) return undefined;
    const index = inj.seen.push({ op, host }) - 1;
    return index === inj.at ? { faults: inj.faults, sim: inj.sim } : undefined;
  }

  /** Runs `run` with `inj` active on `hosts`. */
  async during(hosts: string[], inj: Injection, run: () => Promise<void>): Promise<void> {
    for (const h of hosts) this.byHost.set(h.toLowerCase(), inj);
    try {
      await run();
    } finally {
      for (const h of hosts) this.byHost.delete(h.toLowerCase());
    }
  }
}

// ---- what differs between the fake world and the emulator -------------------------------------------

export interface FaultBench {
  readonly injections: Injections;
  /** The install journal's directory (RDS_JOURNAL_DIR). */
  readonly journalDir: string;
  /** The host's whole state as text (null: the host does not exist). */
  hostText(host: string): string | null;
  /** Puts a state read by hostText back (null: the host is removed). */
  putHost(host: string, text: string | null): void;
  /** Successful Install* calls on these hosts so far. */
  installs(hosts: string[]): number;
  /** Successful Activate* / Reactivate* calls on these hosts so far. */
  activations(hosts: string[]): number;
}

/** Which (step index, fault) cases of a scenario to run. */
export type CaseSelection = (sc: Scenario) => { k: number; fault: Fault }[];

type OpKind = "create" | "update" | "read" | "delete";

export interface Scenario {
  resource: string;
  op: OpKind;
  hosts: string[];
  provider: Provider;
  saved: Saved;
  desired: Props;
  steps: StepRun[];
}

export interface CaseResult {
  scenario: string;
  /** `<index>:<operation>` of the faulted step. */
  step: string;
  fault: string;
  outcome: "ok" | string;
  /** Empty when the case holds. */
  problems: string[];
}

interface Saved {
  /** Each host's state (null: the host did not exist). */
  hosts: Record<string, string | null>;
  journal: Record<string, string>;
  entry: Entry | undefined;
}

const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

async function act(engine: ResourceUnderTest, op: OpKind, desired: Props): Promise<void> {
  if (op === "read") await engine.refresh();
  else if (op === "delete") await engine.destroy();
  else await engine.up(desired);
}

function errorInfo(e: unknown): { code?: string; message: string; operation?: string } {
  const message = e instanceof Error ? e.message : typeof e === "object" && e !== null ? String((e as Props).message ?? "") : String(e);
  if (isRdsError(e)) return { code: e.code, message, operation: e.operation };
  const m = /\[(RDS_[A-Z_]+)\]/.exec(message);
  return { code: m?.[1], message };
}

type Converge = (engine: ResourceUnderTest, ctx: { fault: string; failure: unknown }) => Promise<string[]>;

/** How every pipeline's convergence ends: an up that succeeds, a second up that changes nothing, a refresh with no drift. */
async function upConverges(engine: ResourceUnderTest, desired: Props): Promise<string[]> {
  const problems: string[] = [];
  await engine.up(desired);
  const second = await engine.up(desired);
  if (second !== "same") problems.push(`second up: ${second}`);
  const r = await engine.refresh();
  if (r.op !== "same") problems.push(`refresh shows ${r.op}`);
  return problems;
}

const CONTACT = { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" };

/** The matrix over one bench: saved states, the case check, and the three resources' pipelines. */
export class FaultMatrix {
  private readonly P = providers();

  constructor(
    private readonly bench: FaultBench,
    private readonly select: CaseSelection,
  ) {}

  // ---- saved starting states ----

  private save(hosts: string[], entry: Entry | undefined): Saved {
    const saved: Record<string, string | null> = {};
    for (const h of hosts) saved[h] = this.bench.hostText(h);
    const dir = this.bench.journalDir;
    const journal: Record<string, string> = {};
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) journal[f] = fs.readFileSync(path.join(dir, f), "utf8");
    return { hosts: saved, journal, entry: entry && copy(entry) };
  }

  private restore(s: Saved, journalHosts: string[]): Entry | undefined {
    for (const [name, text] of Object.entries(s.hosts)) this.bench.putHost(name, text);
    // Journal entries of this pipeline's hosts only (other pipelines may run at the same time).
    const dir = this.bench.journalDir;
    for (const f of fs.readdirSync(dir)) {
      if (!f.endsWith(".json")) continue;
      const e = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
      if (journalHosts.includes(e.host)) fs.rmSync(path.join(dir, f));
    }
    for (const [f, text] of Object.entries(s.journal)) {
      if (!f.endsWith(".json")) continue;
      const e = JSON.parse(text);
      if (journalHosts.includes(e.host)) fs.writeFileSync(path.join(dir, f), text);
    }
    return s.entry && copy(s.entry);
  }

  /** The host's state without the fault switches (what a fault may never change by itself). */
  private essence(host: string): string {
    const text = this.bench.hostText(host);
    if (text === null) return "";
    const { faults: _f, groupPolicy: _g, ...rest } = JSON.parse(text);
    return JSON.stringify(rest);
  }

  // ---- recording and running cases ----

  private async record(sim: Sim, engine: ResourceUnderTest, op: OpKind, desired: Props, hosts: string[]): Promise<StepRun[]> {
    const inj: Injection = { at: -1, faults: {}, sim, seen: [] };
    await this.bench.injections.during(hosts, inj, () => act(engine, op, desired));
    return inj.seen;
  }

  /** Runs the selected (step, fault) cases of a scenario; returns the results. */
  private async runScenario(sim: Sim, sc: Scenario, converge: Converge): Promise<CaseResult[]> {
    const results: CaseResult[] = [];
    const label = `${sc.resource} ${sc.op}`;
    for (const { k, fault } of this.select(sc)) {
      const problems: string[] = [];
      const entry = this.restore(sc.saved, sc.hosts);
      const engine = new ResourceUnderTest(sc.provider);
      engine.entry = entry;
      const before = sc.hosts.map((h) => this.essence(h));
      const installsBefore = this.bench.installs(sc.hosts);
      const activationsBefore = this.bench.activations(sc.hosts);
      const inj: Injection = { at: k, faults: fault.set, sim, seen: [] };
      let failure: unknown;
      await this.bench.injections.during(sc.hosts, inj, async () => {
        try {
          await act(engine, sc.op, sc.desired);
        } catch (e) {
          failure = e;
        }
      });
      const step = sc.steps[k];
      const faulted = inj.seen[k];
      let outcome = "ok";
      if (failure !== undefined) {
        const info = errorInfo(failure);
        outcome = info.code ?? "untyped";
        if (!info.code) problems.push(`untyped error: ${info.message}`);
        else if (!expectedCodes(fault, inj.seen[k]?.op).includes(info.code))
          problems.push(`code ${info.code} is not one of [${expectedCodes(fault, inj.seen[k]?.op).join(", ")}]: ${info.message}`);
        if (!faulted) problems.push(`failed before reaching step ${k} (${step.op}): ${info.message}`);
        else {
          if (!info.message.includes(faulted.host)) problems.push(`message does not name the host ${faulted.host}: ${info.message}`);
          // The failing step is the faulted one, or (a fault read by a step and acted on in the provider,
          // such as a Group Policy seen by the read and refused before set) one after it.
          const candidates = inj.seen.slice(k).map((s) => s.op);
          if (!candidates.some((op) => STEP_PHRASE[op]?.test(info.message)))
            problems.push(`message does not name the step ${faulted.op}: ${info.message}`);
          // The pre-flight check of a session host (mode vs CALs, Group Policy) runs between its read and set steps.
          const allowed = [
            ...candidates,
            ...(candidates.some((op) => op.startsWith("sessionHostLicensing.")) ? ["sessionHostLicensing.check"] : []),
          ];
          if (info.operation !== undefined && !allowed.includes(info.operation))
            problems.push(`error.operation ${info.operation}, steps from ${faulted.op}`);
        }
        // No partial state lost: a host that changed is recorded.
        const changed = sc.hosts.some((h, i) => this.essence(h) !== before[i]);
        if ((sc.op === "create" || sc.op === "update") && changed) {
          const init = initFailureOf(failure);
          if (!init) problems.push(`the host changed but the failure carries no id + properties: ${info.message}`);
          else if (!engine.entry || !engine.entry.initErrors?.length) problems.push("the init failure was not recorded in state");
          else if (sc.op === "create" && engine.entry.id !== init.id) problems.push("recorded id differs");
        }
        if (sc.op === "delete" && !engine.entry) problems.push("a failed delete dropped the resource from state");
      } else if (fault.codes.length > 0 && faulted && isBiting(fault.name, faulted.op, sc)) {
        problems.push(`expected the fault to bite at ${faulted.op}, but the operation succeeded`);
      }
      // Fault cleared (the injector switched it off): the next run converges.
      try {
        problems.push(...(await converge(engine, { fault: fault.name, failure })));
      } catch (e) {
        problems.push(`did not converge after the fault was cleared: ${errorInfo(e).message}`);
      }
      const installed = this.bench.installs(sc.hosts) - installsBefore;
      const activated = this.bench.activations(sc.hosts) - activationsBefore;
      if (installed > 1) problems.push(`${installed} successful Install* calls`);
      if (activated > 1) problems.push(`${activated} successful Activate* calls`);
      results.push({ scenario: label, step: `${k}:${step.op}`, fault: fault.name, outcome, problems });
    }
    return results;
  }

  /**
   * A scenario maker for one resource's pipeline: records `op` run by `engine` from its current state
   * (the steps to fault) and makes the scenario that starts from `saved`.
   */
  private scenarioMaker(resource: string, provider: Provider, hosts: string[], sim: Sim) {
    return async (engine: ResourceUnderTest, op: OpKind, saved: Saved, desired: Props): Promise<Scenario> => {
      const steps = await this.record(sim, engine, op, desired, hosts);
      return { resource, op, hosts, provider, saved, desired, steps };
    };
  }

  private async runAll(sim: Sim, scenarios: Scenario[], converge: (sc: Scenario) => Converge): Promise<CaseResult[]> {
    const results: CaseResult[] = [];
    for (const sc of scenarios) results.push(...(await this.runScenario(sim, sc, converge(sc))));
    return results;
  }

  // ---- the three pipelines (each on its own hosts; `sim` is its admin) ----

  async licenseServer(sim: Sim): Promise<CaseResult[]> {
    const P = this.P;
    const host = "ls-fault.contoso.com";
    const hosts = [host];
    const conn = sim.conn(host);
    const automatic = { connection: conn, contact: CONTACT, activation: { method: "automatic" } };
    const web = { connection: conn, contact: CONTACT, activation: { method: "web" } };
    await sim.reset(host);
    await sim.config(host, { osVersion: "2022" });
    const fresh = this.save(hosts, undefined);
    const scenario = this.scenarioMaker("RdsLicenseServer", P.licenseServer, hosts, sim);
    const scenarios: Scenario[] = [];

    // create: install, wait, get, set, activate, get
    let e = new ResourceUnderTest(P.licenseServer);
    scenarios.push(await scenario(e, "create", fresh, automatic));
    const activated = this.save(hosts, e.entry);
    // read: get
    scenarios.push(await scenario(e, "read", activated, automatic));
    // delete with deactivateOnDelete: deactivate
    const deactivating = { ...automatic, deactivateOnDelete: true };
    this.restore(fresh, hosts);
    e = new ResourceUnderTest(P.licenseServer);
    await e.up(deactivating);
    const toDelete = this.save(hosts, e.entry);
    scenarios.push(await scenario(e, "delete", toDelete, deactivating));
    // update: a web activation pending -> the license server id given and the company changed
    this.restore(fresh, hosts);
    e = new ResourceUnderTest(P.licenseServer);
    await e.up(web);
    const pending = this.save(hosts, e.entry);
    const id = await sim.licenseServerId(String(e.entry!.outputs.productId));
    const webDone = {
      connection: conn,
      contact: { ...CONTACT, company: "Contoso Ltd" },
      activation: { method: "web", licenseServerId: id },
    };
    scenarios.push(await scenario(e, "update", pending, webDone));

    return this.runAll(sim, scenarios, (sc) => async (engine) => {
      const problems: string[] = [];
      if (sc.op === "delete") {
        if (engine.entry) await engine.destroy();
        const h = await sim.host(host);
        if (h.licenseServer.activated) problems.push("still activated after the delete converged");
        return problems;
      }
      if (sc.op === "read") {
        const r = await engine.refresh();
        if (r.op !== "same") problems.push(`refresh after the fault shows ${r.op}`);
      }
      problems.push(...(await upConverges(engine, sc.desired)));
      if (strip(engine.entry!.outputs).activationStatus !== "activated")
        problems.push(`activationStatus ${String(engine.entry!.outputs.activationStatus)}`);
      return problems;
    });
  }

  async calPack(sim: Sim): Promise<CaseResult[]> {
    const P = this.P;
    const host = "ls-pack.contoso.com";
    const hosts = [host];
    const conn = sim.conn(host);
    await sim.reset(host);
    await sim.prepareLicenseServer(host, [], "2022");
    const fresh = this.save(hosts, undefined);
    const desired = {
      connection: conn,
      program: "enterpriseAgreement",
      agreementNumber: "3141592",
      productVersion: "2022",
      calType: "perUser",
      quantity: 10,
      journalKey: "proj/stack/users",
    };
    const shrunk = { ...desired, quantity: 6 };
    const scenario = this.scenarioMaker("RdsCalPack", P.calPack, hosts, sim);
    const scenarios: Scenario[] = [];
    const e = new ResourceUnderTest(P.calPack);
    scenarios.push(await scenario(e, "create", fresh, desired));
    const installed = this.save(hosts, e.entry);
    scenarios.push(await scenario(e, "read", installed, desired));
    scenarios.push(await scenario(e, "update", installed, shrunk));
    this.restore(installed, hosts);
    e.entry = installed.entry && copy(installed.entry);
    scenarios.push(await scenario(e, "delete", installed, desired));

    // The pack the license server came with (KeyPackId 2) is not this resource's.
    const packsOnServer = async () => (await sim.host(host)).licenseServer.keyPacks.filter((p) => p.KeyPackId !== 2);
    return this.runAll(sim, scenarios, (sc) => async (engine) => {
      const problems: string[] = [];
      if (sc.op === "delete") {
        if (engine.entry) await engine.destroy();
        const packs = await packsOnServer();
        if (packs.length !== 0) problems.push(`${packs.length} packs left after the delete converged`);
        return problems;
      }
      if (sc.op === "read") await engine.refresh();
      problems.push(...(await upConverges(engine, sc.desired)));
      const packs = await packsOnServer();
      if (packs.length !== 1) problems.push(`${packs.length} packs on the server, 1 in state`);
      else if (String(packs[0].KeyPackId) !== engine.entry!.id)
        problems.push(`pack #${packs[0].KeyPackId} on the server, #${engine.entry!.id} in state`);
      else if (packs[0].TotalLicenses !== sc.desired.quantity) problems.push(`pack holds ${packs[0].TotalLicenses} CALs`);
      return problems;
    });
  }

  async sessionHost(sim: Sim): Promise<CaseResult[]> {
    const P = this.P;
    const lsHost = "ls-shf.contoso.com";
    const host = "sh-fault.contoso.com";
    const hosts = [host, lsHost];
    await sim.reset(lsHost);
    await sim.reset(host);
    const [userPack, devicePack] = await sim.prepareLicenseServer(lsHost, [
      { productVersion: "2022", calType: "perUser", count: 10 },
      { productVersion: "2022", calType: "perDevice", count: 10 },
    ]);
    await sim.config(host, { osVersion: "2022" });
    const fresh = this.save(hosts, undefined);
    const ref = (keyPackId: number, calType: string) => ({
      keyPackId,
      calType,
      productVersion: "2022",
      licenseServerConnection: sim.conn(lsHost),
      licenseServerName: lsHost,
    });
    const created = {
      connection: sim.conn(host),
      mode: "perUser",
      licenseServers: [lsHost],
      calPacks: [ref(userPack, "perUser")],
      resetOnDelete: true,
    };
    const updated = {
      ...created,
      mode: "perDevice",
      licenseServers: [lsHost, "ls2.contoso.com"],
      calPacks: [ref(devicePack, "perDevice")],
    };
    const scenario = this.scenarioMaker("RdsSessionHostLicensing", P.sessionHost, hosts, sim);
    const scenarios: Scenario[] = [];
    const e = new ResourceUnderTest(P.sessionHost);
    scenarios.push(await scenario(e, "create", fresh, created));
    const configured = this.save(hosts, e.entry);
    scenarios.push(await scenario(e, "read", configured, created));
    scenarios.push(await scenario(e, "update", configured, updated));
    this.restore(configured, hosts);
    e.entry = configured.entry && copy(configured.entry);
    scenarios.push(await scenario(e, "delete", configured, created));

    return this.runAll(sim, scenarios, (sc) => async (engine, ctx) => {
      const problems: string[] = [];
      if (sc.op === "delete") {
        if (engine.entry) await engine.destroy();
        const h = await sim.host(host);
        // A list that a Group Policy sets is left alone by the reset (the policy was on at that step).
        const leftAlone = ctx.fault.startsWith("groupPolicy") && ctx.failure === undefined;
        if (!leftAlone && h.sessionHost.specifiedLicenseServers.length !== 0)
          problems.push("license server list not reset after the delete converged");
        return problems;
      }
      if (sc.op === "read") await engine.refresh();
      problems.push(...(await upConverges(engine, sc.desired)));
      const out = strip(engine.entry!.outputs);
      if (out.effectiveMode !== sc.desired.mode) problems.push(`effectiveMode ${String(out.effectiveMode)}`);
      return problems;
    });
  }
}
