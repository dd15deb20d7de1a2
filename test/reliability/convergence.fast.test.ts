/**
 * Reliability: convergence, property-based, in process. For each resource, 300 random sequences (up
 * to 4 steps) of desired states, out-of-band changes and destroys; each ends with an up (after an
 * out-of-band change with a refresh first, as `pulumi up --refresh`), then a second up that changes
 * nothing (no step, the host's state unchanged) and a refresh that shows no drift, plus the resource's
 * own invariants (activated when it can be, the declared contact; one pack, the declared size, no
 * unrelated pack touched; the declared mode and list).
 *
 * Real: the three providers (TypeScript sources, in process), their check/diff/create/read/update/
 * delete, the calPack install journal (a temporary directory), the runner's error typing and result
 * validation (through the FakeRunner), secrets handling.
 * Stands in: the engine (engine/engine.ts for one resource, ResourceUnderTest in ./support, over the
 * in-process host: check -> diff -> create/update/replace/delete;
 * read -> diff for refresh); pwsh, the operation scripts and the emulator (the FakeWorld behind the
 * FakeRunner, test/fake/, held to the emulator's recorded answers by test/fake/world.contract.test.ts);
 * out-of-band changes are RelAdmin.ps1's admin actions, answered by the same fake world; the install
 * journal's key stretching (scrypt, 50-100 ms a fingerprint by design) is a keyed SHA-256 here: the
 * journal's logic is unchanged, only the cost of a fingerprint is cut.
 * test/reliability/convergence.test.ts runs the same property, fewer sequences, through real pwsh.
 *
 * Each sequence starts from a fresh world and an empty stack, so a failing one replays alone and
 * fast-check can shrink it (shrinking is on): the failure prints the shrunk counterexample, the seed
 * and the path (`REL_SEED=<seed>` replays the run). Nothing here depends on the clock.
 */
import * as fs from "fs";
import fc from "fast-check";
import { isRdsError } from "../../provider/errors";
import type { Connection } from "../../provider/powershell/transport";
import { useFastJournal } from "../fake/fastJournal";
import { FakeRunner } from "../fake/runner";
import { ResourceUnderTest, providers, Sim, strip, type Props } from "./support";
import { changeLicenseServer, changeSessionHost } from "./outOfBand";

jest.setTimeout(300_000);

const RUNS = Number(process.env.REL_FAST_RUNS ?? 300);
const { stateDir: STATE_DIR, journalDir } = useFastJournal("convergence-fast");
const P = providers();

type Step<D, O> = { up: D; refreshFirst: boolean } | { oob: O } | { destroy: true };

/** The world of one sequence: a fresh fake world, its runner installed, the admin on it. */
function freshWorld(): { runner: FakeRunner; sim: Sim; done: () => void } {
  fs.rmSync(journalDir, { recursive: true, force: true });
  const runner = new FakeRunner();
  const undo = runner.install();
  const sim = new Sim(STATE_DIR);
  return { runner, sim, done: undo };
}

/** Runs one sequence and the final checks; throws with a readable reason when the property breaks. */
async function runSequence<D extends Props, O>(
  runner: FakeRunner,
  engine: ResourceUnderTest,
  steps: Step<D, O>[],
  final: D,
  oob: (o: O) => Promise<void>,
  hosts: string[],
  extra: () => void,
): Promise<void> {
  let drifted = false;
  for (const s of steps) {
    if ("oob" in s) {
      await oob(s.oob);
      drifted = true;
    } else if ("destroy" in s) await engine.destroy();
    else {
      if (s.refreshFirst) await engine.refresh();
      try {
        await engine.up(s.up);
      } catch (e) {
        // An up without a refresh right after an out-of-band change may fail (as `pulumi up` does):
        // only with a typed error that says to refresh. The final up (refresh first) must succeed.
        if (s.refreshFirst || !isRdsError(e) || !/pulumi refresh/.test(e.message)) throw e;
      }
    }
  }
  if (drifted) await engine.refresh();
  await engine.up(final);
  const before = hosts.map((h) => runner.world.hostText(h));
  const second = await engine.up(final);
  if (second !== "same") throw new Error(`second up did ${second}`);
  const drift = await engine.refresh();
  if (drift.op !== "same") throw new Error(`refresh after converging shows ${drift.op}: ${JSON.stringify(drift.diff)}`);
  const after = hosts.map((h) => runner.world.hostText(h));
  if (JSON.stringify(before) !== JSON.stringify(after)) throw new Error("the second up or the refresh changed the host");
  extra();
}

