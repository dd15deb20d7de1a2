/**
 * RdsLicenseServer's progress lines on the channel `pulumi up` shows them by: the dynamic-provider
 * host's stderr, one `[rds] <host>: …` line per event, as they arrive. A create with the role missing
 * says, in order: the role install started, still running (the install is slow here and the ticker
 * interval small), done; each attempt of the wait for the licensing service; the Clearinghouse call;
 * activated. A web activation with a declared license server id says its call without the id; nothing
 * the host prints holds the id.
 *
 * Real: the Pulumi dynamic-provider host process and gRPC; the SDK's registration of
 * `new RdsLicenseServer(...)`; the built provider in bin/, the runner, its warm pwsh and every operation
 * script, streaming its progress records out while it runs.
 * Stands in: the Pulumi CLI engine (test/helpers/engine.ts), which here collects the host's stderr
 * lines the way the CLI reads them; Windows and the Clearinghouse (the WMI emulator, on a temporary
 * state directory: a role install that takes 2 s, the licensing class answering only at the third
 * query after the install). The ticker interval is 0.2 s (RDS_PROGRESS_INTERVAL_SECONDS) so that the
 * slow install shows "still running"; nothing here asserts on time: only on the lines and their order.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { createEngine } from "../../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { LS, LS2, programFor } from "./program";
import { simAdmin } from "./simAdmin";

jest.setTimeout(300_000);

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ls-progress-"));
const { conn, args, program } = programFor(stateDir);
/** Every line of the host's stderr, in the order it arrived. */
const stderrLines: string[] = [];
let host: ProviderHost;

beforeAll(async () => {
  assertBuilt(["provider/progress.ts", "provider/resources/kit.ts", "provider/resources/licenseServer", "provider/powershell"]);
  host = await startProviderHost({
    env: { RDS_PROGRESS: "1", RDS_PROGRESS_INTERVAL_SECONDS: "0.2" },
    onStderrLine: (line) => stderrLines.push(line),
  });
});

afterAll(async () => {
  await host?.close();
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** The progress lines that arrived since `from` (an index into stderrLines). */
function progressSince(from: number): string[] {
  return stderrLines.slice(from).filter((line) => line.startsWith("[rds] "));
}

/** Index of the first line at or after `from` that matches, or -1. */
function indexOf(lines: readonly string[], pattern: RegExp, from = 0): number {
  for (let i = from; i < lines.length; i++) if (pattern.test(lines[i])) return i;
  return -1;
}

test("a create with the role missing says, in order: role install started, still running, done; the service wait's attempts; the Clearinghouse call; activated", async () => {
  const admin = simAdmin(conn());
  await admin.config({ roleInstallSeconds: 2 });
  await admin.fault("classNotReadyCalls", 2);
  expect((await admin.host()).roleInstalled).toBe(false);

  const from = stderrLines.length;
  const engine = createEngine(host);
  const steps = await engine.up([await program(args())]);
  expect(steps.map((s) => s.op)).toEqual(["create"]);
  const lines = progressSince(from);
  // For the report: the lines as `pulumi up` (and the bundled harness) shows them.
  console.log(lines.join("\n"));

  for (const line of lines) expect(line.startsWith(`[rds] ${LS}: `)).toBe(true);
  const order = [
    /: installing the RDS-Licensing role: started \(Install-WindowsFeature RDS-Licensing/,
    /: installing the RDS-Licensing role: still running \(/,
    /: installing the RDS-Licensing role: done in /,
    /: preparing the license server: waiting for the licensing service: attempt 1 \(/,
    /: preparing the license server: waiting for the licensing service: attempt 2 \(/,
    /: preparing the license server: the licensing service answered at attempt 3 in /,
    /: activating license server: calling the Microsoft Clearinghouse \(ActivateServerAutomatic\)$/,
    /: activating license server: activated \(ActivateServerAutomatic\) in /,
  ];
  let at = -1;
  for (const pattern of order) {
    const next = indexOf(lines, pattern, at + 1);
    expect({ pattern: String(pattern), found: next >= 0 }).toEqual({ pattern: String(pattern), found: true });
    at = next;
  }
  // Ticks only between a step's first line and its close: none before the install started, none after
  // it was done, none for the steps that said nothing (reading, setting the contact).
  const installStarted = indexOf(lines, /: installing the RDS-Licensing role: started/);
  const installDone = indexOf(lines, /: installing the RDS-Licensing role: done in /);
  const installTicks = lines.map((l, i) => (/installing the RDS-Licensing role: still running/.test(l) ? i : -1)).filter((i) => i >= 0);
  expect(installTicks.every((i) => i > installStarted && i < installDone)).toBe(true);
  expect(lines.some((l) => /: (reading license server|setting license server properties): /.test(l))).toBe(false);
  expect((await admin.host()).licenseServer.activated).toBe(true);
});

test("a web activation with a declared license server id names its call, never the id: not in any line the host printed", async () => {
  const admin = simAdmin(conn(LS2));
  await admin.config({ roleInstalled: true });
  const productId = (await admin.host()).licenseServer.productId;
  const licenseServerId = await admin.licenseServerIdFor(productId);
  const from = stderrLines.length;

  const engine = createEngine(host);
  const spec = await program(args({ connection: conn(LS2), activation: { method: "web", licenseServerId } }));
  const steps = await engine.up([spec]);
  expect(steps.map((s) => s.op)).toEqual(["create"]);
  expect((await admin.host()).licenseServer.activated).toBe(true);

  const lines = progressSince(from);
  expect(lines).toContainEqual(`[rds] ${LS2}: activating license server: calling ActivateServer with activation.licenseServerId`);
  expect(lines).toContainEqual(expect.stringMatching(/: activating license server: activated \(ActivateServer\) in /));
  // A role already there and a service already running: nothing to say about either.
  expect(lines.some((l) => /installing the RDS-Licensing role|preparing the license server/.test(l))).toBe(false);
  const everything = stderrLines.slice(from).join("\n");
  const compact = licenseServerId.replace(/[-\s]/g, "").toUpperCase();
  expect(everything).not.toContain(licenseServerId);
  expect(everything).not.toContain(compact);
  for (let i = 0; i + 5 <= compact.length; i += 5) expect(everything).not.toContain(compact.slice(i, i + 5) + compact.slice(i + 5, i + 10));
});
