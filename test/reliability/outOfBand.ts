/**
 * The out-of-band changes of the convergence properties: what an administrator does by hand on a
 * license server or a session host between two `pulumi up`s. Shared by convergence.test.ts (the real
 * emulator) and convergence.fast.test.ts (the fake world): the same `Sim` admin calls reach either.
 * Not a test file.
 */
import { isRdsError } from "../../provider/errors";
import type { Sim } from "./support";

export type LicenseServerChange = { kind: string; company?: string; role?: number };
export type SessionHostChange = { kind: string; type?: number; list?: string[] };

/**
 * An administrator's action on the license server. One that does not apply to the server as it is
 * (no role, not activated) is refused, as Windows refuses it, and that is fine.
 */
export async function changeLicenseServer(sim: Sim, host: string, o: LicenseServerChange): Promise<void> {
  try {
    if (o.kind === "contact") await sim.setContact(host, { Company: o.company! });
    else if (o.kind === "deactivate") await sim.wmi(host, { className: "Win32_TSLicenseServer", method: "DeactivateServerAutomatic" });
    else if (o.kind === "stopService") await sim.config(host, { serviceStatus: "Stopped" });
    else if (o.kind === "changeRole")
      await sim.wmi(host, {
        className: "Win32_TSLicenseServer",
        method: "ChangeRole",
        arguments: { ServerRole: { type: "uint32", value: o.role } },
      });
    else if (o.kind === "removeRole") await sim.config(host, { roleInstalled: false });
    else if (o.kind === "wipe") await sim.reset(host); // the server rebuilt from scratch (same name, same product id)
  } catch (e) {
    if (!isRdsError(e)) throw e;
  }
}

const TS = { className: "Win32_TerminalServiceSetting", namespace: "root/cimv2/TerminalServices", instance: true };

/** An administrator's action on a session host: its own WMI calls, or the host rebuilt. */
export async function changeSessionHost(sim: Sim, host: string, o: SessionHostChange): Promise<void> {
  if (o.kind === "changeMode")
    await sim.wmi(host, { ...TS, method: "ChangeMode", arguments: { LicensingType: { type: "uint32", value: o.type } } });
  else if (o.kind === "setList")
    await sim.wmi(host, {
      ...TS,
      method: "SetSpecifiedLicenseServerList",
      arguments: { SpecifiedLSList: { type: "string[]", value: o.list } },
    });
  else if (o.kind === "emptyList") await sim.wmi(host, { ...TS, method: "EmptySpecifiedLicenseServerList" });
  else await sim.reset(host); // the host rebuilt: licensing back to not configured
}