function steps<D, O>(desired: fc.Arbitrary<D>, oob: fc.Arbitrary<O>): fc.Arbitrary<Step<D, O>[]> {
  const step: fc.Arbitrary<Step<D, O>> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ up: desired, refreshFirst: fc.boolean() }) as fc.Arbitrary<Step<D, O>> },
    { weight: 4, arbitrary: fc.record({ oob }) as fc.Arbitrary<Step<D, O>> },
    { weight: 1, arbitrary: fc.constant({ destroy: true as const }) },
  );
  return fc.array(step, { minLength: 1, maxLength: 4 });
}

const params = (seedOffset: number) => ({
  numRuns: RUNS,
  ...(process.env.REL_SEED ? { seed: Number(process.env.REL_SEED) + seedOffset } : {}),
});

// ---- generators -------------------------------------------------------------------------------------

// eslint-disable-next-line no-control-regex -- control characters are exactly what this pattern finds
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Text an administrator may type: any unicode, quotes, PowerShell's `$(...)` and backticks, padding. */
const text = fc
  .oneof(
    fc.string({ unit: "grapheme", maxLength: 20 }),
    // Any code point but a lone surrogate, which check refuses (not valid text: the bad-input tests cover
    // it; the desired states here are valid by construction). fast-check's "binary" unit costs seconds to set up.
    fc.string({ unit: fc.nat({ max: 0x10ffff - 0x800 }).map((c) => String.fromCodePoint(c < 0xd800 ? c : c + 0x800)), maxLength: 12 }),
    fc.constantFrom(`O'Brien & "Sons"`, "$(Remove-Item C:\\)", "`n`t``", "Contoso\u00a0Ltd", "Zoë ☃ 日本", "  padded  "),
    // Control characters (C0, DEL, C1) are refused at check (the bad-input tests cover them): the desired
    // states here are valid by construction.
  )
  .filter((s) => !CONTROL_CHARACTER.test(s));
const required = text.filter((s) => s.trim().length > 0);

/** Host names: DNS labels, sometimes upper-cased, sometimes fully qualified. */
const hostName = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/),
    fc.constantFrom("", ".contoso.com", ".CONTOSO.com", ".example.org"),
    fc.boolean(),
  )
  .map(([label, domain, upper]) => (upper ? label.toUpperCase() : label) + domain);

/** A license server id as an administrator may paste it: any case, grouped with hyphens or spaces. */
function pasted(id: string): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom("", "-", " "), fc.boolean()).map(([sep, lower]) => {
    const grouped = id.match(/.{1,5}/g)!.join(sep);
    return lower ? grouped.toLowerCase() : grouped;
  });
}

// ---- RdsLicenseServer -------------------------------------------------------------------------------

async function licenseServerProperty(): Promise<number> {
  const host = "ls-conv.contoso.com";
  const conn: Connection = { transport: "simulator", host, stateDir: STATE_DIR };
  // The product id (and so the license server id the Clearinghouse issues) derives from the host name.
  const probe = freshWorld();
  const lsId = await probe.sim.licenseServerId((await probe.sim.host(host)).licenseServer.productId);
  probe.done();

  const contact = fc.record({
    firstName: required,
    lastName: required,
    company: required,
    countryRegion: required,
    email: fc.oneof(fc.constant(""), text),
  });
  const activation = fc.oneof(
    fc.constant({ method: "automatic" }),
    fc.constantFrom("web", "telephone").map((method) => ({ method })),
    fc.tuple(fc.constantFrom("web", "telephone"), pasted(lsId)).map(([method, licenseServerId]) => ({ method, licenseServerId })),
  );
  const desired = fc
    .record({ contact, activation, discoveryScope: fc.constantFrom(undefined, "workgroup", "domain", "forest") })
    .map(({ discoveryScope, ...d }) => ({ connection: conn, ...d, ...(discoveryScope ? { discoveryScope } : {}) }) as Props);
  const oob = fc.oneof(
    fc.record({ kind: fc.constant("contact"), company: text }),
    fc.record({ kind: fc.constant("deactivate") }),
    fc.record({ kind: fc.constant("stopService") }),
    fc.record({ kind: fc.constant("changeRole"), role: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant("removeRole") }),
    fc.record({ kind: fc.constant("wipe") }),
  );
  type Oob = { kind: string; company?: string; role?: number };
  let runs = 0;

  await fc.assert(
    fc.asyncProperty(steps(desired, oob as fc.Arbitrary<Oob>), desired, async (seq, final) => {
      runs++;
      const { runner, sim, done } = freshWorld();
      try {
        const engine = new ResourceUnderTest(P.licenseServer);
        await runSequence(
          runner,
          engine,
          seq,
          final,
          (o) => changeLicenseServer(sim, host, o),
          [host],
          () => {
            const out = strip(engine.entry!.outputs);
            const a = final.activation as Props;
            const h = runner.world.view(host).licenseServer;
            if ((a.method === "automatic" || a.licenseServerId !== undefined) && !h.activated)
              throw new Error("not activated, though the declaration can activate it");
            const status = h.activated ? "activated" : "pending";
            if (out.activationStatus !== status)
              throw new Error(`activationStatus ${String(out.activationStatus)}, the server is ${status}`);
            if (h.contact.Company !== (final.contact as Props).company) throw new Error("the declared company is not on the server");
          },
        );
      } finally {
        done();
      }
    }),
    params(0),
  );
  return runs;
}

