/**
 * RdsCalPack's decisions, in process: adoption and ambiguity, the install journal after an interrupted
 * install, quantity shrink/grow, another program, refused on a server that is not activated, partial
 * failures (a retail code with other terms, a reused code), drift after a refresh. The engine's order
 * and answers are the same as through the real host; provider.test.ts keeps the real slice.
 *
 * Real: the Pulumi SDK's registrations and `__provider` strings (captured under setMocks), the engine's
 * step logic (engine/engine.ts), the two providers (TypeScript sources), the CAL pack install journal
 * (files in a temporary RDS_JOURNAL_DIR), the runner's validation and result typing.
 * Stands in: the dynamic-provider host process (engine/inProcessHost.ts does what it does around each
 * call; a "killed" host is its `kill`: the call in flight answers UNAVAILABLE); pwsh, the operation
 * scripts and Windows (the FakeWorld behind the FakeRunner, test/fake/, held to the emulator's recorded
 * answers by test/fake/world.contract.test.ts); out-of-band changes are the fake world's admin actions
 * (RelAdmin.ps1's, through `Sim`); the emulator's WMI call log is the record of operation scripts the
 * runner core answered; the journal's key stretching is a keyed SHA-256 (test/fake/fastJournal.ts).
 * Not modelled by the fake, so kept in provider.test.ts: per-device licenses issued from a pack.
 */
import * as fs from "fs";
import * as path from "path";
import { createEngine, type Engine } from "../../../engine/engine";
import { DiffChanges, type ProviderHost } from "../../../engine/hostProtocol";
import { startInProcessHost } from "../../../engine/inProcessHost";
import { isSecret, stripSecrets } from "../../../engine/secrets";
import { setOperationRunner, resetOperationRunner, type OperationRunner } from "../../../provider/powershell/runner";
import { abandonLocksOfThisProcess } from "../../../provider/resources/calPack/installLock";
import { useFastJournal } from "../../fake/fastJournal";
import { FakeRunner } from "../../fake/runner";
import { providerTableOf, providers, Sim } from "../../reliability/support";
import {
  AGREEMENT,
  expectFailure,
  keyPackIdOf,
  programFor,
  specs,
  THREE_PACK_OUTPUTS,
  type PackArgs,
  type Program,
  threePacks,
} from "./program";

jest.setTimeout(60_000);

const { stateDir, journalDir } = useFastJournal("calpack-provider");

const OTHER_AGREEMENT = "5528413";

// ---- the world, and the record of the operation scripts it answered --------------------------------

const SCRIPT = /[\\/]resources[\\/](\w+)[\\/](\w+)\.ps1$/;

/** One operation script as the runner core answered it: `<resource>/<script>`, where, ok or not. */
interface OpRecord {
  op: string;
  host: string;
  ok: boolean;
  result: unknown;
  /** The args the script received. */
  args: Record<string, unknown>;
}

let runner: FakeRunner;
const ops: OpRecord[] = [];
/**
 * When set, called after each operation script's effect is applied and before its answer returns; true
 * kills the host "process" there: the script's answer never returns (a promise that never settles).
 */
let dieAfter: ((r: OpRecord) => boolean) | undefined;
let sim: Sim;

const recordingCore: OperationRunner = async (connection, call) => {
  const outcome = await runner.core(connection, call);
  const m = SCRIPT.exec(call.script);
  const record: OpRecord = {
    op: m ? `${m[1]}/${m[2]}` : path.basename(call.script),
    host: connection.host.toLowerCase(),
    ok: outcome.document.ok,
    result: outcome.document.ok ? outcome.document.result : outcome.document.error,
    args: runner.calls[runner.calls.length - 1].args,
  };
  ops.push(record);
  if (dieAfter?.(record)) {
    dieAfter = undefined;
    await host.kill();
    hostDied();
    return new Promise<never>(() => undefined);
  }
  return outcome;
};

beforeAll(() => {
  runner = new FakeRunner();
  setOperationRunner(recordingCore);
  sim = new Sim(stateDir);
});

afterAll(() => resetOperationRunner());

