/**
 * Refresh of many CAL packs on one license server: concurrent Reads through the REAL dynamic-provider
 * host are coalesced into a few get.ps1 runs (provider/powershell/coalesce.ts), each Read still
 * answering with its own pack.
 *
 * What is real: the host process and gRPC, the `__provider` string and inputs the SDK registers for
 * RdsCalPack (one registration captured, its inputs varied per pack), the built provider (bin/), the pool, pwsh, get.ps1 and the emulator it reads.
 * What stands in: the Pulumi CLI engine (the 30 Reads are sent at once, as a refresh with enough
 * parallelism does, each with the state a create would have left: the registered inputs, the license
 * server's outputs and the pack's id); the packs are installed out of band (fixtures/SimAdmin.ps1, one
 * command for the fleet) rather than created one by one through the host: creating them is covered by
 * provider.test.ts, and here only the Reads matter. Windows is the emulator. A preload
 * (fixtures/commandTap.js) records the commands the runner sends to pwsh inside the host: that is the
 * count of invocations, so this fails if reads stop being coalesced (it would be 30).
 * The coalescing logic itself has unit tests in test/powershell/coalesce.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { PRODUCT_TYPE_CODE, PRODUCT_VERSION_CODE } from "../../../provider/licensing/facts";
import { closeAll } from "../../../provider/powershell/pool";
import type { SimulatorConnection } from "../../../provider/powershell/transport";
import { RdsCalPack } from "../../../provider/resources/calPack/resource";
import { AGREEMENT_TYPE } from "../../../provider/resources/calPack/schema";
import { captureRegistrations } from "../../helpers/captureProvider";
import { startCommandTappedHost } from "../../helpers/commandTappedHost";
import { assertBuilt, stripSecrets, type ProviderHost } from "../../helpers/providerHost";
import { admin, tempDir } from "./support";

const PACKS = 30;
const LS = "ls-coalesce";
const stateDir = tempDir("calpack-coalesce");
const journalDir = tempDir("calpack-coalesce-journal");
const commandLog = path.join(tempDir("calpack-coalesce-commands"), "commands.log");
const connection: SimulatorConnection = { transport: "simulator", host: LS, stateDir };

jest.setTimeout(300_000);

let host: ProviderHost;

beforeAll(async () => {
  assertBuilt(["provider/resources/calPack", "provider/powershell"]);
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

const calTypeOf = (i: number) => (i % 2 === 0 ? "perUser" : "perDevice");

describe("RdsCalPack reads of one license server", () => {
  it(`coalesces ${PACKS} concurrent Reads into at most 3 get.ps1 invocations, each Read getting its own pack`, async () => {
    // Every pack registers the same `__provider` string: one registration gives it; the inputs differ per pack.
    const [reg] = await captureRegistrations(
      () =>
        new RdsCalPack("pack0", {
          licenseServer: { connection: pulumi.output(connection), serverName: pulumi.output(LS) },
          program: "enterpriseAgreement",
          agreementNumber: "5528400",
          productVersion: "2022",
          calType: calTypeOf(0),
          quantity: 10,
        }),
    );
    const packs = Array.from({ length: PACKS }, (_, i) => ({
      urn: reg.urn.replace(/::pack0$/, `::pack${i}`),
      inputs: { ...stripSecrets(reg.inputs), agreementNumber: String(5528400 + i), calType: calTypeOf(i), quantity: 10 + i },
    }));
    // An activated license server and the 30 packs, as the creates would have left them.
    expect((await admin<{ returnValue: number }>(connection, { action: "activate" })).returnValue).toBe(0);
    const installed = await admin<{ returnValue: number; keyPackId: number }[]>(connection, {
      action: "installAgreements",
      packs: packs.map((_, i) => ({
        agreementType: AGREEMENT_TYPE.enterpriseAgreement,
        agreementNumber: String(5528400 + i),
        productVersionCode: PRODUCT_VERSION_CODE["2022"],
        productTypeCode: PRODUCT_TYPE_CODE[calTypeOf(i)],
        licenseCount: 10 + i,
      })),
    });
    expect(installed.map((r) => r.returnValue)).toEqual(packs.map(() => 0));
    const ids = installed.map((r) => String(r.keyPackId));
    expect(new Set(ids).size).toBe(PACKS);
    const states = packs.map((pack, i) => {
      const inputs = { ...pack.inputs, connection, licenseServerName: LS, licenseServerActivationMethod: "automatic" };
      return { urn: pack.urn, id: ids[i], inputs, properties: { ...inputs, keyPackId: Number(ids[i]), totalLicenses: 10 + i } };
    });

    const before = getCommands();
    const reads = await Promise.all(states.map((s) => host.read(s)));
    // The tap appends synchronously inside the host before each command is sent: the count is complete.
    const invocations = getCommands() - before;
    expect(invocations).toBeGreaterThanOrEqual(1);
    expect(invocations).toBeLessThanOrEqual(3);

    // Each Read answered with its own pack (its id, its quantity and CAL type), not a neighbour's.
    reads.forEach((r, i) => {
      expect(r.id).toBe(ids[i]);
      expect(r.properties).toMatchObject({ keyPackId: Number(ids[i]), totalLicenses: 10 + i, calType: calTypeOf(i) });
    });
  });
});