// ---- RdsCalPack -------------------------------------------------------------------------------------

async function calPackProperty(): Promise<number> {
  const host = "ls-conv-pack.contoso.com";
  const conn: Connection = { transport: "simulator", host, stateDir: STATE_DIR };
  const program = fc.oneof(
    fc.record({
      program: fc.constantFrom("enterpriseAgreement", "select", "campus", "school", "spla"),
      agreementNumber: fc.stringMatching(/^[0-9]{7}$/),
    }),
    fc
      .tuple(fc.stringMatching(/^[0-9]{8}$/), fc.stringMatching(/^[A-Z0-9]{15}$/))
      .map(([licenseNumber, authorizationNumber]) => ({ program: "openLicense", licenseNumber, authorizationNumber })),
  );
  const desired = fc
    .record({
      p: program,
      productVersion: fc.constantFrom("2016", "2019", "2022"),
      calType: fc.constantFrom("perUser", "perDevice"),
      quantity: fc.integer({ min: 1, max: 60 }),
    })
    .map(({ p, ...rest }) => ({ connection: conn, journalKey: "proj/stack/pack", ...p, ...rest }) as Props);
  const oob = fc.oneof(
    fc.record({ kind: fc.constant("uninstall") }),
    fc.record({ kind: fc.constant("removeLicenses"), count: fc.integer({ min: 1, max: 70 }) }),
    fc.record({ kind: fc.constant("manualInstall") }),
  );
  type Oob = { kind: string; count?: number };
  let runs = 0;

  await fc.assert(
    fc.asyncProperty(steps(desired, oob as fc.Arbitrary<Oob>), desired, async (seq, final) => {
      runs++;
      const { runner, sim, done } = freshWorld();
      try {
        await sim.prepareLicenseServer(host, [], "2022");
        const engine = new ResourceUnderTest(P.calPack);
        let manual = 0;
        await runSequence(
          runner,
          engine,
          seq,
          final,
          async (o) => {
            const id = engine.entry ? Number(engine.entry.id) : undefined;
            const KP = "Win32_TSLicenseKeyPack";
            const u32 = (value: unknown) => ({ type: "uint32", value });
            if (o.kind === "uninstall" && id !== undefined)
              await sim.wmi(host, { className: KP, method: "UninstallLicenseKeyPackWithId", arguments: { KeyPackId: u32(id) } });
            else if (o.kind === "removeLicenses" && id !== undefined)
              await sim.wmi(host, {
                className: KP,
                method: "RemoveLicensesWithIdCount",
                arguments: { KeyPackId: u32(id), LicenseCount: u32(o.count) },
              });
            else if (o.kind === "manualInstall") {
              // Someone else's pack, never like a declared one (2012, Per Device, 3 CALs).
              const r = await sim.wmi(host, {
                className: KP,
                method: "InstallAgreementLicenseKeyPack",
                arguments: {
                  AgreementType: u32(2),
                  sAgreementNumber: { type: "string", value: "9999999" },
                  ProductVersion: u32(4),
                  ProductType: u32(0),
                  LicenseCount: u32(3),
                },
              });
              if (r.returnValue === 0) manual++;
            }
          },
          [host],
          () => {
            const packs = runner.world.view(host).licenseServer.keyPacks.filter((p) => p.KeyPackId !== 2);
            const ours = packs.filter((p) => !(p.ProductVersionID === 4 && p.ProductType === 0 && p.TotalLicenses === 3));
            if (packs.length - ours.length !== manual) throw new Error("an unrelated pack was touched");
            if (ours.length !== 1) throw new Error(`${ours.length} packs on the server for one in state (orphan or lost)`);
            if (String(ours[0].KeyPackId) !== engine.entry!.id)
              throw new Error(`pack #${ours[0].KeyPackId} on the server, #${engine.entry!.id} in state`);
            if (ours[0].TotalLicenses !== final.quantity)
              throw new Error(`the pack holds ${ours[0].TotalLicenses} CALs, ${String(final.quantity)} declared`);
          },
        );
      } finally {
        done();
      }
    }),
    params(1),
  );
  return runs;
}

