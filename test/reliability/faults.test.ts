/**
 * Reliability: the fault matrix's real slice. One case per fault kind of the emulator, each at a step
 * where it matters, through real pwsh and the emulator's own fault injection. The full matrix (every
 * fault at every step of every resource's create, update, read and delete) runs in process over the
 * fake world in faults.fast.test.ts, with the same assertions; latencyMs is only here (the fake world
 * has no clock).
 *
 * For each case the steps of its (resource, operation) are recorded from a clean run (the operation
 * scripts the provider runs, in order); then the starting state is restored and the operation runs
 * again with the fault switched on just before the chosen step and off just after it. Each case must show:
 *   1. the fault bites with the expected typed error (an RdsError code, or an init failure whose message
 *      ends with it), naming the host and the step; latency does not bite and changes nothing in the outcome;
 *   2. no partial state lost: when the host changed, a failed create/update is recorded (init failure
 *      carrying id + properties);
 *   3. with the fault cleared, the next up converges: it succeeds, a second up changes nothing, a
 *      refresh shows no drift (delete: the next destroy succeeds); never a second install or activation.
 *
 * Real: the three providers (TypeScript sources, in process), the runner, pool, pwsh 7, every operation
 * script, the emulator and its fault switches (set with Set-RdsSimFault through fixtures/RelAdmin.ps1).
 * Stands in: the engine (engine/engine.ts over the in-process host, through ResourceUnderTest), Windows
 * (the emulator). A spy on runner.runOperation only inserts the admin calls that switch a fault on and
 * off around the chosen step; the step itself runs unchanged. Starting states are restored by writing
 * back the host state files and the install journal (the emulator re-reads a file whose text changed).
 */
import * as fs from "fs";
import * as path from "path";
import { isRdsError } from "../../provider/errors";
import { closeAll } from "../../provider/powershell/pool";
import type { Connection } from "../../provider/powershell/transport";
import {
  ACTIVATE_METHODS,
  INSTALL_METHODS,
  initFailureOf,
  ResourceUnderTest,
  providers,
  Sim,
  strip,
  tempDir,
  type Entry,
  type Props,
  type Provider,
} from "./support";

jest.setTimeout(900_000);

// eslint-disable-next-line @typescript-eslint/no-require-imports
const runner = require("../../provider/powershell/runner") as typeof import("../../provider/powershell/runner");
const realRun = runner.runOperation;

const stateDir = tempDir("faults");
const journalDir = tempDir("faults-journal");
const P = providers();

/** The fault switches (Set-RdsSimFault), each with the codes it may produce when it bites. */
const FAULTS: { name: string; set: Props; codes: string[] }[] = [
  { name: "clearinghouseUnreachable", set: { clearinghouseUnreachable: true }, codes: ["RDS_CLEARINGHOUSE_UNREACHABLE"] },
  { name: "accessDenied", set: { accessDenied: true }, codes: ["RDS_ACCESS_DENIED"] },
  { name: "providerFailure", set: { providerFailure: true }, codes: ["RDS_WMI_ERROR"] },
  { name: "providerFailure, failureStyle exception", set: { failureStyle: "exception", providerFailure: true }, codes: ["RDS_WMI_ERROR"] },
  { name: "latencyMs 250", set: { latencyMs: 250 }, codes: [] },
  { name: "classNotReadyCalls 2", set: { classNotReadyCalls: 2 }, codes: ["RDS_CLASS_NOT_READY"] },
  { name: "activationStatusUnknown", set: { activationStatusUnknown: true }, codes: ["RDS_SCRIPT_ERROR", "RDS_NOT_ACTIVATED"] },
  {
    name: "groupPolicy (another mode and list)",
    set: { groupPolicy: { LicensingMode: 2, LicenseServers: "gp-ls1,gp-ls2" } },
    codes: ["RDS_GROUP_POLICY_CONFLICT"],
  },
];

