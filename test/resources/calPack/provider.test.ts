/**
 * RdsCalPack through the real dynamic-provider host, driven in the engine's order by test/helpers/engine.ts,
 * together with the RdsLicenseServer it depends on.
 *
 * What is real: the Pulumi dynamic-provider host process and gRPC, the `__provider` strings and inputs the
 * SDK registers for RdsLicenseServer and RdsCalPack (captured under setMocks, secrets wrapped), the built
 * provider code (bin/), the runner and its warm pwsh, every operation script, the install journal on disk.
 * What stands in: the Pulumi CLI engine (engine.ts: step order, secret stripping/re-marking, refresh,
 * create-before-delete, pending operations), the program's data flow (each pack's connection/serverName/
 * activationMethod inputs taken from the license server's outputs in state, as the SDK would resolve them),
 * Windows WMI and the Clearinghouse (the emulator). Out-of-band changes (an admin removing a pack, clients
 * taking CALs) go through fixtures/SimAdmin.ps1. A preload (fixtures/commandTap.js) records the command
 * text the runner sends to pwsh inside the host, to look for secrets in it.
 */
import * as fs from "fs";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { RdsCalPack, type RdsCalPackArgs } from "../../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { captureRegistrations, type Registration } from "../../helpers/captureProvider";
import { apply, createEngine, DeploymentError, specOf, type Engine, type ResourceSpec } from "../../helpers/engine";
import { assertBuilt, DiffChanges, isSecret, stripSecrets, type ProviderHost, type Props } from "../../helpers/providerHost";
import { admin, callLog, callLogText, expectNoSecrets, installCalls, sim, simPacks, tempDir, waitFor, type SimCall } from "./support";
import { startCommandTappedHost } from "../../helpers/commandTappedHost";

const stateDir = tempDir("calpack-provider");
const journalDir = tempDir("calpack-journal");
const commandLog = path.join(tempDir("calpack-commands"), "commands.log");

const AGREEMENT = "4417302";
const OTHER_AGREEMENT = "5528413";
const LICENSE_NUMBER = "8812-7734";
const AUTHORIZATION = "M3N4B5V6C7X8Z9L";
const secrets = new Set<string>([AGREEMENT, OTHER_AGREEMENT, LICENSE_NUMBER, AUTHORIZATION]);

const SECRET_OUTPUTS = ["connection", "licenseCode", "licenseNumber", "authorizationNumber", "agreementNumber", "licenseKeyPackId"];

// Several tests start a fresh simulated server (role install, activation, a new warm pwsh) and the crash
// test slows every emulated call down on purpose: allow them time on a busy 2-core machine.
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

// ---- the program, as the SDK registers it ------------------------------------------------------------

type PackArgs = Omit<RdsCalPackArgs, "licenseServer">;

interface Program {
  ls: ResourceSpec;
  packs: Record<string, ResourceSpec>;
}

/**
 * Registers the license server and its packs under mocks (the SDK's real inputs and __provider), and
 * wires each pack's license-server inputs to the server's outputs in the engine's state.
 */
async function program(lsHost: string, packs: Record<string, PackArgs>, company = "Contoso"): Promise<Program> {
  const regs = await captureRegistrations(() => {
    const ls = new RdsLicenseServer("ls", {
      connection: { transport: "simulator", host: lsHost, stateDir },
      contact: { firstName: "Ada", lastName: "Lovelace", company, countryRegion: "United Kingdom" },
      activation: { method: "automatic" },
    });
    return [ls, ...Object.entries(packs).map(([name, args]) => new RdsCalPack(name, { licenseServer: ls, ...args }))];
  });
  const lsReg = regs.find((r) => r.name === "ls")!;
  const ls = specOf(lsReg, { additionalSecretOutputs: ["connection"] });
  const out: Program = { ls, packs: {} };
  for (const name of Object.keys(packs)) {
    const reg = regs.find((r) => r.name === name) as Registration;
    expect(reg.type).toBe("pulumi-nodejs:dynamic/rds:CalPack");
    expect(reg.inputs.journalKey).toBe(`proj/stack/${name}`);
    out.packs[name] = {
      urn: reg.urn,
      additionalSecretOutputs: SECRET_OUTPUTS,
      inputs: (refs) => {
        const o = refs.outputs(ls.urn);
        return {
          ...reg.inputs,
          connection: o.connection,
          licenseServerName: o.serverName,
          licenseServerActivationMethod: apply([o.activationMethod, o.activation] as const, ([made, declared]) =>
            made && made !== "external" ? made : ((declared as { method?: string } | undefined)?.method ?? ""),
          ),
        };
      },
    };
  }
  return out;
}

