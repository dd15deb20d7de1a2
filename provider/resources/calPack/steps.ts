/**
 * RdsCalPack's kit (provider/resources/kit.ts: secrets, parsing, steps, partial success, codes) and
 * its operation scripts as typed steps. Each step is one script of this folder on the license server,
 * with its own timeout; a failure comes back as `<doing> on <host>: <cause>` with its code.
 */
import { Coalescer } from "../../powershell/coalesce";
import { parseConnection } from "../../powershell/runner";
import { targetKey, type Connection } from "../../powershell/transport";
import { resourceKit } from "../kit";
import * as messages from "./messages";
import {
  FIELDS,
  getManyResultSchema,
  getResultSchema,
  inspectResultSchema,
  installResultSchema,
  removeResultSchema,
  resizeResultSchema,
  type CalPackInputs,
  type InspectResult,
  type InstallResult,
  type Pack,
} from "./schema";

type Props = Record<string, unknown>;

/** The install step's timeout; also the longest a create waits for another process's install lock. */
export const INSTALL_TIMEOUT_MS = 300_000;

export const kit = resourceKit<"inspect" | "install" | "get" | "resize" | "remove">({
  folder: "calPack",
  secretFields: FIELDS.secretFields,
  secretValueFields: FIELDS.secretValueFields,
  // Installs talk to the Microsoft Clearinghouse; resize and remove change the local database; reads are local.
  timeoutsMs: { inspect: 60_000, get: 60_000, install: INSTALL_TIMEOUT_MS, resize: 120_000, remove: 120_000 },
});

/** The host an error names: the connection's, or a placeholder when state has none. */
export function hostOf(props: { connection?: unknown }): string {
  const host = (props.connection as { host?: unknown } | undefined)?.host;
  return typeof host === "string" ? host : "(unknown host)";
}

/** Whether the license server can take the pack (activated, version), and the packs already there. */
export function inspect(d: CalPackInputs, doing: string, secrets: readonly string[]): Promise<InspectResult> {
  const args = { productVersion: d.productVersion, activationMethod: d.licenseServerActivationMethod };
  return kit.run(d.connection, { op: "inspect", args, result: inspectResultSchema, doing }, secrets).catch((e: unknown) => {
    // The refusal on a pending server names the simulator's stand-in for the Clearinghouse there only.
    throw messages.withActivationRoute(e, d.connection.transport, d.licenseServerActivationMethod);
  });
}

export function install(d: CalPackInputs, args: Props, doing: string, secrets: readonly string[]): Promise<InstallResult> {
  return kit.run(d.connection, { op: "install", args, result: installResultSchema, doing }, secrets);
}

/** The pack with this KeyPackId, or null (one get.ps1, not coalesced: create, update and delete act on it next). */
export async function getPack(connection: Connection, keyPackId: number, doing: string, secrets: readonly string[]): Promise<Pack | null> {
  return (await kit.run(connection, { op: "get", args: { keyPackId }, result: getResultSchema, doing }, secrets)).pack;
}

export async function resize(d: CalPackInputs, keyPackId: number, doing: string, secrets: readonly string[]): Promise<Pack> {
  const args = { keyPackId, quantity: d.quantity, allowRemovingIssuedLicenses: d.allowRemovingIssuedLicenses };
  return (await kit.run(d.connection, { op: "resize", args, result: resizeResultSchema, doing }, secrets)).pack;
}

export async function remove(
  connection: Connection,
  p: Pack,
  allowRemovingIssuedLicenses: boolean,
  doing: string,
  secrets: readonly string[],
): Promise<void> {
  const args = { keyPackId: p.keyPackId, productVersionId: p.productVersionId, productType: p.productType, allowRemovingIssuedLicenses };
  await kit.run(connection, { op: "remove", args, result: removeResultSchema, doing }, secrets);
}

/**
 * Refresh reads every pack at once: concurrent reads of one license server run as ONE get.ps1 with
 * the list of KeyPackIds (coalesce.ts: the batch takes every read that arrives until the script
 * starts), and each read gets its own pack back.
 */
const packReads = new Coalescer<{ connection: Connection; keyPackId: number }, Pack | null>(async (_key, first, take) => {
  const args = () => ({ keyPackIds: take().map((read) => read.keyPackId) });
  return (await kit.run(first.connection, { op: "get", args, result: getManyResultSchema, doing: "reading CAL packs" })).packs;
});

/** The live pack with this KeyPackId, or null, through the coalesced batch of its license server. */
export function readPack(connection: Connection, keyPackId: number): Promise<Pack | null> {
  // parseConnection: a bad connection fails here as RDS_VALIDATION, as the runner would fail it.
  return packReads.join(targetKey(parseConnection(connection)), { connection, keyPackId });
}