/**
 * The slice: one case per fault kind (by FAULTS name), at the first run of `step` in `scenario`, with
 * the outcome the emulator must give there ("ok": the fault does not bite). Chosen so the real scripts
 * of all three resources, a state-changing step of each, and both failure styles are exercised.
 */
const SLICE: { scenario: string; step: string; fault: string; outcome: string }[] = [
  {
    scenario: "RdsLicenseServer create",
    step: "licenseServer.activate",
    fault: "clearinghouseUnreachable",
    outcome: "RDS_CLEARINGHOUSE_UNREACHABLE",
  },
  { scenario: "RdsCalPack delete", step: "calPack.remove", fault: "accessDenied", outcome: "RDS_ACCESS_DENIED" },
  { scenario: "RdsSessionHostLicensing update", step: "sessionHostLicensing.set", fault: "providerFailure", outcome: "RDS_WMI_ERROR" },
  { scenario: "RdsCalPack update", step: "calPack.resize", fault: "providerFailure, failureStyle exception", outcome: "RDS_WMI_ERROR" },
  { scenario: "RdsCalPack create", step: "calPack.install", fault: "latencyMs 250", outcome: "ok" },
  { scenario: "RdsLicenseServer create", step: "licenseServer.get", fault: "classNotReadyCalls 2", outcome: "RDS_CLASS_NOT_READY" },
  { scenario: "RdsLicenseServer delete", step: "licenseServer.deactivate", fault: "activationStatusUnknown", outcome: "RDS_SCRIPT_ERROR" },
  {
    scenario: "RdsSessionHostLicensing create",
    step: "sessionHostLicensing.read",
    fault: "groupPolicy (another mode and list)",
    outcome: "RDS_GROUP_POLICY_CONFLICT",
  },
];

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

// ---- fault injection around one step -------------------------------------------------------------------

interface Injection {
  sim: Sim;
  /** Step index to fault (-1: none); steps seen so far. */
  at: number;
  faults: Props;
  seen: { op: string; host: string }[];
}
/** Active injection per host (each pipeline uses its own hosts). */
const injections = new Map<string, Injection>();

beforeAll(() => {
  process.env.RDS_JOURNAL_DIR = journalDir;
  jest.spyOn(runner, "runOperation").mockImplementation((async (connection: Connection, op: { name: string }) => {
    const inj = op.name.startsWith("test.") ? undefined : injections.get(connection.host.toLowerCase());
    if (!inj) return realRun(connection, op as never);
    const index = inj.seen.length;
    inj.seen.push({ op: op.name, host: connection.host });
    if (index !== inj.at) return realRun(connection, op as never);
    await inj.sim.faults(connection.host, inj.faults);
    try {
      return await realRun(connection, op as never);
    } finally {
      await inj.sim.admin({ action: "clearFaults", host: connection.host });
    }
  }) as never);
});

afterAll(async () => {
  jest.restoreAllMocks();
  await closeAll();
  delete process.env.RDS_JOURNAL_DIR;
  for (const d of [stateDir, journalDir]) fs.rmSync(d, { recursive: true, force: true });
});

// ---- saved starting states -----------------------------------------------------------------------------

function hostFile(host: string): string {
  return path.join(stateDir, "hosts", `${Buffer.from(host.toLowerCase(), "utf8").toString("hex")}.json`);
}

interface Saved {
  files: Record<string, string | null>;
  journal: Record<string, string>;
  entry: Entry | undefined;
}

function save(hosts: string[], entry: Entry | undefined): Saved {
  const files: Record<string, string | null> = {};
  for (const h of hosts) files[hostFile(h)] = fs.existsSync(hostFile(h)) ? fs.readFileSync(hostFile(h), "utf8") : null;
  const journal: Record<string, string> = {};
  for (const f of fs.existsSync(journalDir) ? fs.readdirSync(journalDir) : [])
    journal[f] = fs.readFileSync(path.join(journalDir, f), "utf8");
  return { files, journal, entry: entry && JSON.parse(JSON.stringify(entry)) };
}

