/**
 * RdsCalPack, the real slice: through the real dynamic-provider host, driven in the engine's order by
 * test/helpers/engine.ts, together with the RdsLicenseServer it depends on. One host, one state dir:
 * a create/second-up/refresh/delete cycle of three packs (one per install method), a delete refused while
 * per-device licenses are issued (the fake world does not model issued licenses), a partial failure
 * (init failure) across gRPC, and no secret in plain text anywhere the host or pwsh could leak it.
 * The decisions (adoption, ambiguity, the journal after an interrupted install, quantity shrink/grow,
 * another program, a server that is not activated, reused codes, drift after a refresh) run in process
 * in provider.fast.test.ts; a real SIGKILL while an install is in flight is test/reliability/crash.test.ts.
 *
 * What is real: the Pulumi dynamic-provider host process and gRPC, the `__provider` strings and inputs the
 * SDK registers for RdsLicenseServer and RdsCalPack (captured under setMocks, secrets wrapped), the built
 * provider code (bin/), the runner and its warm pwsh, every operation script, the install journal on disk.
 * What stands in: the Pulumi CLI engine (engine.ts: step order, secret stripping/re-marking, refresh,
 * create-before-delete, pending operations), the program's data flow (each pack's connection/serverName/
 * activationMethod inputs taken from the license server's outputs in state, as the SDK would resolve them),
 * Windows WMI and the Clearinghouse (the emulator). Out-of-band changes (clients taking CALs) go through
 * fixtures/SimAdmin.ps1. A preload (fixtures/commandTap.js) records the command text the runner sends to
 * pwsh inside the host, to look for secrets in it.
 */
import * as fs from "fs";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { createEngine, type Engine } from "../../helpers/engine";
import { assertBuilt, isSecret, stripSecrets, type ProviderHost, type Props } from "../../helpers/providerHost";
import { admin, callLog, callLogText, expectNoSecrets, installCalls, sim, simPacks, tempDir, type SimCall } from "./support";
import { startCommandTappedHost } from "../../helpers/commandTappedHost";
import {
  AGREEMENT,
  AUTHORIZATION,
  expectFailure as expectRunFailure,
  keyPackIdOf,
  LICENSE_NUMBER,
  programFor,
  SECRET_OUTPUTS,
  specs,
  THREE_PACK_OUTPUTS,
  type PackArgs,
  type Program,
  threePacks,
} from "./program";

const stateDir = tempDir("calpack-provider");
const journalDir = tempDir("calpack-journal");
const commandLog = path.join(tempDir("calpack-commands"), "commands.log");

const secrets = new Set<string>([AGREEMENT, LICENSE_NUMBER, AUTHORIZATION]);

// The first up installs the role, activates and starts a warm pwsh in the host: allow it time on a busy
// 2-core machine.
jest.setTimeout(400_000);

let host: ProviderHost;
const engines: Engine[] = [];
const errors: string[] = [];

beforeAll(async () => {
  assertBuilt([
    "provider/resources/calPack",
    "provider/resources/licenseServer",
    "provider/shim.ts",
    "provider/diff.ts",
    "provider/check.ts",
    "provider/powershell",
  ]);
  host = await startCommandTappedHost({ stateDir, journalDir, commandLog });
});

afterAll(async () => {
  await host?.close();
  await closeAll();
  for (const d of [stateDir, journalDir, path.dirname(commandLog)]) fs.rmSync(d, { recursive: true, force: true });
});

const program = programFor(stateDir);

function newEngine(): Engine {
  const e = createEngine(host);
  engines.push(e);
  return e;
}

/** A run that must fail; its message joins the secrets scan. */
function expectFailure(promise: Promise<unknown>) {
  return expectRunFailure(promise, (err) => errors.push(err.message));
}

async function retailCode(conn: ReturnType<typeof sim>, productVersion: string, calType: string, quantity: number): Promise<string> {
  const code = await admin<string>(conn, { action: "retailCode", productVersion, calType, quantity });
  secrets.add(code);
  return code;
}

