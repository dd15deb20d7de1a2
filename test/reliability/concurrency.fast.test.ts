/**
 * Reliability: concurrency at the provider level, in process. 50 RdsCalPack creates at once (distinct
 * declarations) on one license server, and spread over ten license servers: every pack is installed
 * exactly once, each is in its own resource's outputs with its declared size, none is lost, and no
 * create adopts or refuses because of another create's pack.
 *
 * The order in which the creates' operations reach a server is chosen by a fast-check scheduler (each
 * operation script waits for the scheduler before it runs, so both the order of the effects and the
 * order of the answers vary; shrinking is on and a failure prints the order that broke it). Each
 * operation runs whole on the world before the next one starts: that is the guarantee the pool's
 * per-target FIFO gives (one operation at a time per target). The FIFO itself is the pool's, proven
 * by test/powershell/pool.fast.test.ts (operations queued at once on one target run one at a time, in
 * queue order, also on shared workers with a worker free) and, with real pwsh at the emulator level
 * (read-modify-writes, no lost update, none inside another), by concurrency.test.ts.
 *
 * Real: the CAL pack provider (TypeScript sources, in process: check, create, its install journal in a
 * temporary RDS_JOURNAL_DIR), the runner's validation and result typing.
 * Stands in: the engine (creates called directly, as the engine does for independent resources with
 * --parallel); pwsh, the pool, the operation scripts and Windows (the FakeWorld behind the FakeRunner,
 * test/fake/, held to the emulator's recorded answers by test/fake/world.contract.test.ts); the
 * journal's key stretching (scrypt, 50-100 ms a fingerprint by design) is a keyed SHA-256 here: only
 * the cost of a fingerprint is cut. Nothing here depends on the clock.
 */
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { resetOperationRunner, setOperationRunner, type OperationRunner } from "../../provider/powershell/runner";
import { useFastJournal } from "../fake/fastJournal";
import { FakeRunner } from "../fake/runner";
import { providers, Sim, strip, type Props } from "./support";

jest.setTimeout(300_000);

const N = 50;
const RUNS = Number(process.env.REL_FAST_RUNS ?? 10);
const { stateDir: STATE_DIR, journalDir } = useFastJournal("concurrency-fast");
const P = providers();
const ONE_HOST = ["one.contoso.com"];
const TEN_HOSTS = Array.from({ length: 10 }, (_, i) => `many${i}.contoso.com`);

const SCRIPT = /[\\/]resources[\\/](\w+)[\\/](\w+)\.ps1$/;

/** One operation script as it ran on the world. */
interface OpRecord {
  op: string;
  host: string;
  ok: boolean;
  result: unknown;
}

/** The world of one run, and the scheduler its operations wait for (none during setup). */
let current: { runner: FakeRunner; ops: OpRecord[]; scheduler?: fc.Scheduler } | undefined;

const scheduledCore: OperationRunner = async (connection, call) => {
  const run = current!;
  const which = SCRIPT.exec(call.script);
  const op = which ? `${which[1]}/${which[2]}` : path.basename(call.script);
  // The scheduler decides when this operation's script runs, relative to every other pending one.
  if (run.scheduler) await run.scheduler.schedule(Promise.resolve(), `${op} on ${connection.host}`);
  const outcome = await run.runner.core(connection, call);
  run.ops.push({
    op,
    host: connection.host,
    ok: outcome.document.ok,
    result: outcome.document.ok ? outcome.document.result : outcome.document.error,
  });
  return outcome;
};

beforeAll(() => {
  setOperationRunner(scheduledCore);
});

afterAll(() => {
  resetOperationRunner();
  current = undefined;
});

interface Declaration extends Props {
  connection: { transport: "simulator"; host: string; stateDir: string };
  quantity: number;
}

