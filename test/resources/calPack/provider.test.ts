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
import { RdsCalPack, type RdsCalPackArgs } from "../../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { captureRegistrations, type Registration } from "../../helpers/captureProvider";
import { apply, createEngine, DeploymentError, specOf, type Engine, type ResourceSpec } from "../../helpers/engine";
import { assertBuilt, isSecret, stripSecrets, type ProviderHost, type Props } from "../../helpers/providerHost";
import { admin, callLog, callLogText, expectNoSecrets, installCalls, sim, simPacks, tempDir, type SimCall } from "./support";
import { startCommandTappedHost } from "../../helpers/commandTappedHost";

const stateDir = tempDir("calpack-provider");
const journalDir = tempDir("calpack-journal");
const commandLog = path.join(tempDir("calpack-commands"), "commands.log");

const AGREEMENT = "4417302";
const LICENSE_NUMBER = "8812-7734";
const AUTHORIZATION = "M3N4B5V6C7X8Z9L";
const secrets = new Set<string>([AGREEMENT, LICENSE_NUMBER, AUTHORIZATION]);

const SECRET_OUTPUTS = ["connection", "licenseCode", "licenseNumber", "authorizationNumber", "agreementNumber", "licenseKeyPackId"];

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
