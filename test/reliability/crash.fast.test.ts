/**
 * Reliability: crashes, in process, every point. The provider host "dies" at each point of a
 * multi-resource `pulumi up` and the next up, on a fresh host over the persisted state, must converge
 * without a double install, a double activation or an orphaned pack; a second up then changes nothing
 * (no step, the hosts unchanged) and a refresh shows no drift.
 *
 * The points, taken from a clean run of the same program:
 * - before each operation script (the one before it done, it never started);
 * - during each state-changing operation script (install, set, activate, deactivate; calPack install,
 *   resize, remove; session host set, reset): its effect applied in the world, its result never returned;
 * - after each Create and Update the provider finished: its answer never reaches the engine (the
 *   engine's state write is lost). For a CAL pack that is "lost state" by design: the journal says
 *   the engine got the pack, so the next create refuses with RDS_AMBIGUOUS_PACK naming it (never a
 *   silent adoption, never a second install); that refusal is what is asserted there;
 * - after the last call (the up finished; only the restart).
 * "Dying" in process: from that moment every operation and every RPC of that host never resolves (the
 * provider code after it never runs, as in a killed process), and the engine's state is what it had
 * recorded by then (its pending operations included). The restart is a fresh in-process host and a
 * fresh engine over a copy of that state, the same world and the same install journal directory.
 *
 * The program: the RdsLicensing component (license server with automatic activation, two CAL packs,
 * the session host on the license server itself: ./crashFarm.ts), as in crash.test.ts.
 *
 * Real: the Pulumi SDK running the program (component and classes, engine/program.ts), the three
 * providers (TypeScript sources, in process), the CAL pack install journal (files in a temporary
 * RDS_JOURNAL_DIR: what makes "never installed twice" hold), the runner's validation and result typing.
 * Stands in: the Pulumi CLI engine (engine/engine.ts over engine/inProcessHost.ts, which does what the
 * dynamic-provider host does around each call); pwsh, the operation scripts and Windows (the FakeWorld
 * behind the FakeRunner, test/fake/, held to the emulator's recorded answers by
 * test/fake/world.contract.test.ts); a killed host process (calls that never resolve); the journal's
 * key stretching (scrypt, 50-100 ms a fingerprint by design) is a keyed SHA-256 here: only the cost of
 * a fingerprint is cut. test/reliability/crash.test.ts kills the real host process (SIGKILL) at the
 * points that matter most, through real pwsh and the emulator.
 *
 * Installs and activations are counted from the operations' own answers (an install that answered ok,
 * an activation that did not answer "none") and cross-checked with the world (key pack ids handed out,
 * reactivations). Nothing here depends on the clock.
 */
import * as fs from "fs";
import * as path from "path";
import { createEngine, type Engine } from "../../engine/engine";
import type { ProviderHost } from "../../engine/hostProtocol";
import { startInProcessHost } from "../../engine/inProcessHost";
import { componentResources, runProgram, type ProgramRun } from "../../engine/program";
import type { StateEntry } from "../../engine/state";
import { resetOperationRunner, setOperationRunner, type OperationRunner } from "../../provider/powershell/runner";
import { abandonLocksOfThisProcess } from "../../provider/resources/calPack/installLock";
import { RdsLicensing } from "../../provider/resources/component/rdsLicensing";
import { useFastJournal } from "../fake/fastJournal";
import { FakeRunner } from "../fake/runner";
import { crashFarmArgs } from "./crashFarm";
import { providerTableOf, providers } from "./support";

jest.setTimeout(300_000);

const HOST = "ls-crash.contoso.com";
const { stateDir: STATE_DIR, journalDir } = useFastJournal("crash-fast");
/** How long a recovery run may take before it counts as hung (a crash that left something locked). */
const HUNG_MS = 30_000;

// ---- the providers, found by the `__provider` string the SDK registers ---------------------------

const P = providers();
const providerTable = providerTableOf(P);

function program() {
  return () => componentResources(new RdsLicensing("farm", crashFarmArgs(HOST, STATE_DIR)));
}

// ---- one host "process": its life, and where it dies ---------------------------------------------

type Point =
  | { kind: "before" | "during"; op: number; why: string }
  | { kind: "lostResponse"; rpc: number; why: string }
  | { kind: "end"; why: string };

