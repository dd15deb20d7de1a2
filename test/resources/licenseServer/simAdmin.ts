/**
 * Test helper (not a test file): emulator admin functions and out-of-band administrator actions for the
 * RdsLicenseServer tests, run through the real runner on a simulator connection (fixtures/SimAdmin.ps1),
 * so they share the emulator's state directory, locks and call log with the code under test.
 */
import * as path from "path";
import { z } from "zod";
import { runOperation } from "../../../provider/powershell/runner";
import type { Connection } from "../../../provider/powershell/transport";

const ADMIN_SCRIPT = path.join(__dirname, "fixtures", "SimAdmin.ps1");

async function admin<T>(connection: Connection, args: Record<string, unknown>, result: z.ZodType<T>): Promise<T> {
  return runOperation(connection, { name: `test.simAdmin.${String(args.action)}`, script: ADMIN_SCRIPT, args, result });
}

export interface SimHostView {
  hostName: string;
  computerName: string;
  roleInstalled: boolean;
  serviceStatus: string | null;
  features: Record<string, boolean>;
  faults: Record<string, unknown>;
  licenseServer: {
    productId: string;
    activationStatus: number;
    activated: boolean;
    licenseServerId: string | null;
    activationMethod: string | null;
    reactivations: number;
    lastReactivationReason: number | null;
    serverRole: number;
    contact: Record<string, string | null>;
  };
  [key: string]: unknown;
}

export interface CallLogEntry {
  seq: number;
  cmdlet: string;
  className: string | null;
  method: string | null;
  result: number;
  properties?: string[];
}

const anyObject = z.record(z.string(), z.unknown());

export function simAdmin(connection: Connection) {
  return {
    host: async () => (await admin(connection, { action: "host" }, anyObject)) as unknown as SimHostView,
    config: (settings: Record<string, unknown>) => admin(connection, { action: "config", settings }, anyObject),
    fault: (fault: string, value: unknown) => admin(connection, { action: "fault", fault, value }, anyObject),
    /** Forget the host (state and call log): the next use creates it with defaults. */
    reset: () => admin(connection, { action: "reset" }, z.literal(true)),
    clearFaults: () => admin(connection, { action: "clearFaults" }, anyObject),
    calls: async () => (await admin(connection, { action: "calls" }, z.array(anyObject))) as unknown as CallLogEntry[],
    /** What the simulated Clearinghouse (web site / telephone operator) gives for a product id. */
    licenseServerIdFor: (productId: string) => admin(connection, { action: "licenseServerId", productId }, z.string()),
    /** An administrator calling a Win32_TSLicenseServer method by hand. */
    invoke: (method: string, args?: Record<string, unknown>) =>
      admin(connection, { action: "invoke", method, arguments: args ?? null }, z.object({ ReturnValue: z.number() })),
    /** An administrator installing an agreement pack (ProductVersion input 6 = 2019; ProductType 0 device, 1 user): its KeyPackId. */
    installPack: (productType: 0 | 1, licenseCount: number, productVersion = 6) =>
      admin(connection, { action: "installPack", productType, licenseCount, productVersion }, z.number()),
    /** Clients (per device: `computer`) or users (per user: `user`) taking CALs from a pack (Add-RdsSimIssuedLicense). */
    issue: (keyPackId: number, count: number, names: { computer?: string; user?: string } = {}) =>
      admin(connection, { action: "issue", keyPackId, count, computer: names.computer ?? null, user: names.user ?? null }, anyObject),
    /** An administrator's per-user report (GenerateReportEx), left on the server: its FileName. */
    report: () => admin(connection, { action: "report" }, z.string()),
    /** A leftover key pack row (KeyPackType 7, no licenses) as real servers list: its KeyPackId. */
    leftoverPack: () => admin(connection, { action: "leftoverPack" }, z.number()),
    /** An administrator editing contact properties by hand (WMI property names). */
    setContact: (properties: Record<string, string>) => admin(connection, { action: "setContact", properties }, z.literal(true)),
  };
}

/** The WMI method calls (Invoke-CimMethod) in a call log, in order. */
export function methodCalls(calls: readonly CallLogEntry[]): string[] {
  return calls.filter((c) => c.cmdlet === "Invoke-CimMethod").map((c) => String(c.method));
}

/** The activation-changing WMI calls in a call log. */
export function activationCalls(calls: readonly CallLogEntry[]): string[] {
  return methodCalls(calls).filter((m) => /^(Activate|Reactivate|Deactivate)Server/.test(m));
}
