/**
 * Issue 16, "never twice" across processes: two provider hosts (two processes, as two stacks or two
 * `pulumi up` on one license server would run) create the same CAL pack declaration at the same
 * moment, 20 times over. Each round: exactly one pack on the server, exactly one journal entry, one
 * create returned that pack and the other stopped with RDS_AMBIGUOUS_PACK (it waited for the install
 * lock, then saw the first one's pack and `returned` entry: "the engine already got that pack", never
 * a silent second owner). Overlap is proven by the progress channel, not the clock: in every round the
 * losing host said it was waiting for the install lock held by the winner's pid. Then two stacks
 * (another journalKey) declaring the same agreement pack: two packs, the second installed only after
 * it saw the first (its journal entry lists the first pack among the packs before its install).
 *
 * Real: two dynamic-provider host processes and gRPC, the `__provider` string the SDK registers for
 * RdsCalPack, the built provider (bin/), the runner and pwsh 7, the operation scripts, the install
 * journal and its lock files on disk (one journal folder for both hosts).
 * Stands in: the engine (raw Create/Delete RPCs with the props it would send), Windows and the
 * Clearinghouse (the emulator, with a small latency on every call so a create holds the lock a while),
 * the administrator (fixtures/SimAdmin.ps1).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { closeAll } from "../../../provider/powershell/pool";
import type { Connection } from "../../../provider/powershell/transport";
import { RdsCalPack } from "../../../provider/resources/calPack/resource";
import { captureRegistrations } from "../../helpers/captureProvider";
import { assertBuilt, HostRpcError, startProviderHost, type ProviderHost, type Props } from "../../helpers/providerHost";
import { admin, simPacks, tempDir } from "./support";

jest.setTimeout(900_000);

const ROUNDS = 20;
const stateDir = tempDir("calpack-two");
const journalDir = tempDir("calpack-two-journal");
const keyDir = tempDir("calpack-two-key");
const LS = "two-ls.contoso.com";
const conn = (host: string): Connection => ({ transport: "simulator", host, stateDir });
const URN = "urn:pulumi:stack::proj::pulumi-nodejs:dynamic/rds:CalPack::users";

let providerCode: unknown;
const hosts: { host: ProviderHost; lines: string[] }[] = [];

beforeAll(async () => {
  assertBuilt([
    "provider/resources/calPack",
    "provider/resources/kit.ts",
    "provider/errors.ts",
    "provider/progress.ts",
    "provider/powershell",
  ]);
  const [reg] = await captureRegistrations(
    () =>
      new RdsCalPack("users", {
        licenseServer: { connection: pulumi.output(conn(LS)), serverName: pulumi.output("LS") },
        program: "enterpriseAgreement",
        agreementNumber: "7654321",
        productVersion: "2022",
        calType: "perUser",
        quantity: 25,
      }),
  );
  providerCode = reg.inputs.__provider;
  const env = { RDS_SIM_STATE_DIR: stateDir, RDS_JOURNAL_DIR: journalDir, RDS_JOURNAL_KEY_FILE: path.join(keyDir, "journal.key") };
  for (let i = 0; i < 2; i++) {
    const lines: string[] = [];
    const host = await startProviderHost({ env, onStderrLine: (line) => lines.push(line) });
    hosts.push({ host, lines });
  }
  expect((await admin<{ returnValue: number }>(conn(LS), { action: "activate" })).returnValue).toBe(0);
  // Every emulated call holds a little after its effect: a create keeps the lock while its scripts run.
  await admin(conn(LS), { action: "fault", fault: "latencyMs", value: 40 });
});

afterAll(async () => {
  for (const h of hosts) await h.host.close();
  await closeAll();
  for (const d of [stateDir, journalDir, keyDir]) fs.rmSync(d, { recursive: true, force: true });
});

/** Inputs as check leaves them, for the resource `journalKey`. */
function inputs(journalKey = "proj/stack/users"): Props {
  return {
    connection: conn(LS),
    licenseServerName: "LS",
    licenseServerActivationMethod: "automatic",
    journalKey,
    program: "enterpriseAgreement",
    agreementNumber: "7654321",
    productVersion: "2022",
    calType: "perUser",
    quantity: 25,
    allowRemovingIssuedLicenses: false,
    knownOtherPacks: [],
    __provider: providerCode,
  };
}