const SCRIPT = /[\\/]resources[\\/](\w+)[\\/](\w+)\.ps1$/;
/** The operation scripts that change the host (`<resource>/<script>`). */
const MUTATING = new Set([
  "licenseServer/install",
  "licenseServer/set",
  "licenseServer/activate",
  "licenseServer/deactivate",
  "calPack/install",
  "calPack/resize",
  "calPack/remove",
  "sessionHostLicensing/set",
  "sessionHostLicensing/reset",
]);

/** One operation script as it ran: which, where, and what it answered. */
interface OpRecord {
  op: string;
  mutating: boolean;
  ok: boolean;
  result: unknown;
}

/** A promise that never settles: what a caller of a killed process waits for. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/** One host process's life: counts its operations and Create/Update answers, and dies at `point`. */
class HostLife {
  private opCount = 0;
  private rpcCount = 0;
  dead = false;
  readonly died: Promise<void>;
  private markDead!: () => void;

  constructor(readonly point?: Point) {
    this.died = new Promise((resolve) => (this.markDead = resolve));
  }

  kill(): void {
    this.dead = true;
    this.markDead();
  }

  nextOp(): number {
    return this.opCount++;
  }

  nextRpc(): number {
    return this.rpcCount++;
  }
}

/** The machine the runs happen on: the world (with its recorded operations) and the host alive now. */
interface Machine {
  runner: FakeRunner;
  ops: OpRecord[];
  life: HostLife;
}
let machine: Machine | undefined;

/** The runner's core for the whole file: the machine's fake world, with the host's death applied. */
const mortalCore: OperationRunner = async (connection, call) => {
  const m = machine!;
  const life = m.life;
  if (life.dead) return never();
  const i = life.nextOp();
  const point = life.point;
  if (point?.kind === "before" && point.op === i) {
    life.kill();
    return never();
  }
  const outcome = await m.runner.core(connection, call);
  const which = SCRIPT.exec(call.script);
  const op = which ? `${which[1]}/${which[2]}` : path.basename(call.script);
  m.ops.push({
    op,
    mutating: MUTATING.has(op),
    ok: outcome.document.ok,
    result: outcome.document.ok ? outcome.document.result : outcome.document.error,
  });
  if (life.dead) return never();
  if (point?.kind === "during" && point.op === i) {
    life.kill();
    return never();
  }
  return outcome;
};

const RPCS = new Set(["getPluginInfo", "configure", "check", "diff", "create", "read", "update", "delete"]);

/** A fresh in-process host that dies with `life`: after its death no RPC answers. */
function hostFor(life: HostLife): ProviderHost {
  const inner = startInProcessHost({ providers: providerTable });
  return new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      if (!RPCS.has(key as string)) return value.bind(target);
      return async (...args: unknown[]) => {
        if (life.dead) return never();
        const answer = await value.apply(target, args);
        if (key === "create" || key === "update") {
          const j = life.nextRpc();
          if (life.point?.kind === "lostResponse" && life.point.rpc === j) life.kill();
        }
        if (life.dead) return never();
        return answer;
      };
    },
  });
}

/** What survives a crash: the engine's state as recorded (a deep copy, as a state file would hold it). */
function persisted(engine: Engine): { state: StateEntry[]; pendingOperations: Engine["pendingOperations"]; pendingDeletes: StateEntry[] } {
  return JSON.parse(
    JSON.stringify({
      state: [...engine.state.values()],
      pendingOperations: engine.pendingOperations,
      pendingDeletes: engine.pendingDeletes,
    }),
  );
}

function restoredEngine(host: ProviderHost, saved: ReturnType<typeof persisted>): Engine {
  const engine = createEngine(host);
  for (const e of saved.state) engine.state.set(e.urn, e);
  engine.pendingOperations.push(...saved.pendingOperations);
  engine.pendingDeletes.push(...saved.pendingDeletes);
  return engine;
}

/** A fresh machine (empty world, empty journal) with a host that dies at `point`. */
function freshMachine(point?: Point): Machine {
  abandonLocksOfThisProcess(journalDir);
  fs.rmSync(journalDir, { recursive: true, force: true });
  fs.mkdirSync(journalDir, { recursive: true });
  machine = { runner: new FakeRunner(), ops: [], life: new HostLife(point) };
  return machine;
}

