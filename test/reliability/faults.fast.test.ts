/**
 * Reliability: the fault matrix, in process. Every fault switch of the emulator at every step of
 * every resource's create, update, read and delete (table: resource x operation x step x fault).
 *
 * For each (resource, operation) the steps are recorded from a clean run (the operation scripts the
 * provider runs, in order). Then, for every step and every fault, the same starting state is restored
 * and the operation runs again with the fault switched on just before that step and off just after it.
 * Each case must show:
 *   1. a fault that bites gives a typed error (an RdsError code, or an init failure whose message ends
 *      with it) of the fault's kind, naming the host and the step; a fault that does not bite changes
 *      nothing in the outcome;
 *   2. no partial state lost: when the host changed, a failed create/update is recorded (init failure
 *      carrying id + properties);
 *   3. with the fault cleared, the next up converges: it succeeds, a second up changes nothing, a
 *      refresh shows no drift (delete: the next destroy succeeds); never a second install or activation.
 *
 * The faults: clearinghouseUnreachable, accessDenied, providerFailure (failureStyle return and
 * exception), classNotReadyCalls, activationStatusUnknown, and a Group Policy appearing out of band.
 * Not here: latencyMs. The fake world has no clock, so a latency case would pass without testing
 * anything; faults.test.ts runs it through real pwsh and the emulator.
 *
 * Real: the three providers (TypeScript sources, in process), their check/diff/create/read/update/
 * delete, the calPack install journal (files in a temporary RDS_JOURNAL_DIR), the runner's validation,
 * error typing and result validation (runOperation around the FakeRunner's core).
 * Stands in: the engine (engine/engine.ts over the in-process host, through ResourceUnderTest in
 * ./support); pwsh, the operation scripts and the emulator with its fault switches (the FakeWorld
 * behind the FakeRunner, test/fake/, held to the emulator's recorded answers, faults included, by
 * test/fake/world.contract.test.ts). The faults are switched with the admin's own action (RelAdmin.ps1's
 * `faults` and `clearFaults`, answered by the fake world) by a wrapper around the FakeRunner's core;
 * the step itself runs unchanged. Installs and activations are counted from the world around each
 * operation script (key pack ids handed out; the server going from not activated to activated, or a
 * reactivation). The install journal's key stretching (scrypt, 50-100 ms a fingerprint by design) is
 * a keyed SHA-256 here: only the cost of a fingerprint is cut. Nothing here depends on the clock.
 *
 * faults.test.ts keeps a thin slice of this matrix (one case per fault kind) through real pwsh and
 * the emulator's own fault injection.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { isRdsError } from "../../provider/errors";
import { resetOperationRunner, setOperationRunner, type OperationRunner } from "../../provider/powershell/runner";
import type { FakeHost } from "../fake/host";
import { FakeRunner } from "../fake/runner";
import { initFailureOf, ResourceUnderTest, providers, Sim, strip, tempDir, type Entry, type Props, type Provider } from "./support";

jest.setTimeout(300_000);

const STATE_DIR = path.join(tempDir("faults-fast"), "never-written");
// The install journal fsyncs every entry: on a RAM disk when there is one, so the disk does not set the pace.
const journalDir = fs.existsSync("/dev/shm") ? fs.mkdtempSync("/dev/shm/rel-faults-fast-journal-") : tempDir("faults-fast-journal");
const P = providers();
const fake = new FakeRunner();
const world = fake.world;

/** The fault switches (Set-RdsSimFault), each with the codes it may produce when it bites. */
const FAULTS: { name: string; set: Props; codes: string[] }[] = [
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

// ---- fault injection around one step, and what each step did --------------------------------------

interface Injection {
  /** Step index to fault (-1: none). */
  at: number;
  faults: Props;
  /** Steps seen so far. */
  seen: { op: string; host: string }[];
}
/** Active injection per host (lower case). */
const injections = new Map<string, Injection>();

/** Successful Install* and Activate* calls per host (lower case), counted around each operation script. */
const installs = new Map<string, number>();
const activations = new Map<string, number>();

/** One admin action on the fake world (as RelAdmin.ps1); a refused one fails the test setup loudly. */
function adminOnWorld(args: Props): void {
  const doc = world.admin(args);
  if (!doc.ok) throw new Error(`admin ${String(args.action)} refused: ${doc.error.message}`);
}

/** The FakeRunner's core, with the fault switched on around the chosen step and the effects counted. */
const injectingCore: OperationRunner = async (connection, call) => {
  if (call.name.startsWith("test.")) return fake.core(connection, call);
  const key = connection.host.toLowerCase();
  const inj = injections.get(key);
  const index = inj ? inj.seen.push({ op: call.name, host: connection.host }) - 1 : -1;
  const faulted = inj !== undefined && index === inj.at;
  if (faulted) adminOnWorld({ action: "faults", host: connection.host, faults: inj.faults });
  const before = countable(world.peek(connection.host));
  try {
    return await fake.core(connection, call);
  } finally {
    const after = countable(world.peek(connection.host));
    installs.set(key, (installs.get(key) ?? 0) + after.keyPackIds - before.keyPackIds);
    const activated = (!before.activated && after.activated) || after.reactivations > before.reactivations;
    if (activated) activations.set(key, (activations.get(key) ?? 0) + 1);
    if (faulted) adminOnWorld({ action: "clearFaults", host: connection.host });
  }
};

/** What the install and activation counts are taken from (key pack ids start at 3, one per install). */
function countable(h: FakeHost | undefined): { keyPackIds: number; activated: boolean; reactivations: number } {
  return h
    ? { keyPackIds: h.licenseServer.nextKeyPackId, activated: h.licenseServer.activated, reactivations: h.licenseServer.reactivations }
    : { keyPackIds: 3, activated: false, reactivations: 0 };
}

const total = (counts: Map<string, number>, hosts: string[]) => hosts.reduce((n, h) => n + (counts.get(h.toLowerCase()) ?? 0), 0);

beforeAll(() => {
  process.env.RDS_JOURNAL_DIR = journalDir;
  setOperationRunner(injectingCore);
  // The module object itself (an `import * as` namespace has read-only bindings).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: the mutable module object
  jest.spyOn(require("crypto") as typeof crypto, "scrypt").mockImplementation(((
    password: crypto.BinaryLike,
    salt: crypto.BinaryLike,
    keylen: number,
    _options: unknown,
    done: (err: Error | null, key: Buffer) => void,
  ) => {
    done(
      null,
      crypto
        .createHmac("sha256", salt as Buffer)
        .update(password as string)
        .digest()
        .subarray(0, keylen),
    );
  }) as unknown as typeof crypto.scrypt);
});

afterAll(() => {
  jest.restoreAllMocks();
  resetOperationRunner();
  delete process.env.RDS_JOURNAL_DIR;
  fs.rmSync(journalDir, { recursive: true, force: true });
  fs.rmSync(path.dirname(STATE_DIR), { recursive: true, force: true });
});

// ---- saved starting states -----------------------------------------------------------------------

interface Saved {
  /** Each host's state (null: the host did not exist). */
  hosts: Record<string, FakeHost | null>;
  journal: Record<string, string>;
  entry: Entry | undefined;
}

const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

function save(hosts: string[], entry: Entry | undefined): Saved {
  const saved: Record<string, FakeHost | null> = {};
  for (const h of hosts) {
    const live = world.peek(h);
    saved[h] = live ? copy(live) : null;
  }
  const journal: Record<string, string> = {};
  for (const f of fs.existsSync(journalDir) ? fs.readdirSync(journalDir) : [])
    journal[f] = fs.readFileSync(path.join(journalDir, f), "utf8");
  return { hosts: saved, journal, entry: entry && copy(entry) };
}

function restore(s: Saved, journalHosts: string[]): Entry | undefined {
  for (const [name, state] of Object.entries(s.hosts)) {
    world.forget(name);
    if (state) Object.assign(world.host(name), copy(state));
  }
  // Journal entries of this pipeline's hosts only.
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
  return s.entry && copy(s.entry);
}

/** The host's state without the fault switches (what a fault may never change by itself). */
function essence(host: string): string {
  const h = world.peek(host);
  if (!h) return "";
  const { faults: _f, groupPolicy: _g, ...rest } = h;
  return JSON.stringify(rest);
}

// ---- scenarios -----------------------------------------------------------------------------------

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

/** Runs every (step, fault) case of a scenario; returns the results (problems empty when the case holds). */
async function runScenario(
  sc: Scenario,
  converge: (engine: ResourceUnderTest, ctx: { fault: string; failure: unknown }) => Promise<string[]>,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (let k = 0; k < sc.steps.length; k++) {
    for (const fault of FAULTS) {
      const problems: string[] = [];
      const label = `${sc.resource} ${sc.op}`;
      const entry = restore(sc.saved, sc.hosts);
      const engine = new ResourceUnderTest(sc.provider);
      engine.entry = entry;
      const before = sc.hosts.map(essence);
      const installsBefore = total(installs, sc.hosts);
      const activationsBefore = total(activations, sc.hosts);
      const inj: Injection = { at: k, faults: fault.set, seen: [] };
      for (const h of sc.hosts) injections.set(h.toLowerCase(), inj);
      let failure: unknown;
      try {
        await act(engine, sc.op, sc.desired);
      } catch (e) {
        failure = e;
      } finally {
        for (const h of sc.hosts) injections.delete(h.toLowerCase());
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
      const installed = total(installs, sc.hosts) - installsBefore;
      const activated = total(activations, sc.hosts) - activationsBefore;
      if (installed > 1) problems.push(`${installed} successful Install* calls`);
      if (activated > 1) problems.push(`${activated} successful Activate* calls`);
      results.push({ scenario: label, step: `${k}:${step.op}`, fault: fault.name, outcome, problems });
    }
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

// ---- the three pipelines ---------------------------------------------------------------------------

async function record(engine: ResourceUnderTest, op: OpKind, desired: Props, hosts: string[]): Promise<{ op: string; host: string }[]> {
  const inj: Injection = { at: -1, faults: {}, seen: [] };
  for (const h of hosts) injections.set(h.toLowerCase(), inj);
  try {
    await act(engine, op, desired);
  } finally {
    for (const h of hosts) injections.delete(h.toLowerCase());
  }
  return inj.seen;
}

const CONTACT = { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" };

async function licenseServerPipeline(sim: Sim): Promise<CaseResult[]> {
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
      ...(await runScenario(sc, async (engine) => {
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

async function calPackPipeline(sim: Sim): Promise<CaseResult[]> {
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
  e.entry = installed.entry && copy(installed.entry);
  steps = await record(e, "delete", desired, hosts);
  scenarios.push({ resource: "RdsCalPack", op: "delete", hosts, provider: P.calPack, saved: installed, desired, steps });

  const results: CaseResult[] = [];
  for (const sc of scenarios) {
    results.push(
      ...(await runScenario(sc, async (engine) => {
        const problems: string[] = [];
        if (sc.op === "delete") {
          if (engine.entry) await engine.destroy();
          const packs = (await sim.host(host)).licenseServer.keyPacks.filter((p) => p.KeyPackId !== 2);
          if (packs.length !== 0) problems.push(`${packs.length} packs left after the delete converged`);
          return problems;
        }
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

async function sessionHostPipeline(sim: Sim): Promise<CaseResult[]> {
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
  e.entry = configured.entry && copy(configured.entry);
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
      ...(await runScenario(sc, async (engine, ctx) => {
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

// ---- the table --------------------------------------------------------------------------------------

let results: CaseResult[] = [];

beforeAll(async () => {
  // The admin's actions (setup, inspection) go to the same fake world, through the same runner.
  const sim = new Sim(STATE_DIR);
  // One pipeline at a time: the world and the journal directory are shared.
  results = [...(await licenseServerPipeline(sim)), ...(await calPackPipeline(sim)), ...(await sessionHostPipeline(sim))];
  console.log(`faults (in process): ${results.length} cases`);
});

describe("every fault switch at every step of create, update, read and delete (in process, over the fake world)", () => {
  test("the table covers the three resources, their four operations, and every fault switch", () => {
    const scenarios = new Set(results.map((r) => r.scenario));
    expect(scenarios.size).toBe(12);
    const faults = new Set(results.map((r) => r.fault));
    expect(faults.size).toBe(FAULTS.length);
    // Faults bite somewhere (the table is not vacuous).
    for (const f of FAULTS.filter((x) => x.codes.length > 0)) {
      expect(results.filter((r) => r.fault === f.name && r.outcome !== "ok").length).toBeGreaterThan(0);
    }
  });

  for (const resource of ["RdsLicenseServer", "RdsCalPack", "RdsSessionHostLicensing"]) {
    for (const op of ["create", "update", "read", "delete"]) {
      test(`${resource} ${op}: typed errors naming host and step, nothing lost, converges once cleared`, () => {
        const mine = results.filter((r) => r.scenario === `${resource} ${op}`);
        expect(mine.length).toBeGreaterThan(0);
        const bad = mine
          .filter((r) => r.problems.length > 0)
          .map((r) => `[${r.step} | ${r.fault} -> ${r.outcome}] ${r.problems.join(" / ")}`);
        expect(bad).toEqual([]);
      });
    }
  }
});
