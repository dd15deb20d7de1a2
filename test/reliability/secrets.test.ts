/**
 * Reliability: secrets. After a full run — a program with every kind of program data (retail license
 * code, Open License number and authorization number, agreement number, license key pack id), a
 * refresh, failures on purpose (a reused retail code refused by the Clearinghouse, an unreachable
 * Clearinghouse, a malformed agreement number and a password in an unknown connection field refused by
 * check) and a destroy — none of those values appears in plain text in:
 *   the outputs that are not secret (state, every host response), error messages (gRPC details,
 *   init-failure reasons, check failures, deployment errors, engine events), the logs (the host's
 *   stderr, the emulator's call logs, the runner's command text seen through the pool's onCommand hook
 *   inside the host, and in this process), the serialized providers (`__provider`), the install journal.
 *
 * A second stack (its own engine, the same host) activates a license server by the web method with a
 * license server id given as `pulumi.secret(id)`: the id, and every output that carries it (the
 * top-level `licenseServerId` and `activation`), is secret in state and in every host response, and
 * the id appears in plain text nowhere above either.
 *
 * Real: the Pulumi SDK running the program (the RdsLicensing component and the classes: pulumi.secret,
 * additionalSecretOutputs), the serialized providers, the dynamic-provider host process and gRPC, the
 * built providers, the runner, pwsh 7, the scripts, the journal. Stands in: the Pulumi CLI engine
 * (test/helpers/engine.ts via liveProgram.ts), Windows and the Clearinghouse (the emulator).
 * (The simulator transport has no credentials yet: a password can only reach the provider as a stray
 * connection field, which check refuses without echoing it.)
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { closeAll, onCommand } from "../../provider/powershell/pool";
import { RdsCalPack, type RdsCalPackArgs } from "../../provider/resources/calPack/resource";
import { RdsLicensing, type RdsLicensingArgs } from "../../provider/resources/component/rdsLicensing";
import { RdsLicenseServer } from "../../provider/resources/licenseServer/resource";
import { RdsSessionHostLicensing } from "../../provider/resources/sessionHostLicensing/resource";
import { captureRegistrations } from "../helpers/captureProvider";
import { createEngine, DeploymentError, type Engine } from "../helpers/engine";
import { assertBuilt, type ProviderHost } from "../helpers/providerHost";
import { componentResources, runProgram } from "../resources/component/liveProgram";
import { expectNoSecrets, isSecret, redact, Sim, tempDir } from "./support";
import { startCommandTappedHost } from "../helpers/commandTappedHost";

jest.setTimeout(600_000);

const stateDir = tempDir("secrets");
const journalDir = tempDir("secrets-journal");
const commandLog = path.join(tempDir("secrets-commands"), "commands.log");
const sim = new Sim(stateDir);
const LS = "ls-secret.contoso.com";
/** The license server the second stack activates by the web method, with a secret license server id. */
const LS_WEB = "ls-secret-web.contoso.com";
const SH = "sh-secret.contoso.com";
const PASSWORD = "S3cr3t-P@ssw0rd-4417";
const AGREEMENT = "8675309";
const BAD_AGREEMENT = "86753O9X";
const LICENSE_NUMBER = "24681357";
const AUTHORIZATION = "ZX98CV76BN54ML3";
const SECRET_OUTPUTS = ["connection", "licenseCode", "licenseNumber", "authorizationNumber", "agreementNumber", "licenseKeyPackId"];

const secrets: string[] = [PASSWORD, AGREEMENT, BAD_AGREEMENT, LICENSE_NUMBER, AUTHORIZATION];
const localCommands: string[] = [];
const errors: string[] = [];
const providers: string[] = [];
let host: ProviderHost;
let engine: Engine;
/** The second stack: the web-activated license server. */
let webEngine: Engine;
let retail = "";
let keyPack = "";

function args(extra: Partial<RdsLicensingArgs> = {}): RdsLicensingArgs {
  const conn = { transport: "simulator" as const, host: LS, stateDir };
  return {
    licenseServer: {
      connection: conn,
      contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
      activation: { method: "automatic" },
    },
    calPacks: [
      { name: "box", program: "retail", licenseCode: retail, productVersion: "2022", calType: "perUser" },
      {
        name: "open",
        program: "openLicense",
        licenseNumber: LICENSE_NUMBER,
        authorizationNumber: AUTHORIZATION,
        productVersion: "2019",
        calType: "perUser",
        quantity: 7,
      },
      { name: "ea", program: "enterpriseAgreement", agreementNumber: AGREEMENT, productVersion: "2022", calType: "perUser", quantity: 30 },
      { name: "offline", program: "keyPackId", licenseKeyPackId: keyPack, productVersion: "2022", calType: "perUser" },
    ],
    mode: "perUser",
    sessionHosts: [{ name: "sh", connection: { transport: "simulator", host: SH, stateDir } }],
    ...extra,
  };
}