async function withinHungLimit<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not finish within ${HUNG_MS} ms (something the crash left behind blocks it)`)),
      HUNG_MS,
    );
  });
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}

function runErrors(run: ProgramRun): string {
  return run.errors.map((e) => `${e.urn.split("::").pop()}: ${e.error.message}`).join(" | ");
}

// ---- the property -----------------------------------------------------------------------------------

function successfulInstalls(ops: OpRecord[]): number {
  return ops.filter((o) => o.op === "calPack/install" && o.ok).length;
}

function successfulActivations(ops: OpRecord[]): number {
  return ops.filter((o) => o.op === "licenseServer/activate" && o.ok && (o.result as { call?: string }).call !== "none").length;
}

/** After recovery: converged, nothing doubled, nothing orphaned. Returns what is wrong ([] when nothing). */
function convergenceProblems(m: Machine, engine: Engine): string[] {
  const problems: string[] = [];
  const world = m.runner.world;
  const h = world.view(HOST);
  if (!h.licenseServer.activated) problems.push("the license server is not activated");
  const activations = successfulActivations(m.ops);
  const reactivations = world.host(HOST).licenseServer.reactivations;
  if (activations !== 1 || reactivations !== 0)
    problems.push(`${activations} activations and ${reactivations} reactivations, want 1 and 0`);
  const installs = successfulInstalls(m.ops);
  const handedOut = world.host(HOST).licenseServer.nextKeyPackId - 3; // key pack ids start at 3, one per install
  if (installs !== 2 || handedOut !== 2)
    problems.push(`${installs} installs answered ok and ${handedOut} key pack ids handed out, want 2 and 2`);
  const onServer = h.licenseServer.keyPacks
    .filter((p) => p.KeyPackId !== 2)
    .map((p) => String(p.KeyPackId))
    .sort();
  const inState = [...engine.state.values()]
    .filter((e) => e.type.endsWith(":CalPack"))
    .map((e) => e.id)
    .sort();
  if (JSON.stringify(onServer) !== JSON.stringify(inState))
    problems.push(`packs on the server ${JSON.stringify(onServer)}, in state ${JSON.stringify(inState)} (orphaned or lost)`);
  if (h.sessionHost.licensingType !== 4) problems.push(`session host LicensingType ${h.sessionHost.licensingType}, want 4 (per user)`);
  if (engine.state.size !== 4) problems.push(`${engine.state.size} resources in state, want 4`);
  for (const e of engine.state.values())
    if (e.initErrors) problems.push(`${e.urn.split("::").pop()} has init errors: ${e.initErrors.join("; ")}`);
  return problems;
}

/**
 * A CAL pack whose Create finished but whose answer never reached the engine: the journal says
 * `returned` (the engine got it), so the next create has no proof and, finding a pack like the declared
 * one, refuses with RDS_AMBIGUOUS_PACK naming it (provider/resources/calPack/README.md, "Never
 * twice": lost state is never adopted silently). The property here: the refusal names the lost pack,
 * and nothing was installed a second time.
 */
function lostPackProblems(m: Machine, second: ProgramRun, installsBefore: number): string[] {
  const lost = [...m.ops].reverse().find((o) => o.op === "calPack/install" && o.ok)?.result as { keyPackId?: number } | undefined;
  const problems: string[] = [];
  const refusal = second.errors.map((e) => e.error.message).join(" | ");
  if (!/RDS_AMBIGUOUS_PACK/.test(refusal) || !refusal.includes(`#${lost?.keyPackId}`))
    problems.push(`the recovery up did not refuse naming pack #${lost?.keyPackId}: ${refusal || "no error"}`);
  const installs = successfulInstalls(m.ops);
  if (installs !== installsBefore) problems.push(`the recovery up installed ${installs - installsBefore} more pack(s)`);
  return problems;
}

