/**
 * Test setup and inspection against the WMI emulator, through the REAL runner: a fixture script
 * (fixtures/SimAdmin.ps1) calls the emulator's admin functions in a warm simulator pwsh (the emulator
 * module is loaded in every one), so setup does not start a pwsh per step. Not a test file.
 *
 * What is real: pwsh 7, the runner and pool, RdsEmulator.psm1 and its admin functions.
 * What stands in: Windows (the emulator), and the administrator who sets Group Policy, host facts, or
 * prepares a license server by hand.
 */
import * as path from "path";
import { z } from "zod";
import { packageRoot } from "../../../provider/paths";
import { runOperation } from "../../../provider/powershell/runner";
import { scriptConnection } from "../../helpers/scriptConnection";

const ADMIN_HOST = "rds-test-admin";

function fixture(): string {
  return path.join(packageRoot(), "test", "resources", "sessionHostLicensing", "fixtures", "SimAdmin.ps1");
}

async function admin<T>(stateDir: string, args: Record<string, unknown>, schema: z.ZodType<T>): Promise<T> {
  return runOperation(scriptConnection(ADMIN_HOST, stateDir), {
    name: `test.simAdmin.${String(args.action)}`,
    script: fixture(),
    args,
    result: schema,
  });
}

/** One emulator call-log row (Get-RdsSimCallLog). */
export interface CallLogRow {
  at: string;
  seq: number;
  pid: number;
  cmdlet: string;
  className: string | null;
  method: string | null;
  result: number;
  properties?: string[];
}

const callLogSchema = z.array(
  z
    .object({
      at: z.string(),
      seq: z.number(),
      pid: z.number(),
      cmdlet: z.string(),
      className: z.string().nullable(),
      method: z.string().nullable(),
      result: z.number(),
      properties: z.array(z.string()).optional(),
    })
    .passthrough(),
);

/** The emulator call log of one host, oldest first. */
export async function callLog(stateDir: string, host: string): Promise<CallLogRow[]> {
  return admin(stateDir, { action: "callLog", host }, callLogSchema) as Promise<CallLogRow[]>;
}

/** The call logs of several hosts in one call: host -> rows, oldest first. */
export async function callLogs(stateDir: string, hosts: string[]): Promise<Record<string, CallLogRow[]>> {
  return admin(stateDir, { action: "callLogs", hosts }, z.record(z.string(), callLogSchema)) as Promise<Record<string, CallLogRow[]>>;
}

/** Sets (a value) or removes (null) Group Policy licensing values of a host. */
export async function setGroupPolicy(
  stateDir: string,
  host: string,
  values: { licensingMode?: 2 | 4 | 6 | null; licenseServers?: string | null },
): Promise<void> {
  await admin(stateDir, { action: "groupPolicy", host, ...values }, z.unknown());
}

/** Set-RdsSimHostConfig: osVersion, partOfDomain, isConnectionBroker, gracePeriodDaysLeft, ... */
export async function setHostConfig(stateDir: string, host: string, settings: Record<string, unknown>): Promise<void> {
  await admin(stateDir, { action: "hostConfig", host, settings }, z.unknown());
}

/** Set-RdsSimFault: switches one emulator fault on a host (accessDenied, providerFailure, latencyMs, classNotReadyCalls...). */
export async function setFault(stateDir: string, host: string, fault: string, value: unknown): Promise<void> {
  await admin(stateDir, { action: "fault", host, fault, value }, z.unknown());
}

/** An administrator's own WMI call on a session host (out-of-band drift). */
export async function outOfBand(
  stateDir: string,
  host: string,
  call:
    | { method: "ChangeMode"; licensingType: number }
    | { method: "SetSpecifiedLicenseServerList"; list: string[] }
    | { method: "EmptySpecifiedLicenseServerList" },
): Promise<void> {
  await admin(stateDir, { action: "outOfBand", host, ...call }, z.unknown());
}

/** The license server id the simulated Clearinghouse (web site / telephone) gives for a product id. */
export async function clearinghouseLicenseServerId(stateDir: string, productId: string): Promise<string> {
  return admin(stateDir, { action: "clearinghouseLicenseServerId", productId }, z.string());
}

/** Get-RdsSimHost: the whole emulated state of a host. */
export async function hostView(stateDir: string, host: string): Promise<Record<string, unknown>> {
  return admin(stateDir, { action: "hostView", host }, z.record(z.string(), z.unknown()));
}

/**
 * Prepares an activated license server with CAL packs, through the emulator's own stand-ins for the
 * WMI calls (role installed, contact set, ActivateServerAutomatic, InstallAgreementLicenseKeyPack).
 * Returns the KeyPackIds in the order of `packs`.
 */
export async function prepareLicenseServer(
  stateDir: string,
  host: string,
  packs: { productVersion: "2008R2" | "2012" | "2016" | "2019" | "2022" | "2025"; calType: "perUser" | "perDevice"; count: number }[],
  osVersion = "2025",
): Promise<number[]> {
  return admin(stateDir, { action: "prepareLicenseServer", host, packs, osVersion }, z.array(z.number().int()));
}