// ---- RdsSessionHostLicensing ------------------------------------------------------------------------

async function sessionHostProperty(): Promise<number> {
  const lsHost = "ls-conv-sh.contoso.com";
  const host = "sh-conv.contoso.com";
  const conn = (h: string): Connection => ({ transport: "simulator", host: h, stateDir: STATE_DIR });
  // The packs prepareLicenseServer installs on a fresh license server get KeyPackIds 3 and 4.
  const ref = (keyPackId: number, calType: string) => ({
    keyPackId,
    calType,
    productVersion: "2022",
    licenseServerConnection: conn(lsHost),
    licenseServerName: lsHost,
  });
  const servers = fc.uniqueArray(fc.oneof(hostName, fc.constant(lsHost)), { minLength: 1, maxLength: 4, selector: (s) => s.toLowerCase() });
  const desired = fc.record({ mode: fc.constantFrom("perUser", "perDevice"), licenseServers: servers, both: fc.boolean() }).map(
    ({ mode, licenseServers, both }) =>
      ({
        connection: conn(host),
        mode,
        licenseServers,
        calPacks: both ? [ref(3, "perUser"), ref(4, "perDevice")] : [mode === "perUser" ? ref(3, "perUser") : ref(4, "perDevice")],
      }) as Props,
  );
  const oob = fc.oneof(
    fc.record({ kind: fc.constant("changeMode"), type: fc.constantFrom(0, 1, 2, 4, 7) }),
    fc.record({
      kind: fc.constant("setList"),
      list: fc.array(fc.oneof(hostName, fc.constant("rogue.contoso.com")), { minLength: 1, maxLength: 5 }),
    }),
    fc.record({ kind: fc.constant("emptyList") }),
    fc.record({ kind: fc.constant("wipe") }),
  );
  type Oob = { kind: string; type?: number; list?: string[] };
  let runs = 0;

  await fc.assert(
    fc.asyncProperty(steps(desired, oob as fc.Arbitrary<Oob>), desired, async (seq, final) => {
      runs++;
      const { runner, sim, done } = freshWorld();
      try {
        const ids = await sim.prepareLicenseServer(lsHost, [
          { productVersion: "2022", calType: "perUser", count: 50 },
          { productVersion: "2022", calType: "perDevice", count: 50 },
        ]);
        if (JSON.stringify(ids) !== "[3,4]") throw new Error(`the prepared packs are ${JSON.stringify(ids)}, not [3,4]`);
        const engine = new ResourceUnderTest(P.sessionHost);
        await runSequence(
          runner,
          engine,
          seq,
          final,
          (o) => changeSessionHost(sim, host, o),
          [host, lsHost],
          () => {
            const h = runner.world.view(host).sessionHost;
            const want = final.mode === "perUser" ? 4 : 2;
            if (h.licensingType !== want) throw new Error(`LicensingType ${h.licensingType}, want ${want}`);
            const live = h.specifiedLicenseServers.map((s) => s.toLowerCase());
            const declared = (final.licenseServers as string[]).map((s) => s.toLowerCase());
            if (JSON.stringify(live) !== JSON.stringify(declared))
              throw new Error(`list ${JSON.stringify(live)}, want ${JSON.stringify(declared)}`);
          },
        );
      } finally {
        done();
      }
    }),
    params(2),
  );
  return runs;
}

describe("random sequences of desired states and out-of-band changes converge (in process, over the fake world)", () => {
  test(`RdsLicenseServer: ${RUNS} sequences, each ending converged`, async () => {
    expect(await licenseServerProperty()).toBeGreaterThanOrEqual(RUNS);
  });
  test(`RdsCalPack: ${RUNS} sequences, each ending converged`, async () => {
    expect(await calPackProperty()).toBeGreaterThanOrEqual(RUNS);
  });
  test(`RdsSessionHostLicensing: ${RUNS} sequences, each ending converged`, async () => {
    expect(await sessionHostProperty()).toBeGreaterThanOrEqual(RUNS);
  });
});