async function up(a: RdsLicensingArgs, extra?: Omit<RdsCalPackArgs, "licenseServer">) {
  const run = await runProgram(engine, () => {
    const env = new RdsLicensing("farm", a);
    // A pack declared outside the component (the component itself refuses a pack declared twice).
    return [...componentResources(env), ...(extra ? [new RdsCalPack("again", { ...extra, licenseServer: env.licenseServer })] : [])];
  });
  for (const e of run.errors) errors.push(e.error.message);
  return run;
}

beforeAll(async () => {
  assertBuilt(["provider/resources", "provider/shim.ts", "provider/powershell"]);
  onCommand((command) => localCommands.push(command));
  await sim.prepareLicenseServer(LS, [], "2022");
  retail = await sim.retailCode("2022", "perUser", 12);
  keyPack = await sim.keyPackId(LS, "enterpriseAgreement", "2022", "perUser", 9);
  secrets.push(retail, keyPack);
  await sim.reset(LS); // the program itself installs, activates and configures from scratch (the Clearinghouse remembers the ids)
  host = await startCommandTappedHost({ stateDir, journalDir, commandLog });
  engine = createEngine(host);
  webEngine = createEngine(host);
});

afterAll(async () => {
  await host?.close();
  await closeAll();
  for (const d of [stateDir, journalDir, path.dirname(commandLog)]) fs.rmSync(d, { recursive: true, force: true });
});

describe("a full run, with failures on purpose", () => {
  test("up installs every program's pack, each secret field secret in state", async () => {
    const run = await up(args());
    expect(run.errors).toEqual([]);
    expect(engine.state.size).toBe(1 + 4 + 1);
    for (const e of engine.state.values()) {
      if (!e.type.endsWith(":CalPack")) continue;
      for (const k of SECRET_OUTPUTS) if (e.outputs[k] !== undefined) expect(isSecret(e.outputs[k])).toBe(true);
    }
    const refresh = await engine.refresh();
    expect(refresh.map((r) => r.op)).toEqual(["same", "same", "same", "same", "same", "same"]);
  });

  test("failures: a reused retail code, an unreachable Clearinghouse, a malformed number, a password in the connection", async () => {
    const base = args();
    // The same retail code declared twice: the Clearinghouse refuses it.
    const { name: _box, ...box } = base.calPacks[0];
    const twice = await up(base, box as Omit<RdsCalPackArgs, "licenseServer">);
    expect(twice.errors.length).toBe(1);
    expect(twice.errors[0].error.message).toMatch(/did not accept the license code/);
    // The Clearinghouse unreachable while another agreement pack installs.
    await sim.fault(LS, "clearinghouseUnreachable", true);
    const unreachable = await up({
      ...base,
      calPacks: [
        ...base.calPacks,
        { name: "ea2", program: "select", agreementNumber: AGREEMENT, productVersion: "2022", calType: "perUser", quantity: 3 },
      ],
    });
    await sim.clearFaults(LS);
    expect(unreachable.errors.length).toBe(1);
    expect(unreachable.errors[0].error.message).toMatch(/RDS_CLEARINGHOUSE_UNREACHABLE|could not reach the Microsoft Clearinghouse/);
    // A malformed agreement number: check refuses it (through the host), without the value.
    const malformed = await up({
      ...base,
      calPacks: [
        ...base.calPacks,
        { name: "bad", program: "school", agreementNumber: BAD_AGREEMENT, productVersion: "2022", calType: "perUser", quantity: 3 },
      ],
    });
    expect(malformed.errors.length).toBe(1);
    expect((malformed.errors[0].error as DeploymentError).details.failures?.[0].property).toBe("agreementNumber");
    // A password in an unknown connection field: refused by check, never echoed.
    const withPassword = await up({
      ...base,
      sessionHosts: [{ name: "sh", connection: { transport: "simulator", host: SH, stateDir, password: PASSWORD } as never }],
    });
    expect(withPassword.errors.length).toBe(1);
    expect(withPassword.errors[0].error.message).toMatch(/connection\.password/);
    // Back to the declared program: converged.
    const back = await up(base);
    expect(back.errors).toEqual([]);
    expect(back.steps.every((s) => s.op === "same" || s.op === "update")).toBe(true);
  });

  test("the serialized providers carry no secret", async () => {
    // The component's children, declared as the component declares them (captureRegistrations takes
    // dynamic resources only).
    const a = args();
    const regs = await captureRegistrations(() => {
      const ls = new RdsLicenseServer("farm-ls", a.licenseServer);
      const packs = a.calPacks.map(({ name, ...p }) => new RdsCalPack(`farm-${name}`, { ...p, licenseServer: ls }));
      const sh = new RdsSessionHostLicensing("farm-sh", {
        connection: a.sessionHosts![0].connection,
        mode: a.mode,
        licenseServers: [ls.serverName],
        calPacks: packs,
      });
      return [ls, ...packs, sh];
    });
    for (const r of regs) providers.push(r.provider);
    expect(providers.length).toBe(6);
  });

  test("a second stack: a license server activated by the web method with a secret license server id", async () => {
    const webServer = (activation: { method: "web"; licenseServerId?: pulumi.Input<string> }) => () => [
      new RdsLicenseServer("web-ls", {
        connection: { transport: "simulator", host: LS_WEB, stateDir },
        contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
        activation,
      }),
    ];
    // Phase 1: pending, the product id to give the web site.
    const pending = await runProgram(webEngine, webServer({ method: "web" }));
    expect(pending.errors).toEqual([]);
    const [entry] = [...webEngine.state.values()];
    const productId = webEngine.outputs(entry.urn).productId as string;
    const id = await sim.licenseServerId(productId);
    secrets.push(id);
    // Phase 2: the id from the web site, as a secret.
    const activated = await runProgram(webEngine, webServer({ method: "web", licenseServerId: pulumi.secret(id) }));
    for (const e of activated.errors) errors.push(e.error.message);
    expect(activated.errors).toEqual([]);
    const outputs = webEngine.entry(entry.urn).outputs;
    expect(webEngine.outputs(entry.urn)).toMatchObject({ activationStatus: "activated", licenseServerId: id });
    // Every output that carries the id is secret in state.
    for (const k of ["licenseServerId", "activation"]) expect(isSecret(outputs[k])).toBe(true);
    const refresh = await webEngine.refresh();
    expect(refresh.map((r) => r.op)).toEqual(["same"]);
    for (const k of ["licenseServerId", "activation"]) expect(isSecret(webEngine.entry(entry.urn).outputs[k])).toBe(true);
    // Nothing but the secret outputs holds it.
    expectNoSecrets("the web license server's state, secrets redacted", JSON.stringify(redact(webEngine.entry(entry.urn))), [id]);
  });

  test("destroy", async () => {
    await engine.destroy();
    expect(engine.state.size).toBe(0);
    await webEngine.destroy();
    expect(webEngine.state.size).toBe(0);
  });
});