/** The operation scripts that ran on `host`, in order (`<resource>/<script>`), the successful ones. */
function okOps(host: string, op?: string): OpRecord[] {
  return ops.filter((r) => r.host === host.toLowerCase() && r.ok && (!op || r.op === op));
}

/** Successful installs on `host` (the script answered ok with a pack). */
const installs = (host: string) => okOps(host, "calPack/install");

/** The packs on the host in the fake world (the built-in pack left out). */
function packsOn(host: string) {
  return runner.world.view(host).licenseServer.keyPacks.filter((p) => p.KeyPackId !== 2);
}

// ---- the providers, in process ----------------------------------------------------------------------

const P = providers();
const providerTable = providerTableOf(P);

let host: ProviderHost;
/** Resolves the promise of the host's current death (see `dieAfter`). */
let hostDied: () => void = () => undefined;
beforeAll(() => {
  host = startInProcessHost({ providers: providerTable });
});

function newEngine(): Engine {
  return createEngine(host);
}

const program = programFor(stateDir);

function journalEntriesFor(lsHost: string): { host: string; status: string }[] {
  return fs
    .readdirSync(journalDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(journalDir, f), "utf8")))
    .filter((e) => e.host === lsHost);
}

const uint32 = (value: number) => ({ type: "uint32", value });

// ---- the scenario -------------------------------------------------------------------------------------

