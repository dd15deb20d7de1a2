/**
 * Reliability: convergence, property-based (fast-check), through real pwsh. For each resource, 8 random
 * short sequences of desired states and out-of-band changes (the same property runs 300 sequences per
 * resource in process, with shrinking and richer generators, in convergence.fast.test.ts, over the fake
 * world that test/fake/world.contract.test.ts holds to the emulator; this run keeps the real scripts and
 * the emulator honest under the same property); each ends with an up (after an out-of-band change with a
 * refresh first, as `pulumi up --refresh`), then a second up that changes nothing (no step, the emulator's host state byte-identical)
 * and a refresh that shows no drift.
 *
 * Real: the three providers (TypeScript sources, in process), the runner and pool with one warm pwsh
 * per simulated host, every operation script, the emulator. Out-of-band changes are an administrator's
 * own calls (emulator admin functions and plain WMI calls through fixtures/RelAdmin.ps1, on a separate
 * warm pwsh).
 * Stands in: the engine (engine/engine.ts for one resource, ResourceUnderTest in support.ts, over the
 * in-process host: check -> diff -> create/update/replace/delete; read -> diff for refresh), Windows (the emulator). Each
 * sequence starts afresh (an empty stack, the simulated host reset, the CAL pack journal emptied), so a
 * failing sequence replays alone and fast-check shrinks it to a minimal one; a sequence may still destroy
 * the resource or wipe the simulated host (Reset-RdsSim) midway, so creates from nothing recur.
 *
 * The desired states are valid by construction; an out-of-band change is anything an administrator can
 * do that the next `up --refresh` can repair (a rebuilt server with a web activation id, or a Group
 * Policy that contradicts the stack, are errors by design and are covered in the fault and resource tests).
 */
import * as fs from "fs";
import * as path from "path";
import fc from "fast-check";
import { isRdsError } from "../../provider/errors";
import { closeAll } from "../../provider/powershell/pool";
import type { Connection } from "../../provider/powershell/transport";
import { ResourceUnderTest, providers, Sim, strip, tempDir, type Props, type SimPack } from "./support";
import { changeLicenseServer, changeSessionHost } from "./outOfBand";

jest.setTimeout(900_000);

const RUNS = Number(process.env.REL_PWSH_RUNS ?? 8);
const stateDir = tempDir("convergence");
const journalDir = tempDir("convergence-journal");
const P = providers();

function simFor(admin: string): Sim {
  const sim = new Sim(stateDir);
  (sim as { adminConnection: Connection }).adminConnection = { transport: "simulator", host: admin, stateDir };
  return sim;
}

function hostFileText(host: string): string {
  const f = path.join(stateDir, "hosts", `${Buffer.from(host.toLowerCase(), "utf8").toString("hex")}.json`);
  return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
}

type Step<D, O> = { up: D; refreshFirst: boolean } | { oob: O } | { destroy: true };

/** Runs one sequence and the final checks; throws with a readable reason when the property breaks. */
async function runSequence<D extends Props, O>(
  engine: ResourceUnderTest,
  steps: Step<D, O>[],
  final: D,
  oob: (o: O) => Promise<void>,
  hosts: string[],
  extra: () => Promise<void>,
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
        // An up without a refresh right after an out-of-band removal may fail (as `pulumi up` does):
        // only with a typed error that says to refresh. The final up (refresh first) must succeed.
        if (s.refreshFirst || !isRdsError(e) || !/pulumi refresh/.test(e.message)) throw e;
        tolerated++;
      }
    }
  }
  // `pulumi up --refresh` when something changed out of band (without such a change the state is
  // in sync and the refresh would change nothing).
  if (drifted) await engine.refresh();
  await engine.up(final);
  const before = hosts.map(hostFileText);
  const second = await engine.up(final);
  if (second !== "same") throw new Error(`second up did ${second}`);
  const drift = await engine.refresh();
  if (drift.op !== "same") throw new Error(`refresh after converging shows ${drift.op}: ${JSON.stringify(drift.diff)}`);
  const after = hosts.map(hostFileText);
  if (JSON.stringify(before) !== JSON.stringify(after)) throw new Error("the second up or the refresh changed the host");
  await extra();
}