/** Cuts a run at `point`, restarts, and returns what went wrong (empty: the property holds at this point). */
async function crashAt(point: Point): Promise<string[]> {
  const m = freshMachine(point);
  const first = m.life;
  const engine = createEngine(hostFor(first));
  const run = runProgram(engine, program());
  const ended = await Promise.race([run.then((r) => ({ run: r })), first.died.then(() => ({ run: undefined }))]);
  if (point.kind === "end") {
    if (!ended.run || ended.run.errors.length) return [`the clean up failed: ${ended.run ? runErrors(ended.run) : "it died"}`];
    first.kill(); // the idle host dies after the up
  } else if (!first.dead) return [`the run finished without reaching the point (${ended.run ? runErrors(ended.run) || "no error" : "?"})`];

  // The restart: a fresh host and engine over what the dead engine had recorded, the same world and journal.
  // A real death frees the CAL pack install lock (a dead pid's lock is taken over); in process, its holder
  // only never settles, so the lock is freed here as the death would.
  abandonLocksOfThisProcess(journalDir);
  m.life = new HostLife();
  const recovered = restoredEngine(hostFor(m.life), persisted(engine));
  const installsBefore = successfulInstalls(m.ops);
  const second = await withinHungLimit("the recovery up", runProgram(recovered, program()));
  if (point.kind === "lostResponse" && reference.rpcs[point.rpc].startsWith("Create") && reference.rpcs[point.rpc].includes(":CalPack")) {
    return lostPackProblems(m, second, installsBefore);
  }
  if (second.errors.length) return [`the recovery up failed: ${runErrors(second)}`];
  const problems = convergenceProblems(m, recovered);
  if (problems.length) return problems;

  const before = m.runner.world.hostText(HOST);
  const opsBefore = m.ops.length;
  const third = await withinHungLimit("the second up", runProgram(recovered, program()));
  const ops = third.steps.map((s) => s.op);
  if (third.errors.length || ops.some((o) => o !== "same")) return [`a second up did ${JSON.stringify(ops)} ${runErrors(third)}`];
  const drift = await withinHungLimit("the refresh", recovered.refresh());
  if (drift.some((d) => d.op !== "same")) return [`refresh shows ${JSON.stringify(drift.map((d) => [d.urn.split("::").pop(), d.op]))}`];
  if (m.runner.world.hostText(HOST) !== before) return ["the second up or the refresh changed the host"];
  const changing = m.ops.slice(opsBefore).filter((o) => o.mutating);
  if (changing.length) return [`the second up or the refresh ran ${changing.map((o) => o.op).join(", ")}`];
  return [];
}

// ---- the reference run and the points ------------------------------------------------------------

let reference: { ops: OpRecord[]; rpcs: string[]; points: Point[] };

beforeAll(async () => {
  setOperationRunner(mortalCore);

  // A clean run: its operations and its Create/Update answers give the points.
  const m = freshMachine();
  const engine = createEngine(hostFor(m.life));
  const run = await runProgram(engine, program());
  expect(runErrors(run)).toBe("");
  expect(convergenceProblems(m, engine)).toEqual([]);
  const rpcs = engine.log
    .filter((c) => c.method === "Create" || c.method === "Update")
    .map((c) => `${c.method} ${c.urn!.split("::").slice(-2).join("::")}`);
  const points: Point[] = [];
  m.ops.forEach((o, i) => {
    points.push({ kind: "before", op: i, why: `before ${o.op} (#${i + 1})` });
    if (o.mutating) points.push({ kind: "during", op: i, why: `during ${o.op} (#${i + 1})` });
  });
  rpcs.forEach((r, j) => points.push({ kind: "lostResponse", rpc: j, why: `${r} answered, the answer lost` }));
  points.push({ kind: "end", why: `after the last call (#${m.ops.length})` });
  reference = { ops: m.ops, rpcs, points };
});

afterAll(() => {
  resetOperationRunner();
  machine = undefined;
});

describe("the provider host dies at each point of a multi-resource up (in process, over the fake world)", () => {
  test("the clean run has the operations and answers to crash in", () => {
    const changing = reference.ops.filter((o) => o.mutating).map((o) => o.op);
    // The role, the contact, the activation, two packs, the session host's mode and list.
    for (const op of ["licenseServer/install", "licenseServer/activate", "calPack/install", "sessionHostLicensing/set"])
      expect(changing).toContain(op);
    expect(changing.filter((o) => o === "calPack/install")).toHaveLength(2);
    expect(reference.rpcs.filter((r) => r.startsWith("Create"))).toHaveLength(4);
  });

  test("every point: the next up on a fresh host converges, nothing doubled, nothing orphaned, then nothing to do", async () => {
    const failures: string[] = [];
    // One at a time: the program runs under the SDK's (process-wide) mocks.
    for (const point of reference.points) {
      const problems = await crashAt(point);
      failures.push(...problems.map((p) => `${point.why}: ${p}`));
    }
    console.log(
      `crash points: ${reference.points.length} (${reference.ops.length} operations, ${reference.rpcs.length} Create/Update answers in a clean up)`,
    );
    expect(failures).toEqual([]);
  });
});