/** N creates at once, their operations ordered by `scheduler`; returns the declarations and what each create returned. */
async function createsAtOnce(hosts: string[], scheduler: fc.Scheduler) {
  fs.rmSync(journalDir, { recursive: true, force: true });
  current = { runner: new FakeRunner(), ops: [] };
  const sim = new Sim(STATE_DIR);
  for (const h of hosts) await sim.prepareLicenseServer(h, [], "2022");
  current.scheduler = scheduler;
  const decls: Declaration[] = Array.from({ length: N }, (_, i) => ({
    connection: { transport: "simulator", host: hosts[i % hosts.length], stateDir: STATE_DIR },
    journalKey: `proj/stack/pack${i}`,
    program: "enterpriseAgreement",
    agreementNumber: String(1_000_000 + i),
    productVersion: "2022",
    calType: i % 2 ? "perUser" : "perDevice",
    quantity: i + 1,
  }));
  const all = Promise.all(
    decls.map(async (d) => {
      const checked = await P.calPack.check({}, d);
      if (checked.failures?.length) throw new Error(`check failed: ${JSON.stringify(checked.failures)}`);
      return P.calPack.create(strip(checked.inputs!));
    }),
  );
  const made = await scheduler.waitFor(all);
  return { decls, made, world: current.runner.world, ops: current.ops };
}

/** Every pack installed once, each in its own outputs with its size, none lost; throws with the reason. */
function expectEveryPackOnce(hosts: string[], run: Awaited<ReturnType<typeof createsAtOnce>>): void {
  const { decls, made, world, ops } = run;
  // Key pack ids are per server: a pack is its server and its id.
  const distinct = new Set(made.map((m, i) => `${decls[i].connection.host}#${m.id}`)).size;
  if (distinct !== N) throw new Error(`${distinct} distinct packs for ${N} creates`);
  made.forEach((m, i) => {
    const host = decls[i].connection.host;
    const p = world.view(host).licenseServer.keyPacks.find((x) => String(x.KeyPackId) === m.id);
    if (!p) throw new Error(`pack #${m.id} of create ${i} is not on ${host}`);
    if (p.TotalLicenses !== decls[i].quantity)
      throw new Error(`pack #${m.id} of create ${i} holds ${p.TotalLicenses} CALs, ${decls[i].quantity} declared`);
    const outs = strip(m.outs!);
    if (outs.totalLicenses !== decls[i].quantity)
      throw new Error(`create ${i}'s outputs say ${String(outs.totalLicenses)} CALs, ${decls[i].quantity} declared`);
  });
  for (const h of hosts) {
    const packs = world.view(h).licenseServer.keyPacks.filter((p) => p.KeyPackId !== 2);
    const installs = ops.filter((o) => o.host === h && o.op === "calPack/install");
    const want = N / hosts.length;
    if (packs.length !== want) throw new Error(`${packs.length} packs on ${h}, ${want} created there`);
    // (prepareLicenseServer installs no pack: every install here is one of the creates)
    if (installs.length !== want || installs.some((o) => !o.ok))
      throw new Error(`${installs.length} installs on ${h} (${installs.filter((o) => !o.ok).length} failed), want ${want}, all ok`);
    if (world.host(h).licenseServer.nextKeyPackId - 3 !== want)
      throw new Error(`${world.host(h).licenseServer.nextKeyPackId - 3} key pack ids handed out on ${h}, want ${want}`);
  }
}

const params = (seedOffset: number) => ({
  numRuns: RUNS,
  ...(process.env.REL_SEED ? { seed: Number(process.env.REL_SEED) + seedOffset } : {}),
});

describe("provider level: CAL pack creates at once, in every order the scheduler picks (in process, over the fake world)", () => {
  test(`${N} creates on one license server: ${N} packs, each installed once, none lost (${RUNS} orders)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        expectEveryPackOnce(ONE_HOST, await createsAtOnce(ONE_HOST, s));
      }),
      params(0),
    );
  });

  test(`${N} creates over ten license servers: five packs each, each installed once, none lost (${RUNS} orders)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        expectEveryPackOnce(TEN_HOSTS, await createsAtOnce(TEN_HOSTS, s));
      }),
      params(1),
    );
  });
});