function steps<D, O>(desired: fc.Arbitrary<D>, oob: fc.Arbitrary<O>): fc.Arbitrary<Step<D, O>[]> {
  const step: fc.Arbitrary<Step<D, O>> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ up: desired, refreshFirst: fc.boolean() }) as fc.Arbitrary<Step<D, O>> },
    { weight: 4, arbitrary: fc.record({ oob }) as fc.Arbitrary<Step<D, O>> },
    { weight: 1, arbitrary: fc.constant({ destroy: true as const }) },
  );
  return fc.array(step, { minLength: 1, maxLength: 2 });
}

const params = (seedOffset: number) => ({
  numRuns: RUNS,
  // Shrinking on: each sequence starts afresh (see `fresh` in each property), so a shrunk one replays alone.
  ...(process.env.REL_SEED ? { seed: Number(process.env.REL_SEED) + seedOffset } : {}),
});

const counted = { licenseServer: 0, calPack: 0, sessionHost: 0 };
/** Intermediate ups (no refresh before them) that failed with a typed "run pulumi refresh" error. */
let tolerated = 0;

// ---- RdsLicenseServer -------------------------------------------------------------------------------------

async function licenseServerProperty(): Promise<void> {
  const sim = simFor("rel-admin-conv-ls.invalid");
  const host = "ls-conv.contoso.com";
  const conn = sim.conn(host);
  await sim.reset(host);
  const productId = (await sim.host(host)).licenseServer.productId;
  const lsId = await sim.licenseServerId(productId);

  const contact = fc.record({
    firstName: fc.constantFrom("Ada", "Grace"),
    lastName: fc.constant("Lovelace"),
    company: fc.constantFrom("Contoso", "Contoso Ltd", `O'Brien & "Sons"`),
    countryRegion: fc.constantFrom("United Kingdom", "Ireland"),
    email: fc.constantFrom("", "it@contoso.com"),
  });
  const activation = fc.oneof(
    fc.constant({ method: "automatic" }),
    fc.constant({ method: "web" }),
    fc.constantFrom("web", "telephone").map((method) => ({ method, licenseServerId: lsId })),
  );
  const desired = fc
    .record({ contact, activation, discoveryScope: fc.constantFrom(undefined, "workgroup", "domain", "forest") })
    .map(({ discoveryScope, ...d }) => ({ connection: conn, ...d, ...(discoveryScope ? { discoveryScope } : {}) }) as Props);
  const oob = fc.oneof(
    fc.record({ kind: fc.constant("contact"), company: fc.constantFrom("Hacked Inc", "") }),
    fc.record({ kind: fc.constant("deactivate") }),
    fc.record({ kind: fc.constant("stopService") }),
    fc.record({ kind: fc.constant("changeRole"), role: fc.constantFrom(0, 1, 2) }),
    fc.record({ kind: fc.constant("removeRole") }),
    fc.record({ kind: fc.constant("wipe") }),
  );
  type Oob = { kind: string; company?: string; role?: number };

  await fc.assert(
    fc.asyncProperty(steps(desired, oob as fc.Arbitrary<Oob>), desired, async (seq, final) => {
      counted.licenseServer++;
      // Afresh: an empty stack and a new host (its product id, hence the license server id, is the same).
      await sim.reset(host);
      const engine = new ResourceUnderTest(P.licenseServer);
      await runSequence(
        engine,
        seq,
        final,
        (o) => changeLicenseServer(sim, host, o),
        [host],
        async () => {
          const out = strip(engine.entry!.outputs);
          const wantActive =
            (final.activation as Props).method === "automatic" || (final.activation as Props).licenseServerId !== undefined;
          const h = sim.stateFile(host)!;
          // A pending web/telephone declaration leaves the server as it is: activated already (an earlier
          // sequence, or by hand) is not drift; otherwise it waits for the license server id.
          if (wantActive && !h.licenseServer.activated) throw new Error("not activated, though the declaration can activate it");
          const status = h.licenseServer.activated ? "activated" : "pending";
          if (out.activationStatus !== status) throw new Error(`activationStatus ${String(out.activationStatus)}, the server is ${status}`);
          if (h.licenseServer.contact.Company !== (final.contact as Props).company)
            throw new Error("the declared company is not on the server");
        },
      );
    }),
    params(0),
  );
}