function specs(p: Program, only?: string[]): ResourceSpec[] {
  return [
    p.ls,
    ...Object.entries(p.packs)
      .filter(([n]) => !only || only.includes(n))
      .map(([, s]) => s),
  ];
}

function newEngine(): Engine {
  const e = createEngine(host);
  engines.push(e);
  return e;
}

async function expectFailure(promise: Promise<unknown>): Promise<DeploymentError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DeploymentError) {
      errors.push(err.message);
      return err;
    }
    throw err;
  }
  throw new Error("expected the deployment to fail");
}

function keyPackIdOf(engine: Engine, p: Program, name: string): number {
  return engine.outputs(p.packs[name].urn).keyPackId as number;
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
    base = {
      ea: { program: "enterpriseAgreement", agreementNumber: AGREEMENT, productVersion: "2022", calType: "perUser", quantity: 50 },
      open: {
        program: "openLicense",
        licenseNumber: LICENSE_NUMBER,
        authorizationNumber: AUTHORIZATION,
        productVersion: "2019",
        calType: "perDevice",
        quantity: 20,
      },
      box: {
        program: "retail",
        licenseCode: await retailCode(conn, "2022", "perDevice", 15),
        productVersion: "2022",
        calType: "perDevice",
      },
    };
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
    expect(ea).toMatchObject({
      program: "enterpriseAgreement",
      productVersion: "2022",
      calType: "perUser",
      totalLicenses: 50,
      availableLicenses: 50,
      typeAndModel: "RDS Per User CAL",
      keyPackType: 2,
    });
    expect(engine.outputs(p.packs.open.urn)).toMatchObject({
      productVersion: "2019",
      calType: "perDevice",
      totalLicenses: 20,
      keyPackType: 5,
    });
    expect(engine.outputs(p.packs.box.urn)).toMatchObject({
      productVersion: "2022",
      calType: "perDevice",
      totalLicenses: 15,
      keyPackType: 1,
    });
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

  test("a second up changes nothing", async () => {
    const before = installCalls(await callLog(conn)).length;
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
    expect(engine.calls({ method: "Create" }).length).toBe(4);
    expect(engine.calls({ method: "Update" }).length).toBe(0);
    const log = await callLog(conn);
    expect(installCalls(log).length).toBe(before);
    expect(log.filter((c) => c.method === "UninstallLicenseKeyPackWithId" || c.method === "RemoveLicensesWithIdCount")).toEqual([]);
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
    expect(installCalls(await callLog(conn)).length).toBe(3);
  });

  test("fewer CALs shrink the pack in place (RemoveLicensesWithIdCount, same KeyPackId)", async () => {
    const id = keyPackIdOf(engine, p, "ea");
    p = await program(LS_HOST, { ...base, ea: { ...base.ea, quantity: 30 } });
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.ea.urn)).toMatchObject({
      op: "update",
      diff: { changes: DiffChanges.DIFF_SOME, replaces: [] },
    });
    expect(keyPackIdOf(engine, p, "ea")).toBe(id);
    expect(engine.outputs(p.packs.ea.urn)).toMatchObject({ quantity: 30, totalLicenses: 30 });
    const log = await callLog(conn);
    expect(log.filter((c) => c.method === "RemoveLicensesWithIdCount").map((c) => c.result)).toEqual([0]);
    expect((await simPacks(conn)).find((x) => x.KeyPackId === id)?.TotalLicenses).toBe(30);
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
  });

  test("more CALs replace the pack: the new pack is installed before the old one is removed", async () => {
    const oldId = keyPackIdOf(engine, p, "ea");
    p = await program(LS_HOST, { ...base, ea: { ...base.ea, quantity: 60 } });
    const mark = (await callLog(conn)).length;
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.ea.urn)).toMatchObject({
      op: "replace",
      diff: { replaces: ["quantity"], deleteBeforeReplace: false },
    });
    const newId = keyPackIdOf(engine, p, "ea");
    expect(newId).not.toBe(oldId);
    const log = (await callLog(conn)).slice(mark);
    const install = log.find((c) => c.method === "InstallAgreementLicenseKeyPack")!;
    const uninstall = log.find((c) => c.method === "UninstallLicenseKeyPackWithId")!;
    expect(install.result).toBe(0);
    expect(uninstall.result).toBe(0);
    expect(install.seq).toBeLessThan(uninstall.seq);
    const live = await simPacks(conn);
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
    const mark = (await callLog(conn)).length;
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
    const log = (await callLog(conn)).slice(mark);
    expect(log.find((c) => c.method === "InstallAgreementLicenseKeyPack")!.seq).toBeLessThan(
      log.find((c) => c.method === "UninstallLicenseKeyPackWithId")!.seq,
    );
    const live = await simPacks(conn);
    expect(live.some((x) => x.KeyPackId === oldId)).toBe(false);
    const sim1 = live.find((x) => x.KeyPackId === keyPackIdOf(engine, p, "ea"))!;
    expect(sim1.program).toBe("select");
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same", "same", "same"]);
  });

  test("refresh: a pack removed out of band is gone from state, and the next up installs it again", async () => {
    const id = keyPackIdOf(engine, p, "open");
    expect(await admin(conn, { action: "uninstall", keyPackId: id })).toBe(0);
    const reports = await engine.refresh();
    expect(reports.find((r) => r.urn === p.packs.open.urn)?.op).toBe("delete");
    expect(reports.filter((r) => r.urn !== p.packs.open.urn).map((r) => r.op)).toEqual(["same", "same", "same"]);
    expect(engine.state.has(p.packs.open.urn)).toBe(false);
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.open.urn)?.op).toBe("create");
    const newId = keyPackIdOf(engine, p, "open");
    expect(newId).not.toBe(id);
    expect((await simPacks(conn)).find((x) => x.KeyPackId === newId)).toMatchObject({
      TotalLicenses: 20,
      ProductType: 0,
      ProductVersionID: 6,
    });
  });

  test("refresh: CALs removed out of band show as drift, and the next up repairs it", async () => {
    const id = keyPackIdOf(engine, p, "open");
    expect(await admin(conn, { action: "removeLicenses", keyPackId: id, count: 5 })).toBe(0);
    const reports = await engine.refresh();
    const r = reports.find((x) => x.urn === p.packs.open.urn)!;
    expect(r.op).toBe("update");
    expect(r.diff?.replaces).toEqual(["quantity"]);
    expect(stripSecrets(r.after!).totalLicenses).toBe(15);
    const steps = await engine.up(specs(p));
    expect(steps.find((s) => s.urn === p.packs.open.urn)?.op).toBe("replace");
    expect(engine.outputs(p.packs.open.urn).totalLicenses).toBe(20);
    expect((await engine.refresh()).map((x) => x.op)).toEqual(["same", "same", "same", "same"]);
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

describe("a server that is not activated", () => {
  test("the pack's create fails with RDS_NOT_ACTIVATED, the product id and the next step, and installs nothing", async () => {
    const LS_HOST = "ls-web.contoso.com";
    const conn = sim(LS_HOST, stateDir);
    const engine = newEngine();
    const regs = await captureRegistrations(() => {
      const ls = new RdsLicenseServer("ls", {
        connection: { transport: "simulator", host: LS_HOST, stateDir },
        contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
        activation: { method: "web" },
      });
      return [
        ls,
        new RdsCalPack("ea", {
          licenseServer: ls,
          program: "spla",
          agreementNumber: AGREEMENT,
          productVersion: "2022",
          calType: "perUser",
          quantity: 5,
        }),
      ];
    });
    const lsSpec = specOf(regs[0], { additionalSecretOutputs: ["connection"] });
    const packSpec: ResourceSpec = {
      urn: regs[1].urn,
      additionalSecretOutputs: SECRET_OUTPUTS,
      inputs: (refs) => {
        const o = refs.outputs(lsSpec.urn);
        return {
          ...regs[1].inputs,
          connection: o.connection,
          licenseServerName: o.serverName,
          licenseServerActivationMethod: apply([o.activationMethod, o.activation] as const, ([made, declared]) =>
            made && made !== "external" ? made : ((declared as { method?: string } | undefined)?.method ?? ""),
          ),
        };
      },
    };
    const err = await expectFailure(engine.up([lsSpec, packSpec]));
    expect(err.urn).toBe(packSpec.urn);
    const productId = engine.outputs(lsSpec.urn).productId as string;
    expect(engine.outputs(lsSpec.urn).activationStatus).toBe("pending");
    expect(err.message).toMatch(/the license server must be activated before you can install RDS CALs/);
    expect(err.message).toContain(productId);
    expect(err.message).toMatch(/https:\/\/activate\.microsoft\.com/);
    expect(installCalls(await callLog(conn))).toEqual([]);
    expect(engine.state.has(packSpec.urn)).toBe(false);
  });
});

describe("never twice", () => {
  test("the host dies right after the install call: a restarted host adopts that pack and never installs again", async () => {
    const LS_HOST = "ls-crash.contoso.com";
    const conn = sim(LS_HOST, stateDir);
    const engine = newEngine();
    const p = await program(LS_HOST, {
      users: { program: "campus", agreementNumber: AGREEMENT, productVersion: "2025", calType: "perUser", quantity: 40 },
    });
    await admin(conn, { action: "config", settings: { osVersion: "2025" } });
    await engine.up([p.ls]);

    // Every emulated call now sleeps after its effect is saved and logged: the install lands, the
    // host is killed while that call is still "returning", so the script never sees the KeyPackId.
    await admin(conn, { action: "fault", fault: "latencyMs", value: 3000 });
    const installed = () => callLogText(stateDir, LS_HOST).includes('"InstallAgreementLicenseKeyPack"');
    const pid = host.pid;
    const run = engine.up(specs(p)).then(
      () => "finished",
      (e) => e,
    );
    await waitFor("the install call in the emulator's call log", installed, 120_000, 10);
    await host.kill("SIGKILL");
    const outcome = await run;
    expect(outcome).toBeInstanceOf(DeploymentError);
    expect(String((outcome as DeploymentError).message)).toMatch(/grpc code 14|UNAVAILABLE|Connection dropped|No connection/i);
    expect(engine.state.has(p.packs.users.urn)).toBe(false);
    expect(engine.pendingOperations).toEqual([{ urn: p.packs.users.urn, type: "creating" }]);
    // The install happened once; the state never heard of it.
    await admin(conn, { action: "clearFaults" });
    expect((await simPacks(conn)).length).toBe(1);
    const journal = fs
      .readdirSync(journalDir)
      .map((f) => (f.endsWith(".json") ? JSON.parse(fs.readFileSync(path.join(journalDir, f), "utf8")) : null));
    expect(journal.filter((e) => e && e.host === LS_HOST).map((e) => e.status)).toEqual(["pending"]);

    await host.restart();
    expect(host.pid).not.toBe(pid);
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => s.op)).toEqual(["same", "create"]);
    const live = await simPacks(conn);
    expect(live.length).toBe(1);
    expect(installCalls(await callLog(conn)).filter((c) => c.result === 0).length).toBe(1);
    expect(engine.entry(p.packs.users.urn).id).toBe(String(live[0].KeyPackId));
    expect(engine.outputs(p.packs.users.urn)).toMatchObject({ totalLicenses: 40, productVersion: "2025", calType: "perUser" });
    // And from then on it is simply managed.
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same"]);
    expect(installCalls(await callLog(conn)).filter((c) => c.result === 0).length).toBe(1);
    await engine.destroy();
    expect(await simPacks(conn)).toEqual([]);
  });

  test("a matching pack without proof is ambiguous: listed, never adopted silently; adoptKeyPackId adopts it", async () => {
    const LS_HOST = "ls-adopt.contoso.com";
    const conn = sim(LS_HOST, stateDir);
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
    const manual = await admin<{ returnValue: number; keyPackId: number }>(conn, {
      action: "installAgreement",
      agreementType: 4,
      agreementNumber: OTHER_AGREEMENT,
      productVersionCode: 7,
      productTypeCode: 0,
      licenseCount: 12,
    });
    expect(manual.returnValue).toBe(0);

    const err = await expectFailure(engine.up(specs(p)));
    expect(err.message).toMatch(/RDS_AMBIGUOUS_PACK|already has a pack matching this declaration/);
    expect(err.message).toContain(`#${manual.keyPackId} (2022 Per Device, 12 CALs`);
    expect(err.message).toMatch(/set adoptKeyPackId/);
    expect(err.message).toMatch(/knownOtherPacks/);
    expect((await simPacks(conn)).length).toBe(1);

    p = await program(LS_HOST, { hosted: { ...declared, adoptKeyPackId: manual.keyPackId } });
    const steps = await engine.up(specs(p));
    expect(steps.map((s) => s.op)).toEqual(["same", "create"]);
    expect(engine.entry(p.packs.hosted.urn).id).toBe(String(manual.keyPackId));
    expect(installCalls(await callLog(conn)).length).toBe(1);
    expect((await engine.up(specs(p))).map((s) => s.op)).toEqual(["same", "same"]);

    // A second, identical declaration: the adopted pack is claimed, so it installs its own.
    p = await program(LS_HOST, { hosted: { ...declared, adoptKeyPackId: manual.keyPackId }, hosted2: declared });
    await engine.up(specs(p));
    expect((await simPacks(conn)).length).toBe(2);
    await engine.destroy();
  });
});