function seqOf(log: SimCall[], method: string, nth = 0): number {
  const calls = log.filter((c) => c.method === method && c.result === 0);
  if (calls.length <= nth) throw new Error(`no successful ${method} call #${nth} in the emulator call log`);
  return calls[nth].seq;
}

/** Secret wrappers replaced by "[secret]": what is left is what anyone reading it sees in plain text. */
function redactSecrets(value: unknown): unknown {
  if (isSecret(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactSecrets(v)]));
  return value;
}

// ---- the scenario -------------------------------------------------------------------------------------

describe("a license server with CAL packs of three programs", () => {
  const LS_HOST = "ls01.contoso.com";
  const conn = sim(LS_HOST, stateDir);
  let engine: Engine;
  let base: Record<string, PackArgs>;
  let p: Program;

  beforeAll(async () => {
    engine = newEngine();
    base = threePacks(await retailCode(conn, "2022", "perDevice", 15));
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
    // Engine order: the server's Create answered (activated) before any pack's Create was sent.
    const creates = engine.calls({ method: "Create" });
    expect(creates[0].urn).toBe(p.ls.urn);
    expect((creates[0].response as { properties: Props }).properties.activationStatus).toBe("activated");
    for (const c of creates.slice(1)) expect(c.seq).toBeGreaterThan(creates[0].seq);
    // Emulator order: ActivateServerAutomatic succeeded before the first Install* call.
    const log = await callLog(conn);
    const installs = installCalls(log);
    expect(installs.map((c) => c.method)).toEqual([
      "InstallAgreementLicenseKeyPack",
      "InstallOpenLicenseKeyPack",
      "InstallRetailPurchaseLicenseKeyPack",
    ]);
    expect(installs.every((c) => c.result === 0)).toBe(true);
    expect(seqOf(log, "ActivateServerAutomatic")).toBeLessThan(installs[0].seq);
    // Every install was preceded by its own look at the activation status.
    expect(log.filter((c) => c.method === "GetActivationStatus" && c.seq < installs[0].seq).length).toBeGreaterThan(0);

    const ea = engine.outputs(p.packs.ea.urn);
    expect(ea).toMatchObject(THREE_PACK_OUTPUTS.ea);
    expect(engine.outputs(p.packs.open.urn)).toMatchObject(THREE_PACK_OUTPUTS.open);
    expect(engine.outputs(p.packs.box.urn)).toMatchObject(THREE_PACK_OUTPUTS.box);
    const live = await simPacks(conn);
    expect(live.map((x) => x.KeyPackId).sort()).toEqual(["ea", "open", "box"].map((n) => keyPackIdOf(engine, p, n)).sort());
    // Secret in state; the id is the KeyPackId.
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

  test("a second up changes nothing, and a refresh shows no drift", async () => {
    const before = installCalls(await callLog(conn)).length;
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
    expect(engine.calls({ method: "Create" }).length).toBe(4);
    expect(engine.calls({ method: "Update" }).length).toBe(0);
    const log = await callLog(conn);
    expect(installCalls(log).length).toBe(before);
    expect(log.filter((c) => c.method === "UninstallLicenseKeyPackWithId" || c.method === "RemoveLicensesWithIdCount")).toEqual([]);
    expect((await engine.refresh()).map((r) => r.op)).toEqual(["same", "same", "same", "same"]);
  });

  test("delete is refused while per-device licenses are issued, and allowed with allowRemovingIssuedLicenses", async () => {
    const id = keyPackIdOf(engine, p, "open");
    await admin(conn, { action: "issue", keyPackId: id, count: 2 });
    // The program drops the open pack: its delete must refuse.
    const err = await expectFailure(engine.up(specs(p, ["ea", "box"])));
    expect(err.urn).toBe(p.packs.open.urn);
    expect(err.message).toMatch(/RDS_ISSUED_LICENSES|still has 2 per-device licenses issued/);
    expect(err.message).toMatch(
      new RegExp(`removing CAL pack #${id} on ls01\\.contoso\\.com: key pack ${id} still has 2 per-device licenses issued from it`),
    );
    expect((await simPacks(conn)).some((x) => x.KeyPackId === id)).toBe(true);
    expect(engine.state.has(p.packs.open.urn)).toBe(true);

    // Setting the flag is an in-place update that changes nothing on the server; then the delete goes through.
    base = { ...base, open: { ...base.open, allowRemovingIssuedLicenses: true } };
    p = await program(LS_HOST, base);
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.open.urn)?.op).toBe("update");
    expect(keyPackIdOf(engine, p, "open")).toBe(id);
    await engine.up(specs(p, ["ea", "box"]));
    expect(engine.state.has(p.packs.open.urn)).toBe(false);
    expect((await simPacks(conn)).some((x) => x.KeyPackId === id)).toBe(false);
  });

  test("destroy removes the remaining packs, then leaves the activation in place", async () => {
    await engine.destroy();
    expect(await simPacks(conn)).toEqual([]);
    const h = await admin<{ licenseServer: { activated: boolean } }>(conn, { action: "host" });
    expect(h.licenseServer.activated).toBe(true);
    // Deleted packs leave nothing in the install journal.
    const entries = fs.readdirSync(journalDir).filter((f) => f.endsWith(".json"));
    const forHost = entries.map((f) => JSON.parse(fs.readFileSync(path.join(journalDir, f), "utf8"))).filter((e) => e.host === LS_HOST);
    expect(forHost).toEqual([]);
  });
});