function restore(s: Saved, journalHosts: string[]): Entry | undefined {
  for (const [file, text] of Object.entries(s.files)) {
    if (text === null) fs.rmSync(file, { force: true });
    else fs.writeFileSync(file, text);
  }
  // Journal entries of this pipeline's hosts only (other pipelines run at the same time).
  for (const f of fs.readdirSync(journalDir)) {
    if (!f.endsWith(".json")) continue;
    const e = JSON.parse(fs.readFileSync(path.join(journalDir, f), "utf8"));
    if (journalHosts.includes(e.host)) fs.rmSync(path.join(journalDir, f));
  }
  for (const [f, text] of Object.entries(s.journal)) {
    if (!f.endsWith(".json")) continue;
    const e = JSON.parse(text);
    if (journalHosts.includes(e.host)) fs.writeFileSync(path.join(journalDir, f), text);
  }
  return s.entry && JSON.parse(JSON.stringify(s.entry));
}

/** The host's state without the fault switches (what a fault may never change by itself). */
function essence(host: string): string {
  if (!fs.existsSync(hostFile(host))) return "";
  const { faults: _f, groupPolicy: _g, ...rest } = JSON.parse(fs.readFileSync(hostFile(host), "utf8"));
  return JSON.stringify(rest);
}

// ---- scenarios -----------------------------------------------------------------------------------------

type OpKind = "create" | "update" | "read" | "delete";

interface Scenario {
  resource: string;
  op: OpKind;
  hosts: string[];
  provider: Provider;
  saved: Saved;
  desired: Props;
  steps: { op: string; host: string }[];
}

interface CaseResult {
  scenario: string;
  step: string;
  fault: string;
  outcome: "ok" | string;
  problems: string[];
}

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

function successful(sim: Sim, hosts: string[], methods: string[]): number {
  return hosts.reduce(
    (n, h) => n + sim.callRows(h).filter((r) => r.method !== null && methods.includes(r.method) && r.result === 0).length,
    0,
  );
}