describe("a license server with CAL packs of three programs", () => {
  const LS_HOST = "ls01.contoso.com";
  let engine: Engine;
  let base: Record<string, PackArgs>;
  let p: Program;

  beforeAll(async () => {
    engine = newEngine();
    base = threePacks(await sim.retailCode("2022", "perDevice", 15));
    p = await program(LS_HOST, base);
  });

  test("one up activates the server, then installs the three packs, never before the activation", async () => {
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => [s.urn.split("::").pop(), s.op])).toEqual([
      ["ls", "create"],
      ["ea", "create"],
      ["open", "create"],
      ["box", "create"],
    ]);
    const creates = engine.calls({ method: "Create" });
    expect(creates[0].urn).toBe(p.ls.urn);
    expect((creates[0].response as { properties: Record<string, unknown> }).properties.activationStatus).toBe("activated");
    for (const c of creates.slice(1)) expect(c.seq).toBeGreaterThan(creates[0].seq);
    // Operation order: the activation succeeded before the first install, and each install looked first.
    const onHost = okOps(LS_HOST).map((r) => r.op);
    const firstInstall = onHost.indexOf("calPack/install");
    // One install per program, in the program's order (the emulator's Agreement, Open, Retail methods).
    expect(installs(LS_HOST).map((r) => r.args.program)).toEqual(["enterpriseAgreement", "openLicense", "retail"]);
    expect(onHost.indexOf("licenseServer/activate")).toBeGreaterThanOrEqual(0);
    expect(onHost.indexOf("licenseServer/activate")).toBeLessThan(firstInstall);
    expect(onHost.slice(0, firstInstall).some((o) => o.startsWith("calPack/"))).toBe(true);

    expect(engine.outputs(p.packs.ea.urn)).toMatchObject(THREE_PACK_OUTPUTS.ea);
    expect(engine.outputs(p.packs.open.urn)).toMatchObject(THREE_PACK_OUTPUTS.open);
    expect(engine.outputs(p.packs.box.urn)).toMatchObject(THREE_PACK_OUTPUTS.box);
    expect(
      packsOn(LS_HOST)
        .map((x) => x.KeyPackId)
        .sort(),
    ).toEqual(["ea", "open", "box"].map((n) => keyPackIdOf(engine, p, n)).sort());
    for (const name of ["ea", "open", "box"]) {
      const entry = engine.entry(p.packs[name].urn);
      expect(entry.id).toBe(String(keyPackIdOf(engine, p, name)));
      expect(isSecret(entry.outputs.connection)).toBe(true);
    }
    expect(isSecret(engine.entry(p.packs.ea.urn).outputs.agreementNumber)).toBe(true);
    expect(isSecret(engine.entry(p.packs.open.urn).outputs.licenseNumber)).toBe(true);
    expect(isSecret(engine.entry(p.packs.open.urn).outputs.authorizationNumber)).toBe(true);
    expect(isSecret(engine.entry(p.packs.box.urn).outputs.licenseCode)).toBe(true);
  });

  test("a second up changes nothing", async () => {
    const before = runner.world.hostText(LS_HOST);
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
    expect(engine.calls({ method: "Create" }).length).toBe(4);
    expect(engine.calls({ method: "Update" }).length).toBe(0);
    expect(installs(LS_HOST).length).toBe(3);
    expect(okOps(LS_HOST).filter((r) => r.op === "calPack/remove" || r.op === "calPack/resize")).toEqual([]);
    expect(runner.world.hostText(LS_HOST)).toBe(before);
  });

  test("preview while the license server is being updated: its packs may change, none is replaced", async () => {
    const changed = await program(LS_HOST, base, "Contoso Ltd");
    const steps = await engine.preview(specs(changed));
    expect(steps.map((s) => [s.urn.split("::").pop(), s.op])).toEqual([
      ["ls", "update"],
      ["ea", "update"],
      ["open", "update"],
      ["box", "update"],
    ]);
    for (const step of steps.slice(1)) expect(step.diff?.replaces).toEqual([]);
    expect(installs(LS_HOST).length).toBe(3);
  });

  test("fewer CALs shrink the pack in place (resize, same KeyPackId)", async () => {
    const id = keyPackIdOf(engine, p, "ea");
    p = await program(LS_HOST, { ...base, ea: { ...base.ea, quantity: 30 } });
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.ea.urn)).toMatchObject({
      op: "update",
      diff: { changes: DiffChanges.DIFF_SOME, replaces: [] },
    });
    expect(keyPackIdOf(engine, p, "ea")).toBe(id);
    expect(engine.outputs(p.packs.ea.urn)).toMatchObject({ quantity: 30, totalLicenses: 30 });
    expect(okOps(LS_HOST, "calPack/resize").length).toBe(1);
    expect(packsOn(LS_HOST).find((x) => x.KeyPackId === id)?.TotalLicenses).toBe(30);
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
  });

  test("more CALs replace the pack: the new pack is installed before the old one is removed", async () => {
    const oldId = keyPackIdOf(engine, p, "ea");
    p = await program(LS_HOST, { ...base, ea: { ...base.ea, quantity: 60 } });
    const mark = ops.length;
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.ea.urn)).toMatchObject({
      op: "replace",
      diff: { replaces: ["quantity"], deleteBeforeReplace: false },
    });
    const newId = keyPackIdOf(engine, p, "ea");
    expect(newId).not.toBe(oldId);
    const since = ops.slice(mark).map((r) => `${r.op}:${r.ok}`);
    expect(since).toContain("calPack/install:true");
    expect(since).toContain("calPack/remove:true");
    expect(since.indexOf("calPack/install:true")).toBeLessThan(since.indexOf("calPack/remove:true"));
    const live = packsOn(LS_HOST);
    expect(live.some((x) => x.KeyPackId === oldId)).toBe(false);
    expect(live.find((x) => x.KeyPackId === newId)?.TotalLicenses).toBe(60);
    base = { ...base, ea: { ...base.ea, quantity: 60 } };
  });

  test("another program replaces the pack, new before old, and the second up is empty", async () => {
    const oldId = keyPackIdOf(engine, p, "ea");
    base = {
      ...base,
      ea: { program: "select", agreementNumber: OTHER_AGREEMENT, productVersion: "2022", calType: "perUser", quantity: 60 },
    };
    p = await program(LS_HOST, base);
    const mark = ops.length;
    const mark2 = engine.log.length;
    const steps = await engine.up(specs(p));
    const step = steps.find((s) => s.urn === p.packs.ea.urn)!;
    expect(step.op).toBe("replace");
    expect(step.diff?.replaces).toEqual(expect.arrayContaining(["program", "agreementNumber"]));
    const methods = engine.log
      .slice(mark2)
      .filter((c) => c.urn === p.packs.ea.urn)
      .map((c) => c.method);
    expect(methods.indexOf("Create")).toBeLessThan(methods.indexOf("Delete"));
    const since = ops.slice(mark).map((r) => `${r.op}:${r.ok}`);
    expect(since.indexOf("calPack/install:true")).toBeLessThan(since.indexOf("calPack/remove:true"));
    expect(ops.slice(mark).find((r) => r.op === "calPack/install" && r.ok)?.args.program).toBe("select");
    const live = packsOn(LS_HOST);
    expect(live.some((x) => x.KeyPackId === oldId)).toBe(false);
    // Select is an agreement program: KeyPackType 2 (the emulator's own program tag is not in the fake's view).
    expect(live.find((x) => x.KeyPackId === keyPackIdOf(engine, p, "ea"))?.KeyPackType).toBe(2);
    expect(engine.outputs(p.packs.ea.urn)).toMatchObject({ program: "select" });
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
  });

  test("refresh: a pack removed out of band is gone from state, and the next up installs it again", async () => {
    const id = keyPackIdOf(engine, p, "open");
    const r = await sim.wmi(LS_HOST, {
      className: "Win32_TSLicenseKeyPack",
      method: "UninstallLicenseKeyPackWithId",
      arguments: { KeyPackId: uint32(id) },
    });
    expect(r.returnValue).toBe(0);
    const reports = await engine.refresh();
    expect(reports.find((x) => x.urn === p.packs.open.urn)?.op).toBe("delete");
    expect(reports.filter((x) => x.urn !== p.packs.open.urn).map((x) => x.op)).toEqual(["same", "same", "same"]);
    expect(engine.state.has(p.packs.open.urn)).toBe(false);
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.open.urn)?.op).toBe("create");
    const newId = keyPackIdOf(engine, p, "open");
    expect(newId).not.toBe(id);
    expect(packsOn(LS_HOST).find((x) => x.KeyPackId === newId)).toMatchObject({ TotalLicenses: 20, ProductType: 0, ProductVersionID: 6 });
  });

  test("refresh: CALs removed out of band show as drift, and the next up repairs it", async () => {
    const id = keyPackIdOf(engine, p, "open");
    const r = await sim.wmi(LS_HOST, {
      className: "Win32_TSLicenseKeyPack",
      method: "RemoveLicensesWithIdCount",
      arguments: { KeyPackId: uint32(id), LicenseCount: uint32(5) },
    });
    expect(r.returnValue).toBe(0);
    const reports = await engine.refresh();
    const drift = reports.find((x) => x.urn === p.packs.open.urn)!;
    expect(drift.op).toBe("update");
    expect(drift.diff?.replaces).toEqual(["quantity"]);
    expect(stripSecrets(drift.after!).totalLicenses).toBe(15);
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.open.urn)?.op).toBe("replace");
    expect(engine.outputs(p.packs.open.urn).totalLicenses).toBe(20);
    expect((await engine.refresh()).map((x) => x.op)).toEqual(["same", "same", "same", "same"]);
  });

  test("destroy removes the remaining packs, then leaves the activation in place", async () => {
    await engine.destroy();
    expect(packsOn(LS_HOST)).toEqual([]);
    expect(runner.world.view(LS_HOST).licenseServer.activated).toBe(true);
    expect(journalEntriesFor(LS_HOST)).toEqual([]);
  });
});

