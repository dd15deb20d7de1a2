/**
 * Refresh of many CAL packs on one license server: concurrent Reads through the REAL dynamic-provider
 * host are coalesced into a few get.ps1 runs (provider/powershell/coalesce.ts), each Read still
 * answering with its own pack.
 *
 * What is real: the host process and gRPC, the `__provider` strings and inputs the SDK registers for
 * RdsLicenseServer and RdsCalPack, the built providers (bin/), the pool, pwsh, every operation script.
 * What stands in: the Pulumi CLI engine (engine.ts for the sequential setup; the 30 Reads are sent at
 * once, as a refresh with enough parallelism does), Windows (the emulator). A preload
 * (fixtures/commandTap.js) records the commands the runner sends to pwsh inside the host: that is the
 * count of invocations, so this fails if reads stop being coalesced (it would be 30).
 */
import * as fs from "fs";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { RdsCalPack } from "../../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { captureRegistrations } from "../../helpers/captureProvider";
import { apply, createEngine, specOf, type ResourceSpec } from "../../helpers/engine";
import { assertBuilt, stripSecrets, type ProviderHost } from "../../helpers/providerHost";
import { tempDir } from "./support";
import { startCommandTappedHost } from "../../helpers/commandTappedHost";

const PACKS = 30;
const stateDir = tempDir("calpack-coalesce");
const journalDir = tempDir("calpack-coalesce-journal");
const commandLog = path.join(tempDir("calpack-coalesce-commands"), "commands.log");
const SECRET_OUTPUTS = ["connection", "licenseCode", "licenseNumber", "authorizationNumber", "agreementNumber", "licenseKeyPackId"];

jest.setTimeout(600_000);

let host: ProviderHost;

beforeAll(async () => {
  assertBuilt(["provider/resources/calPack", "provider/resources/licenseServer", "provider/powershell"]);
  host = await startCommandTappedHost({ stateDir, journalDir, commandLog });
});

afterAll(async () => {
  await host?.close();
  await closeAll();
  for (const d of [stateDir, journalDir, path.dirname(commandLog)]) fs.rmSync(d, { recursive: true, force: true });
});

/** get.ps1 commands the runner sent to pwsh so far (every command names its script). */
function getCommands(): number {
  if (!fs.existsSync(commandLog)) return 0;
  const script = path.join("resources", "calPack", "get.ps1");
  return fs
    .readFileSync(commandLog, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("Invoke-RdsOperation") && line.includes(script)).length;
}

describe("RdsCalPack reads of one license server", () => {
  it(`coalesces ${PACKS} concurrent Reads into at most 3 get.ps1 invocations, each Read getting its own pack`, async () => {
    const regs = await captureRegistrations(() => {
      const ls = new RdsLicenseServer("ls", {
        connection: { transport: "simulator", host: "ls-coalesce", stateDir },
        contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
        activation: { method: "automatic" },
      });
      const packs = Array.from(
        { length: PACKS },
        (_, i) =>
          new RdsCalPack(`pack${i}`, {
            licenseServer: ls,
            program: "enterpriseAgreement",
            agreementNumber: String(5528400 + i),
            productVersion: "2022",
            calType: i % 2 === 0 ? "perUser" : "perDevice",
            quantity: 10 + i,
          }),
      );
      return [ls, ...packs];
    });
    const ls = specOf(regs[0], { additionalSecretOutputs: ["connection"] });
    const packs: ResourceSpec[] = regs.slice(1).map((reg) => ({
      urn: reg.urn,
      additionalSecretOutputs: SECRET_OUTPUTS,
      inputs: (refs) => {
        const o = refs.outputs(ls.urn);
        return {
          ...reg.inputs,
          connection: o.connection,
          licenseServerName: o.serverName,
          licenseServerActivationMethod: apply(o.activationMethod, (m) => m ?? ""),
        };
      },
    }));
    const engine = createEngine(host);
    await engine.up([ls, ...packs]);
    const entries = packs.map((p) => engine.entry(p.urn));
    expect(new Set(entries.map((e) => e.id)).size).toBe(PACKS);

    const before = getCommands();
    const reads = await Promise.all(
      entries.map((e) => host.read({ urn: e.urn, id: e.id, properties: stripSecrets(e.outputs), inputs: stripSecrets(e.inputs) })),
    );
    // The tap appends synchronously inside the host before each command is sent: the count is complete.
    const invocations = getCommands() - before;
    expect(invocations).toBeGreaterThanOrEqual(1);
    expect(invocations).toBeLessThanOrEqual(3);

    // Each Read answered with its own pack (its id, its quantity and CAL type), not a neighbour's.
    reads.forEach((r, i) => {
      expect(r.id).toBe(entries[i].id);
      expect(r.properties).toMatchObject({
        keyPackId: Number(entries[i].id),
        totalLicenses: 10 + i,
        calType: i % 2 === 0 ? "perUser" : "perDevice",
      });
    });
  });
});
