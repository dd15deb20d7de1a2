/**
 * RdsSessionHostLicensing at `pulumi preview`, through the REAL dynamic-provider host: a Per Device
 * session host fed a NEW Per User CAL pack. At preview the pack's keyPackId is unknown (the pack does
 * not exist yet) while its calType and productVersion are known; the session host's `check` must see
 * them and refuse the mode with RDS_MODE_MISMATCH, before `up` would activate, install and configure
 * anything. Nothing is written anywhere: the emulator's files (its state and WMI call logs) are the
 * same bytes before and after the preview, and no Create/Update/Delete crossed the host.
 *
 * Real: the Pulumi SDK in preview mode running the program (RdsLicenseServer, RdsCalPack,
 * RdsSessionHostLicensing classes, the SDK's serialization of partially known objects), the serialized
 * `__provider` shims, the dynamic-provider host process and gRPC, the built providers (bin/), and for
 * the first `up`: the runner, pwsh 7 and the operation scripts. Stands in: the Pulumi CLI engine
 * (engine/engine.ts; the preview driven per registration by ./previewProgram.ts, the up by
 * ../component/liveProgram.ts) and Windows (the WMI emulator, state in a temp directory).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeUrn } from "../../../engine/hostProtocol";
import { closeAll } from "../../../provider/powershell/pool";
import { RdsCalPack } from "../../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { RdsSessionHostLicensing } from "../../../provider/resources/sessionHostLicensing/resource";
import { createEngine, DeploymentError, UNKNOWN, type Engine } from "../../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { runProgram } from "../component/liveProgram";
import { previewProgram } from "./previewProgram";

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-shl-preview-"));
const LS = "ls-preview.contoso.com";
const SH = "sh-preview.contoso.com";
const SH_URN = makeUrn("pulumi-nodejs:dynamic/rds:SessionHostLicensing", "sh");
const PACK_URN = makeUrn("pulumi-nodejs:dynamic/rds:CalPack", "users-new");

let host: ProviderHost;
let engine: Engine;

/** The program: a license server and a Per Device session host; with `newPack`, a new Per User pack fed to the host. */
function program(newPack: boolean) {
  const sim = (h: string) => ({ transport: "simulator" as const, host: h, stateDir });
  return () => {
    const ls = new RdsLicenseServer("ls", {
      connection: sim(LS),
      contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
      activation: { method: "automatic" },
    });
    const packs = newPack
      ? [
          new RdsCalPack("users-new", {
            licenseServer: ls,
            program: "enterpriseAgreement",
            agreementNumber: "1234567",
            productVersion: "2022",
            calType: "perUser",
            quantity: 10,
          }),
        ]
      : [];
    const sh = new RdsSessionHostLicensing("sh", {
      connection: sim(SH),
      mode: "perDevice",
      licenseServers: [ls.serverName],
      ...(newPack ? { calPacks: packs } : {}),
    });
    return [ls, ...packs, sh];
  };
}

/** Every file under the emulator's state directory, by relative path, as a digest of its bytes. */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) visit(r);
      else
        out[r] = crypto
          .createHash("sha256")
          .update(fs.readFileSync(path.join(dir, r)))
          .digest("hex");
    }
  };
  visit("");
  return out;
}

beforeAll(async () => {
  assertBuilt([
    "provider/resources/sessionHostLicensing",
    "provider/resources/calPack",
    "provider/resources/licenseServer",
    "provider/shim.ts",
  ]);
  host = await startProviderHost();
  engine = createEngine(host);
}, 120_000);

afterAll(async () => {
  await host?.close();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe("preview of a Per Device host fed a new Per User pack", () => {
  it("the stack exists: a license server and a Per Device host without packs", async () => {
    const run = await runProgram(engine, program(false));
    expect(run.errors).toEqual([]);
    expect(run.steps.map((s) => s.op)).toEqual(["create", "create"]);
  }, 600_000);

  it("fails at the host's check with RDS_MODE_MISMATCH, the pack's calType known while its keyPackId is not; nothing is written", async () => {
    const filesBefore = filesOf(stateDir);
    expect(Object.keys(filesBefore).length).toBeGreaterThan(0);
    const mark = engine.log.length;

    const run = await previewProgram(engine, program(true));

    // The license server is unchanged, the pack would be created, the host's check refuses the mode.
    expect(run.steps.map((s) => [s.urn.split("::").pop(), s.op])).toEqual([
      ["ls", "same"],
      ["users-new", "create"],
    ]);
    expect(run.errors.map((e) => e.urn)).toEqual([SH_URN]);
    const error = run.errors[0].error as DeploymentError;
    expect(error.kind).toBe("checkFailed");
    expect(error.details.failures).toEqual([{ property: "mode", reason: expect.stringMatching(/^RDS_MODE_MISMATCH: /) }]);
    expect(error.details.failures![0].reason).toMatch(/perDevice needs Per Device CALs/);

    // What the host's check received: the pack entry with its calType and version known, its id unknown.
    const checks = engine.calls({ method: "Check", urn: SH_URN });
    const news = checks[checks.length - 1].request as { news: { calPacks: Record<string, unknown>[] } };
    expect(news.news.calPacks).toHaveLength(1);
    expect(news.news.calPacks[0]).toMatchObject({ keyPackId: UNKNOWN, calType: "perUser", productVersion: "2022" });

    // Preview is check and diff only: no Create/Update/Delete crossed the host, and the emulator's
    // files (state and WMI call logs of every host) are the same bytes.
    const methods = engine.log.slice(mark).map((c) => c.method);
    expect(methods.filter((m) => !["GetPluginInfo", "Configure", "Check", "Diff"].includes(m))).toEqual([]);
    expect(engine.calls({ method: "Check", urn: PACK_URN })).toHaveLength(1);
    expect(filesOf(stateDir)).toEqual(filesBefore);
  }, 600_000);
});