function journalEntries(): { host: string; status: string; keyPackId?: number; journalKey: string; packsBefore: number[] }[] {
  return fs
    .readdirSync(journalDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(fs.readFileSync(path.join(journalDir, f), "utf8")));
}

function messageOf(e: unknown): string {
  if (!(e instanceof HostRpcError)) throw e;
  return e.initFailure ? e.initFailure.reasons.join("; ") : e.details;
}

const waitLine = (pid: number) => new RegExp(`waiting for the install lock held by pid ${pid} `);

test(`two processes create the same CAL pack at once, ${ROUNDS} times: one pack, one journal entry each time`, async () => {
  const props = inputs();
  const wins = [0, 0];
  for (let round = 0; round < ROUNDS; round++) {
    const marks = hosts.map((h) => h.lines.length);
    const settled = await Promise.allSettled(hosts.map((h) => h.host.create({ urn: URN, properties: props })));
    const winners = settled.flatMap((s, i) => (s.status === "fulfilled" ? [i] : []));
    expect({ round, winners: winners.length }).toEqual({ round, winners: 1 });
    const w = winners[0];
    const loser = 1 - w;
    wins[w]++;
    const created = (settled[w] as PromiseFulfilledResult<{ id: string; properties: Props }>).value;
    const refusal = messageOf((settled[loser] as PromiseRejectedResult).reason);
    expect(refusal.trimEnd()).toMatch(/\[RDS_AMBIGUOUS_PACK\]$/);
    expect(refusal).toContain(`#${created.id}`);

    // The overlap: the loser waited for the lock the winner held (said on its progress channel).
    const loserLines = hosts[loser].lines.slice(marks[loser]);
    expect({ round, waited: loserLines.some((l) => waitLine(hosts[w].host.pid).test(l)) }).toEqual({ round, waited: true });

    const packs = await simPacks(conn(LS));
    expect({ round, packs: packs.map((p) => String(p.KeyPackId)) }).toEqual({ round, packs: [created.id] });
    const entries = journalEntries();
    expect({ round, entries: entries.map((e) => [e.status, String(e.keyPackId)]) }).toEqual({ round, entries: [["returned", created.id]] });
    // No lock file is left once both creates answered.
    expect(fs.readdirSync(journalDir).filter((f) => f.endsWith(".lock") || f.includes(".stale-"))).toEqual([]);

    // Next round from a clean server: the winner deletes its pack (and its journal entry) as destroy would.
    await hosts[w].host.delete({ urn: URN, id: created.id, properties: created.properties, oldInputs: props });
    expect(await simPacks(conn(LS))).toEqual([]);
    expect(journalEntries()).toEqual([]);
  }
  // Both processes won some rounds (who wins is the race): not asserted, only reported on failure.
  expect(wins[0] + wins[1]).toBe(ROUNDS);
});

test("two stacks declaring the same agreement pack get two packs: the second installs after seeing the first", async () => {
  const keys = ["proj/stack-a/users", "proj/stack-b/users"];
  const marks = hosts.map((h) => h.lines.length);
  const created = await Promise.all(hosts.map((h, i) => h.host.create({ urn: URN, properties: inputs(keys[i]) })));
  const ids = created.map((c) => c.id);
  expect(new Set(ids).size).toBe(2);
  expect((await simPacks(conn(LS))).map((p) => String(p.KeyPackId)).sort()).toEqual([...ids].sort());
  const entries = journalEntries();
  expect(entries.length).toBe(2);
  // The one that waited installed with the other's pack already there (it looked after the first recorded it).
  const waited = hosts.findIndex((h, i) => h.lines.slice(marks[i]).some((l) => waitLine(hosts[1 - i].host.pid).test(l)));
  expect(waited).toBeGreaterThanOrEqual(0);
  const second = entries.find((e) => e.journalKey === keys[waited])!;
  expect(second.packsBefore.map(String)).toContain(ids[1 - waited]);
  for (let i = 0; i < 2; i++)
    await hosts[i].host.delete({ urn: URN, id: created[i].id, properties: created[i].properties, oldInputs: inputs(keys[i]) });
  expect(await simPacks(conn(LS))).toEqual([]);
});