// ---- RdsCalPack -------------------------------------------------------------------------------------------

async function calPackProperty(): Promise<void> {
  const sim = simFor("rel-admin-conv-cp.invalid");
  const host = "ls-conv-pack.contoso.com";
  const conn = sim.conn(host);
  const program = fc.constantFrom(
    { program: "enterpriseAgreement", agreementNumber: "2718281" },
    { program: "select", agreementNumber: "1618033" },
    { program: "openLicense", licenseNumber: "14142135", authorizationNumber: "AB12CD34EF56GH7" },
  );
  const desired = fc
    .record({
      p: program,
      productVersion: fc.constantFrom("2019", "2022"),
      calType: fc.constantFrom("perUser", "perDevice"),
      quantity: fc.constantFrom(5, 10, 20),
    })
    .map(({ p, ...rest }) => ({ connection: conn, journalKey: "proj/stack/pack", ...p, ...rest }) as Props);
  const oob = fc.oneof(
    fc.record({ kind: fc.constant("uninstall") }),
    fc.record({ kind: fc.constant("removeLicenses"), count: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ kind: fc.constant("manualInstall") }),
  );
  type Oob = { kind: string; count?: number };

  await fc.assert(
    fc.asyncProperty(steps(desired, oob as fc.Arbitrary<Oob>), desired, async (seq, final) => {
      counted.calPack++;
      // Afresh: an empty stack, an empty journal (only this property writes one), a new activated server.
      for (const f of fs.readdirSync(journalDir)) fs.rmSync(path.join(journalDir, f), { recursive: true, force: true });
      await sim.reset(host);
      await sim.prepareLicenseServer(host, [], "2022");
      const engine = new ResourceUnderTest(P.calPack);
      let manual = 0;
      await runSequence(
        engine,
        seq,
        final,
        async (o) => {
          const id = engine.entry ? Number(engine.entry.id) : undefined;
          if (o.kind === "uninstall" && id !== undefined) {
            await sim.wmi(host, {
              className: "Win32_TSLicenseKeyPack",
              method: "UninstallLicenseKeyPackWithId",
              arguments: { KeyPackId: { type: "uint32", value: id } },
            });
          } else if (o.kind === "removeLicenses" && id !== undefined) {
            await sim.wmi(host, {
              className: "Win32_TSLicenseKeyPack",
              method: "RemoveLicensesWithIdCount",
              arguments: { KeyPackId: { type: "uint32", value: id }, LicenseCount: { type: "uint32", value: o.count } },
            });
          } else if (o.kind === "manualInstall") {
            // Someone else's pack, never like a declared one (2016, Per Device, 3 CALs).
            const r = await sim.wmi(host, {
              className: "Win32_TSLicenseKeyPack",
              method: "InstallAgreementLicenseKeyPack",
              arguments: {
                AgreementType: { type: "uint32", value: 2 },
                sAgreementNumber: { type: "string", value: "9999999" },
                ProductVersion: { type: "uint32", value: 5 },
                ProductType: { type: "uint32", value: 0 },
                LicenseCount: { type: "uint32", value: 3 },
              },
            });
            if (r.returnValue === 0) manual++;
          }
        },
        [host],
        async () => {
          const packs = (sim.stateFile(host)!.licenseServer.keyPacks as SimPack[]).filter((p) => p.KeyPackId !== 2);
          const ours = packs.filter((p) => !(p.ProductVersionID === 5 && p.ProductType === 0 && p.TotalLicenses === 3));
          if (packs.length - ours.length !== manual) throw new Error("an unrelated pack was touched");
          if (ours.length !== 1) throw new Error(`${ours.length} packs on the server for one in state (orphan or lost)`);
          if (String(ours[0].KeyPackId) !== engine.entry!.id)
            throw new Error(`pack #${ours[0].KeyPackId} on the server, #${engine.entry!.id} in state`);
          if (ours[0].TotalLicenses !== final.quantity)
            throw new Error(`the pack holds ${ours[0].TotalLicenses} CALs, ${String(final.quantity)} declared`);
        },
      );
    }),
    params(1),
  );
}

// ---- RdsSessionHostLicensing ----------------------------------------------------------------------------------