describe("no secret anywhere in plain text after the run", () => {
  test("state outputs, host responses and errors", () => {
    expect(secrets.length).toBe(8);
    for (const [stack, e] of [
      ["", engine],
      [" (web stack)", webEngine],
    ] as const) {
      expectNoSecrets(`host responses${stack}`, JSON.stringify(redact(e.log.map((c) => c.response ?? null))), secrets);
      expectNoSecrets(
        `host errors (gRPC details, init failures)${stack}`,
        JSON.stringify(redact(e.log.map((c) => c.error ?? null))),
        secrets,
      );
      expectNoSecrets(`engine events${stack}`, JSON.stringify(e.events), secrets);
    }
    expectNoSecrets("deployment errors and check failures", errors.join("\n"), secrets);
    // Requests carry the secrets only inside secret wrappers where the engine keeps them secret: what
    // the engine stores is checked through the responses and state above.
    expect(errors.length).toBeGreaterThanOrEqual(4);
  });

  test("logs: host stderr, emulator call logs, runner command text (in the host and here)", () => {
    expectNoSecrets("host stderr", host.stderr(), secrets);
    for (const h of [LS, SH, LS_WEB]) {
      const text = sim.callLogText(h);
      expect(text).toMatch(/Invoke-CimMethod/);
      expectNoSecrets(`the emulator call log of ${h}`, text, secrets);
    }
    const commands = fs.readFileSync(commandLog, "utf8");
    expect(commands).toMatch(/Invoke-RdsOperation -ScriptPath/);
    expectNoSecrets("the runner's command text in the host", commands, secrets);
    expect(localCommands.length).toBeGreaterThan(0);
    expectNoSecrets("the runner's command text in this process", localCommands.join("\n"), secrets);
  });

  test("the serialized providers and the install journal", () => {
    expectNoSecrets("__provider", providers.join("\n"), secrets);
    for (const f of fs.readdirSync(journalDir))
      expectNoSecrets(`journal file ${f}`, fs.readFileSync(path.join(journalDir, f), "utf8"), secrets);
  });
});