describe("a server that is not activated", () => {
  test("the pack's create fails with RDS_NOT_ACTIVATED, the product id and the next step, and installs nothing", async () => {
    const LS_HOST = "ls-web.contoso.com";
    const engine = newEngine();
    const p = await program(
      LS_HOST,
      { ea: { program: "spla", agreementNumber: AGREEMENT, productVersion: "2022", calType: "perUser", quantity: 5 } },
      "Contoso",
      "web",
    );
    const err = await expectFailure(engine.up(specs(p)));
    expect(err.urn).toBe(p.packs.ea.urn);
    const productId = engine.outputs(p.ls.urn).productId as string;
    expect(engine.outputs(p.ls.urn).activationStatus).toBe("pending");
    expect(err.message).toMatch(/the license server must be activated before you can install RDS CALs/);
    expect(err.message).toContain(productId);
    expect(err.message).toMatch(/https:\/\/activate\.microsoft\.com/);
    expect(ops.filter((r) => r.host === LS_HOST && r.op === "calPack/install")).toEqual([]);
    expect(packsOn(LS_HOST)).toEqual([]);
    expect(engine.state.has(p.packs.ea.urn)).toBe(false);
  });
});

describe("never twice", () => {
  test("the host dies right after the install call: a restarted host adopts that pack and never installs again", async () => {
    const LS_HOST = "ls-crash.contoso.com";
    const engine = newEngine();
    const p = await program(LS_HOST, {
      users: { program: "campus", agreementNumber: AGREEMENT, productVersion: "2025", calType: "perUser", quantity: 40 },
    });
    await sim.config(LS_HOST, { osVersion: "2025" });
    await engine.up([p.ls]);

    // The install lands in the world; the host dies while that call is still "returning", so the
    // provider never sees the KeyPackId (as a SIGKILL of the real host does: provider.test.ts before).
    const died = new Promise<string>((resolve) => (hostDied = () => resolve("host died")));
    dieAfter = (r) => r.host === LS_HOST && r.op === "calPack/install" && r.ok;
    const outcome = await Promise.race([
      died,
      engine.up(specs(p)).then(
        () => "finished",
        (e) => e,
      ),
    ]);
    expect(outcome).toBe("host died");
    expect(engine.state.has(p.packs.users.urn)).toBe(false);
    expect(engine.pendingOperations).toEqual([{ urn: p.packs.users.urn, type: "creating" }]);
    // The install happened once; the state never heard of it; the journal says it is pending.
    expect(packsOn(LS_HOST).length).toBe(1);
    expect(journalEntriesFor(LS_HOST).map((e) => e.status)).toEqual(["pending"]);

    // A real death frees the install lock (a dead pid's lock is taken over); in process it is freed here.
    abandonLocksOfThisProcess(journalDir);
    await host.restart();
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => s.op)).toEqual(["same", "create"]);
    const live = packsOn(LS_HOST);
    expect(live.length).toBe(1);
    expect(installs(LS_HOST).length).toBe(1);
    expect(engine.entry(p.packs.users.urn).id).toBe(String(live[0].KeyPackId));
    expect(engine.outputs(p.packs.users.urn)).toMatchObject({ totalLicenses: 40, productVersion: "2025", calType: "perUser" });
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same"]);
    expect(installs(LS_HOST).length).toBe(1);
    await engine.destroy();
    expect(packsOn(LS_HOST)).toEqual([]);
  });

  test("a matching pack without proof is ambiguous: listed, never adopted silently; adoptKeyPackId adopts it", async () => {
    const LS_HOST = "ls-adopt.contoso.com";
    const engine = newEngine();
    const declared: PackArgs = {
      program: "spla",
      agreementNumber: OTHER_AGREEMENT,
      productVersion: "2022",
      calType: "perDevice",
      quantity: 12,
    };
    let p = await program(LS_HOST, { hosted: declared });
    await engine.up([p.ls]);
    // Someone installed the same CALs by hand (RD Licensing Manager): KeyPackType 2, 2022, Per Device, 12.
    const manual = await sim.wmi(LS_HOST, {
      className: "Win32_TSLicenseKeyPack",
      method: "InstallAgreementLicenseKeyPack",
      arguments: {
        AgreementType: uint32(4),
        sAgreementNumber: { type: "string", value: OTHER_AGREEMENT },
        ProductVersion: uint32(7),
        ProductType: uint32(0),
        LicenseCount: uint32(12),
      },
    });
    expect(manual.returnValue).toBe(0);

    const err = await expectFailure(engine.up(specs(p)));
    expect(err.message).toMatch(/RDS_AMBIGUOUS_PACK|already has a pack matching this declaration/);
    expect(err.message).toContain(`#${manual.keyPackId} (2022 Per Device, 12 CALs`);
    expect(err.message).toMatch(/set adoptKeyPackId/);
    expect(err.message).toMatch(/knownOtherPacks/);
    expect(packsOn(LS_HOST).length).toBe(1);

    p = await program(LS_HOST, { hosted: { ...declared, adoptKeyPackId: manual.keyPackId! } });
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => s.op)).toEqual(["same", "create"]);
    expect(engine.entry(p.packs.hosted.urn).id).toBe(String(manual.keyPackId));
    expect(installs(LS_HOST).length).toBe(0);
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same"]);

    // A second, identical declaration: the adopted pack is claimed, so it installs its own.
    p = await program(LS_HOST, { hosted: { ...declared, adoptKeyPackId: manual.keyPackId! }, hosted2: declared });
    await engine.up(specs(p));
    expect(packsOn(LS_HOST).length).toBe(2);
    await engine.destroy();
  });
});