async function sessionHostProperty(): Promise<void> {
  const sim = simFor("rel-admin-conv-sh.invalid");
  const lsHost = "ls-conv-sh.contoso.com";
  const host = "sh-conv.contoso.com";
  await sim.reset(lsHost);
  const [userPack, devicePack] = await sim.prepareLicenseServer(lsHost, [
    { productVersion: "2022", calType: "perUser", count: 50 },
    { productVersion: "2022", calType: "perDevice", count: 50 },
  ]);
  const ref = (keyPackId: number, calType: string) => ({
    keyPackId,
    calType,
    productVersion: "2022",
    licenseServerConnection: sim.conn(lsHost),
    licenseServerName: lsHost,
  });
  const NAMES = ["ls-a.contoso.com", "LS-B.contoso.com", "ls-c", lsHost];
  const list = fc.shuffledSubarray(NAMES, { minLength: 1 });
  const desired = fc.record({ mode: fc.constantFrom("perUser", "perDevice"), licenseServers: list, both: fc.boolean() }).map(
    ({ mode, licenseServers, both }) =>
      ({
        connection: sim.conn(host),
        mode,
        licenseServers,
        calPacks: both
          ? [ref(userPack, "perUser"), ref(devicePack, "perDevice")]
          : [mode === "perUser" ? ref(userPack, "perUser") : ref(devicePack, "perDevice")],
      }) as Props,
  );
  const oob = fc.oneof(
    fc.record({ kind: fc.constant("changeMode"), type: fc.constantFrom(2, 4) }),
    fc.record({ kind: fc.constant("setList"), list: fc.shuffledSubarray([...NAMES, "rogue.contoso.com"], { minLength: 1 }) }),
    fc.record({ kind: fc.constant("emptyList") }),
    fc.record({ kind: fc.constant("wipe") }),
  );
  type Oob = { kind: string; type?: number; list?: string[] };

  await fc.assert(
    fc.asyncProperty(steps(desired, oob as fc.Arbitrary<Oob>), desired, async (seq, final) => {
      counted.sessionHost++;
      // Afresh: an empty stack and a new session host (the license server and its packs stay as prepared).
      await sim.reset(host);
      const engine = new ResourceUnderTest(P.sessionHost);
      await runSequence(
        engine,
        seq,
        final,
        (o) => changeSessionHost(sim, host, o),
        [host, lsHost],
        async () => {
          const h = sim.stateFile(host)!;
          const want = final.mode === "perUser" ? 4 : 2;
          if (h.sessionHost.licensingType !== want) throw new Error(`LicensingType ${h.sessionHost.licensingType}, want ${want}`);
          const live = ((h.sessionHost.specifiedLSList ?? []) as string[]).map((s) => s.toLowerCase());
          if (JSON.stringify(live) !== JSON.stringify((final.licenseServers as string[]).map((s) => s.toLowerCase()))) {
            throw new Error(`list ${JSON.stringify(live)}, want ${JSON.stringify(final.licenseServers)}`);
          }
        },
      );
    }),
    params(2),
  );
}

beforeAll(() => {
  process.env.RDS_JOURNAL_DIR = journalDir;
});

afterAll(async () => {
  await closeAll();
  delete process.env.RDS_JOURNAL_DIR;
  for (const d of [stateDir, journalDir]) fs.rmSync(d, { recursive: true, force: true });

  console.log(`convergence sequences run: ${JSON.stringify(counted)}; intermediate ups refused with "run pulumi refresh": ${tolerated}`);
});

describe("random sequences of desired states and out-of-band changes converge", () => {
  // The three properties run at the same time (one warm pwsh per simulated host, and one per admin).
  let outcome: PromiseSettledResult<void>[];
  beforeAll(async () => {
    outcome = await Promise.allSettled([licenseServerProperty(), calPackProperty(), sessionHostProperty()]);
  });

  test.each([
    ["RdsLicenseServer", 0, "licenseServer"],
    ["RdsCalPack", 1, "calPack"],
    ["RdsSessionHostLicensing", 2, "sessionHost"],
  ] as const)(`%s: ${RUNS} sequences, each ending converged (second up empty, refresh without drift)`, (_name, i, key) => {
    const r = outcome[i];
    if (r.status === "rejected") throw r.reason;
    expect(counted[key]).toBeGreaterThanOrEqual(RUNS);
  });
});
