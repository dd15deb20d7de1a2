/**
 * Shared bits of the RdsCalPack tests. Not a test file.
 *
 * `admin()` runs test/resources/calPack/fixtures/SimAdmin.ps1 through the real runner on the simulated
 * host: emulator admin functions and plain WMI calls standing in for the administrator, the
 * Clearinghouse web site and clients (never the RdsLicenseServer scripts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { packageRoot } from "../../../provider/paths";
import { runOperation } from "../../../provider/powershell/runner";
import type { Connection } from "../../../provider/powershell/transport";
import { scriptConnection } from "../../helpers/scriptConnection";

export const ADMIN_SCRIPT = path.join(packageRoot(), "test", "resources", "calPack", "fixtures", "SimAdmin.ps1");

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** The connection to a simulated host: the simulator, or ssh to a local sshd in test/transports/ssh-*-suites.test.ts. */
export function sim(host: string, stateDir: string): Connection {
  return scriptConnection(host, stateDir);
}

export async function admin<T = unknown>(connection: Connection, args: Record<string, unknown>): Promise<T> {
  return runOperation(connection, { name: "test.simAdmin", script: ADMIN_SCRIPT, args, result: z.any(), timeoutMs: 60_000 }) as Promise<T>;
}

export interface SimPack {
  KeyPackId: number;
  KeyPackType: number;
  ProductType: number;
  ProductVersionID: number;
  TotalLicenses: number;
  IssuedLicenses: number;
  AvailableLicenses: number;
  program: string;
  installMethod: string | null;
}

export interface SimCall {
  seq: number;
  at: string;
  pid: number;
  cmdlet: string;
  className: string;
  method: string | null;
  result: number;
}

/** The raw text of a host's emulator call log file (<stateDir>/hosts/<hex of the lower-case host name>.calls.jsonl). */
export function callLogText(stateDir: string, host: string): string {
  const file = path.join(stateDir, "hosts", `${Buffer.from(host.toLowerCase(), "utf8").toString("hex")}.calls.jsonl`);
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

/** The packs on the simulated host (built-in pack left out). */
export async function simPacks(connection: Connection): Promise<SimPack[]> {
  const h = await admin<{ licenseServer: { keyPacks: SimPack[] } }>(connection, { action: "host" });
  return h.licenseServer.keyPacks.filter((p) => p.KeyPackId !== 2);
}

export async function callLog(connection: Connection): Promise<SimCall[]> {
  return (await admin<SimCall[] | null>(connection, { action: "callLog" })) ?? [];
}

export const INSTALL_METHODS = [
  "InstallRetailPurchaseLicenseKeyPack",
  "InstallOpenLicenseKeyPack",
  "InstallAgreementLicenseKeyPack",
  "InstallLicenseKeyPack",
];

/** Install* calls in a call log. */
export function installCalls(log: SimCall[]): SimCall[] {
  return log.filter((c) => c.method !== null && INSTALL_METHODS.includes(c.method));
}

/** Polls until `condition` holds. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Fails when any of `secrets` (as given, or without hyphens/spaces, upper-cased) occurs in `text`. */
export function expectNoSecrets(where: string, text: string, secrets: readonly string[]): void {
  for (const s of secrets) {
    for (const form of new Set([s, s.replace(/[-\s]/g, ""), s.replace(/[-\s]/g, "").toUpperCase()])) {
      if (form.length >= 4 && text.includes(form)) throw new Error(`a secret (${form.length} characters) appears in ${where}`);
    }
  }
}