/** Runs the slice's cases of a scenario; returns the results (problems empty when the case holds). */
async function runScenario(
  sim: Sim,
  sc: Scenario,
  converge: (engine: ResourceUnderTest, ctx: { fault: string; failure: unknown }) => Promise<string[]>,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const label = `${sc.resource} ${sc.op}`;
  for (const chosen of SLICE.filter((c) => c.scenario === label)) {
    const k = sc.steps.findIndex((s) => s.op === chosen.step);
    const fault = FAULTS.find((f) => f.name === chosen.fault);
    if (k < 0 || !fault) throw new Error(`slice case ${label} / ${chosen.step} / ${chosen.fault}: no such step or fault`);
    const problems: string[] = [];
    const entry = restore(sc.saved, sc.hosts);
    const engine = new ResourceUnderTest(sc.provider);
    engine.entry = entry;
    const before = sc.hosts.map(essence);
    const installsBefore = successful(sim, sc.hosts, INSTALL_METHODS);
    const activationsBefore = successful(sim, sc.hosts, ACTIVATE_METHODS);
    const inj: Injection = { sim, at: k, faults: fault.set, seen: [] };
    for (const h of sc.hosts) injections.set(h, inj);
    let failure: unknown;
    try {
      await act(engine, sc.op, sc.desired);
    } catch (e) {
      failure = e;
    } finally {
      for (const h of sc.hosts) injections.delete(h);
    }
    const step = sc.steps[k];
    const faulted = inj.seen[k];
    let outcome = "ok";
    if (failure !== undefined) {
      const info = errorInfo(failure);
      outcome = info.code ?? "untyped";
      if (!info.code) problems.push(`untyped error: ${info.message}`);
      else if (!fault.codes.includes(info.code))
        problems.push(`code ${info.code} is not one of [${fault.codes.join(", ")}]: ${info.message}`);
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
      const changed = sc.hosts.some((h, i) => essence(h) !== before[i]);
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
    const installs = successful(sim, sc.hosts, INSTALL_METHODS) - installsBefore;
    const activations = successful(sim, sc.hosts, ACTIVATE_METHODS) - activationsBefore;
    if (installs > 1) problems.push(`${installs} successful Install* calls`);
    if (activations > 1) problems.push(`${activations} successful Activate* calls`);
    results.push({ scenario: label, step: `${k}:${step.op}`, fault: fault.name, outcome, problems });
  }
  return results;
}

/** Faults that must bite at a step (so a success there is a bug, not luck). */
const MUST_BITE: Record<string, string[]> = {
  accessDenied: [
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
  ],
  providerFailure: [
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
  ],
  clearinghouseUnreachable: ["licenseServer.deactivate", "calPack.install"],
  groupPolicy: ["sessionHostLicensing.set"],
};

function isBiting(fault: string, op: string, sc: Scenario): boolean {
  const key = Object.keys(MUST_BITE).find((k) => fault.startsWith(k));
  if (key === "clearinghouseUnreachable" && op === "licenseServer.activate") return sc.op === "create"; // automatic; web needs no Clearinghouse
  return key !== undefined && MUST_BITE[key].includes(op);
}

// ---- the three pipelines ---------------------------------------------------------------------------------

async function record(engine: ResourceUnderTest, op: OpKind, desired: Props, hosts: string[]): Promise<{ op: string; host: string }[]> {
  const inj: Injection = { sim: undefined as unknown as Sim, at: -1, faults: {}, seen: [] };
  for (const h of hosts) injections.set(h, inj);
  try {
    await act(engine, op, desired);
  } finally {
    for (const h of hosts) injections.delete(h);
  }
  return inj.seen;
}

const CONTACT = { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" };

async function licenseServerPipeline(): Promise<CaseResult[]> {
  const sim = new Sim(stateDir);
  (sim as { adminConnection: Connection }).adminConnection = { transport: "simulator", host: "rel-admin-ls.invalid", stateDir };
  const host = "ls-fault.contoso.com";
  const hosts = [host];
  const conn = sim.conn(host);
  const automatic = { connection: conn, contact: CONTACT, activation: { method: "automatic" } };
  const web = { connection: conn, contact: CONTACT, activation: { method: "web" } };
  await sim.reset(host);
  await sim.config(host, { osVersion: "2022" });
  const fresh = save(hosts, undefined);
  const scenarios: Scenario[] = [];

  // create: install, wait, get, set, activate, get
  let e = new ResourceUnderTest(P.licenseServer);
  let steps = await record(e, "create", automatic, hosts);
  scenarios.push({ resource: "RdsLicenseServer", op: "create", hosts, provider: P.licenseServer, saved: fresh, desired: automatic, steps });
  const activated = save(hosts, e.entry);
  // read: get
  steps = await record(e, "read", automatic, hosts);
  scenarios.push({
    resource: "RdsLicenseServer",
    op: "read",
    hosts,
    provider: P.licenseServer,
    saved: activated,
    desired: automatic,
    steps,
  });
  // delete with deactivateOnDelete: deactivate
  const deactivating = { ...automatic, deactivateOnDelete: true };
  restore(fresh, hosts);
  e = new ResourceUnderTest(P.licenseServer);
  await e.up(deactivating);
  const toDelete = save(hosts, e.entry);
  steps = await record(e, "delete", deactivating, hosts);
  scenarios.push({
    resource: "RdsLicenseServer",
    op: "delete",
    hosts,
    provider: P.licenseServer,
    saved: toDelete,
    desired: deactivating,
    steps,
  });
  // update: a web activation pending -> the license server id given and the company changed
  restore(fresh, hosts);
  e = new ResourceUnderTest(P.licenseServer);
  await e.up(web);
  const pending = save(hosts, e.entry);
  const id = await sim.licenseServerId(String(e.entry!.outputs.productId));
  const webDone = { connection: conn, contact: { ...CONTACT, company: "Contoso Ltd" }, activation: { method: "web", licenseServerId: id } };
  steps = await record(e, "update", webDone, hosts);
  scenarios.push({ resource: "RdsLicenseServer", op: "update", hosts, provider: P.licenseServer, saved: pending, desired: webDone, steps });

  const results: CaseResult[] = [];
  for (const sc of scenarios) {
    results.push(
      ...(await runScenario(sim, sc, async (engine) => {
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
        await engine.up(sc.desired);
        const second = await engine.up(sc.desired);
        if (second !== "same") problems.push(`second up: ${second}`);
        const r = await engine.refresh();
        if (r.op !== "same") problems.push(`refresh shows ${r.op}`);
        if (strip(engine.entry!.outputs).activationStatus !== "activated")
          problems.push(`activationStatus ${String(engine.entry!.outputs.activationStatus)}`);
        return problems;
      })),
    );
  }
  return results;
}

async function calPackPipeline(): Promise<CaseResult[]> {
  const sim = new Sim(stateDir);
  (sim as { adminConnection: Connection }).adminConnection = { transport: "simulator", host: "rel-admin-cp.invalid", stateDir };
  const host = "ls-pack.contoso.com";
  const hosts = [host];
  const conn = sim.conn(host);
  await sim.reset(host);
  await sim.prepareLicenseServer(host, [], "2022");
  const fresh = save(hosts, undefined);
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
  const scenarios: Scenario[] = [];
  const e = new ResourceUnderTest(P.calPack);
  let steps = await record(e, "create", desired, hosts);
  scenarios.push({ resource: "RdsCalPack", op: "create", hosts, provider: P.calPack, saved: fresh, desired, steps });
  const installed = save(hosts, e.entry);
  steps = await record(e, "read", desired, hosts);
  scenarios.push({ resource: "RdsCalPack", op: "read", hosts, provider: P.calPack, saved: installed, desired, steps });
  steps = await record(e, "update", shrunk, hosts);
  scenarios.push({ resource: "RdsCalPack", op: "update", hosts, provider: P.calPack, saved: installed, desired: shrunk, steps });
  restore(installed, hosts);
  e.entry = installed.entry && JSON.parse(JSON.stringify(installed.entry));
  steps = await record(e, "delete", desired, hosts);
  scenarios.push({ resource: "RdsCalPack", op: "delete", hosts, provider: P.calPack, saved: installed, desired, steps });

  const results: CaseResult[] = [];
  for (const sc of scenarios) {
    results.push(
      ...(await runScenario(sim, sc, async (engine) => {
        const problems: string[] = [];
        const h0 = await sim.host(host);
        if (sc.op === "delete") {
          if (engine.entry) await engine.destroy();
          const packs = (await sim.host(host)).licenseServer.keyPacks.filter((p) => p.KeyPackId !== 2);
          if (packs.length !== 0) problems.push(`${packs.length} packs left after the delete converged`);
          return problems;
        }
        void h0;
        if (sc.op === "read") await engine.refresh();
        await engine.up(sc.desired);
        const second = await engine.up(sc.desired);
        if (second !== "same") problems.push(`second up: ${second}`);
        const r = await engine.refresh();
        if (r.op !== "same") problems.push(`refresh shows ${r.op}`);
        const packs = (await sim.host(host)).licenseServer.keyPacks.filter((p) => p.KeyPackId !== 2);
        if (packs.length !== 1) problems.push(`${packs.length} packs on the server, 1 in state`);
        else if (String(packs[0].KeyPackId) !== engine.entry!.id)
          problems.push(`pack #${packs[0].KeyPackId} on the server, #${engine.entry!.id} in state`);
        else if (packs[0].TotalLicenses !== sc.desired.quantity) problems.push(`pack holds ${packs[0].TotalLicenses} CALs`);
        return problems;
      })),
    );
  }
  return results;
}

async function sessionHostPipeline(): Promise<CaseResult[]> {
  const sim = new Sim(stateDir);
  (sim as { adminConnection: Connection }).adminConnection = { transport: "simulator", host: "rel-admin-sh.invalid", stateDir };
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
  const fresh = save(hosts, undefined);
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
  const updated = { ...created, mode: "perDevice", licenseServers: [lsHost, "ls2.contoso.com"], calPacks: [ref(devicePack, "perDevice")] };
  const scenarios: Scenario[] = [];
  const e = new ResourceUnderTest(P.sessionHost);
  let steps = await record(e, "create", created, hosts);
  scenarios.push({
    resource: "RdsSessionHostLicensing",
    op: "create",
    hosts,
    provider: P.sessionHost,
    saved: fresh,
    desired: created,
    steps,
  });
  const configured = save(hosts, e.entry);
  steps = await record(e, "read", created, hosts);
  scenarios.push({
    resource: "RdsSessionHostLicensing",
    op: "read",
    hosts,
    provider: P.sessionHost,
    saved: configured,
    desired: created,
    steps,
  });
  steps = await record(e, "update", updated, hosts);
  scenarios.push({
    resource: "RdsSessionHostLicensing",
    op: "update",
    hosts,
    provider: P.sessionHost,
    saved: configured,
    desired: updated,
    steps,
  });
  restore(configured, hosts);
  e.entry = configured.entry && JSON.parse(JSON.stringify(configured.entry));
  steps = await record(e, "delete", created, hosts);
  scenarios.push({
    resource: "RdsSessionHostLicensing",
    op: "delete",
    hosts,
    provider: P.sessionHost,
    saved: configured,
    desired: created,
    steps,
  });

  const results: CaseResult[] = [];
  for (const sc of scenarios) {
    results.push(
      ...(await runScenario(sim, sc, async (engine, ctx) => {
        const problems: string[] = [];
        if (sc.op === "delete") {
          if (engine.entry) await engine.destroy();
          const h = await sim.host(host);
          // Documented: a list that a Group Policy sets is left alone by the reset (the policy was on at that step).
          const leftAlone = ctx.fault.startsWith("groupPolicy") && ctx.failure === undefined;
          if (!leftAlone && h.sessionHost.specifiedLicenseServers.length !== 0)
            problems.push("license server list not reset after the delete converged");
          return problems;
        }
        if (sc.op === "read") await engine.refresh();
        await engine.up(sc.desired);
        const second = await engine.up(sc.desired);
        if (second !== "same") problems.push(`second up: ${second}`);
        const r = await engine.refresh();
        if (r.op !== "same") problems.push(`refresh shows ${r.op}`);
        const out = strip(engine.entry!.outputs);
        if (out.effectiveMode !== sc.desired.mode) problems.push(`effectiveMode ${String(out.effectiveMode)}`);
        return problems;
      })),
    );
  }
  return results;
}

// ---- the table ------------------------------------------------------------------------------------------

let results: CaseResult[] = [];

beforeAll(async () => {
  const started = Date.now();
  const all = await Promise.all([licenseServerPipeline(), calPackPipeline(), sessionHostPipeline()]);
  results = all.flat();

  console.log(`faults (real slice): ${results.length} cases in ${Math.round((Date.now() - started) / 1000)} s`);
});

describe("one case per fault kind, through real pwsh and the emulator's fault injection", () => {
  test("the slice has every fault kind once, and each case ran", () => {
    expect(SLICE.map((c) => c.fault).sort()).toEqual(FAULTS.map((f) => f.name).sort());
    expect(results.map((r) => r.fault).sort()).toEqual(FAULTS.map((f) => f.name).sort());
  });

  for (const c of SLICE) {
    test(`${c.scenario}, ${c.fault} at ${c.step}: ${c.outcome === "ok" ? "no bite" : c.outcome}, nothing lost, converges once cleared`, () => {
      const mine = results.find((r) => r.scenario === c.scenario && r.fault === c.fault);
      expect(mine).toBeDefined();
      expect({ step: mine!.step.replace(/^\d+:/, ""), outcome: mine!.outcome, problems: mine!.problems }).toEqual({
        step: c.step,
        outcome: c.outcome,
        problems: [],
      });
    });
  }
});
