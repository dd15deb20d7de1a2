/**
 * RdsSessionHostLicensing's `connectivity` output: one entry per license server in effect, from the
 * host's Win32_TerminalServiceSetting.GetTStoLSConnectivityStatus (get.ps1 / Connectivity.Common.ps1 name and
 * explain the value). The schema of an entry and the warning the resource sends when a server is not
 * usable. Pure: no host, no I/O.
 */
import { z } from "zod";

/** One license server as the session host reaches it. */
export const connectivityEntrySchema = z.object({
  /** The license server's name, as the host's list (or the Group Policy list) gives it. */
  licenseServer: z.string(),
  /** TStoLSConnectivityStatus (0 also when the call failed: then `meaning` says why). */
  status: z.number().int(),
  /** Microsoft's name of the value (LS_CONNECTABLE_VALID_LS ...), or `unknown(<n>)`. */
  name: z.string(),
  /** Microsoft's meaning of the value (plus why, when the call failed). */
  meaning: z.string(),
  /** The host can get CALs from this server (1, 2, 9 or 11: a valid license server). */
  ok: z.boolean(),
});
export type ConnectivityEntry = z.infer<typeof connectivityEntrySchema>;

/** The entries whose server this host cannot use. */
export function unusableServers(entries: readonly ConnectivityEntry[] | undefined | null): ConnectivityEntry[] {
  return (entries ?? []).filter((e) => !e.ok);
}

/** One line per unusable server: `ls01 (6 LS_NOT_CONNECTABLE: ...)`. */
export function describeConnectivity(e: ConnectivityEntry): string {
  return `${e.licenseServer} (${e.status} ${e.name}: ${e.meaning})`;
}

/**
 * The warning RdsSessionHostLicensing sends when a license server in effect is not usable from the host
 * (unreachable, older than the host, not activated, no CALs of the mode...); undefined when all are.
 * A warning, not an error: the settings are applied as declared, and the server may be fixed later.
 */
export function connectivityWarning(host: string, entries: readonly ConnectivityEntry[] | undefined | null): string | undefined {
  const bad = unusableServers(entries);
  if (bad.length === 0) return undefined;
  return (
    `${host} cannot get CALs from ${bad.length === 1 ? "its license server" : `${bad.length} of its license servers`}: ` +
    `${bad.map(describeConnectivity).join("; ")}. The settings are applied; until a listed server is usable the host ` +
    `runs on its grace period (see the connectivity output, and finding RDS-LIC-013 of RdsLicensing)`
  );
}