describe("a partial failure across gRPC", () => {
  test("a retail code that installs another version than declared is recorded (init failure), then fixed without a second install", async () => {
    const LS_HOST = "ls01.contoso.com"; // activated, and empty after destroy above
    const conn = sim(LS_HOST, stateDir);
    const engine = newEngine();
    const code = await retailCode(conn, "2019", "perUser", 8);
    let p = await program(LS_HOST, { box: { program: "retail", licenseCode: code, productVersion: "2022", calType: "perUser" } });
    const installsBefore = installCalls(await callLog(conn)).length;
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
    expect(installCalls(await callLog(conn)).filter((c) => c.result === 0).length).toBe(installsBefore + 1);

    await engine.destroy();
    expect(await simPacks(conn)).toEqual([]);
  });
});

describe("secrets", () => {
  test("the license code and the agreement, license and authorization numbers never appear in plain text", async () => {
    const all = [...secrets];
    expect(all.length).toBeGreaterThanOrEqual(5);
    // Outputs: every occurrence is inside a secret wrapper.
    for (const engine of engines) {
      for (const entry of engine.state.values()) {
        expectNoSecrets(`the outputs of ${entry.urn}`, JSON.stringify(redactSecrets(entry.outputs)), all);
        for (const k of SECRET_OUTPUTS) if (entry.outputs[k] !== undefined) expect(isSecret(entry.outputs[k])).toBe(true);
      }
      // Every response and error the host sent back (Create/Update/Read properties, gRPC details,
      // init-failure reasons and properties): secrets only ever inside secret wrappers.
      expectNoSecrets("host responses", JSON.stringify(redactSecrets(engine.log.map((c) => c.response ?? null))), all);
      expectNoSecrets("host errors", JSON.stringify(redactSecrets(engine.log.map((c) => c.error ?? null))), all);
      expectNoSecrets("engine events", JSON.stringify(engine.events), all);
    }
    expectNoSecrets("deployment errors", errors.join("\n"), all);
    expectNoSecrets("host stderr", host.stderr(), all);
    const commands = fs.readFileSync(commandLog, "utf8");
    expect(commands).toMatch(/Invoke-RdsOperation/);
    expectNoSecrets("the runner's pwsh command text", commands, all);
    for (const h of ["ls01.contoso.com"]) {
      const text = callLogText(stateDir, h);
      expect(text).toMatch(/Invoke-CimMethod/);
      expectNoSecrets(`the emulator call log of ${h}`, text, all);
    }
    // The install journal holds fingerprints, never the values.
    for (const f of fs.readdirSync(journalDir))
      expectNoSecrets(`journal file ${f}`, fs.readFileSync(path.join(journalDir, f), "utf8"), all);
  });
});