describe("codes that carry their own terms", () => {
  test("a retail code that installs another version than declared is recorded (partial failure), then fixed without a second install; a reused code is refused, naming who installed it or, without the journal, the candidate packs", async () => {
    const LS_HOST = "ls-adopt.contoso.com"; // activated, and empty after the test above
    const engine = newEngine();
    const code = await sim.retailCode("2019", "perUser", 8);
    let p = await program(LS_HOST, { box: { program: "retail", licenseCode: code, productVersion: "2022", calType: "perUser" } });
    const installsBefore = installs(LS_HOST).length;
    const err = await expectFailure(engine.up(specs(p)));
    expect(err.kind).toBe("initFailed");
    expect(err.message).toMatch(
      /the license code installed #\d+ \(2019 Per User, 8 CALs, KeyPackType 1\), not the declared 2022 Per User: set productVersion "2019"/,
    );
    const entry = engine.entry(p.packs.box.urn);
    expect(entry.initErrors?.length).toBe(1);
    const id = entry.id;
    expect(stripSecrets(entry.outputs)).toMatchObject({ productVersion: "2019", totalLicenses: 8 });

    p = await program(LS_HOST, { box: { program: "retail", licenseCode: code, productVersion: "2019", calType: "perUser" } });
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => s.op)).toEqual(["same", "update"]);
    expect(engine.entry(p.packs.box.urn).id).toBe(id);
    expect(engine.entry(p.packs.box.urn).initErrors).toBeUndefined();
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same"]);

    // The same code declared again (another resource): the Clearinghouse refuses it, and the journal
    // tells which resource installed it. Nothing is installed.
    p = await program(LS_HOST, {
      box: { program: "retail", licenseCode: code, productVersion: "2019", calType: "perUser" },
      again: { program: "retail", licenseCode: code, productVersion: "2019", calType: "perUser" },
    });
    const refused = await expectFailure(engine.up(specs(p)));
    expect(refused.urn).toBe(p.packs.again.urn);
    expect(refused.message).toMatch(/the Clearinghouse did not accept the license code/);
    expect(refused.message).toMatch(new RegExp(`already installed here as pack #${id}, managed by proj/stack/box`));
    expect(installs(LS_HOST).length).toBe(installsBefore + 1);

    // State and journal lost (say, another machine runs the next up): the refusal lists the packs the
    // code may have become, and adoptKeyPackId takes one explicitly.
    for (const f of fs.readdirSync(journalDir).filter((x) => x.endsWith(".json"))) {
      if (JSON.parse(fs.readFileSync(path.join(journalDir, f), "utf8")).host === LS_HOST) fs.rmSync(path.join(journalDir, f));
    }
    const fresh = newEngine();
    const lostDecl: PackArgs = { program: "retail", licenseCode: code, productVersion: "2019", calType: "perUser" };
    p = await program(LS_HOST, { box: lostDecl });
    const lost = await expectFailure(fresh.up(specs(p)));
    expect(lost.message).toMatch(
      new RegExp(
        `If this license code was installed on ${LS_HOST.replace(/\./g, "\\.")} before, it is one of #${id} \\(2019 Per User, 8 CALs, KeyPackType 1\\): set adoptKeyPackId`,
      ),
    );
    p = await program(LS_HOST, { box: { ...lostDecl, adoptKeyPackId: Number(id) } });
    expect((await fresh.up(specs(p))).map((s) => s.op)).toEqual(["same", "create"]);
    expect(fresh.entry(p.packs.box.urn).id).toBe(id);
    expect(installs(LS_HOST).length).toBe(installsBefore + 1);
    await fresh.destroy();
    expect(packsOn(LS_HOST)).toEqual([]);
    // The first stack's delete finds the pack gone: nothing to do.
    await engine.destroy();
  });
});