describe("codes that carry their own terms", () => {
  test("a retail code that installs another version than declared is recorded (partial failure), then fixed without a second install; a reused code is refused, naming who installed it or, without the journal, the candidate packs", async () => {
    const LS_HOST = "ls-adopt.contoso.com"; // activated, and empty after the test above
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
    expect(installCalls(await callLog(conn)).filter((c) => c.result === 0).length).toBe(installsBefore + 1);

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
    expect(installCalls(await callLog(conn)).filter((c) => c.result === 0).length).toBe(installsBefore + 1);
    await fresh.destroy();
    expect(await simPacks(conn)).toEqual([]);
    // The first stack's delete finds the pack gone: nothing to do.
    await engine.destroy();
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
    for (const h of ["ls01.contoso.com", "ls-web.contoso.com", "ls-crash.contoso.com", "ls-adopt.contoso.com"]) {
      const text = callLogText(stateDir, h);
      expect(text).toMatch(/Invoke-CimMethod/);
      expectNoSecrets(`the emulator call log of ${h}`, text, all);
    }
    // The install journal holds fingerprints, never the values.
    for (const f of fs.readdirSync(journalDir))
      expectNoSecrets(`journal file ${f}`, fs.readFileSync(path.join(journalDir, f), "utf8"), all);
  });
});
