/**
 * The `local` transport: the machine that runs Pulumi is the target (the license server or session
 * host itself). Scripts run in the warm local shell against the real cmdlets, exactly as on the
 * simulator but without the emulator: pwsh 7 by default, or Windows PowerShell 5.1 (`shell:
 * "powershell"`, Windows only).
 *
 * Lab option `emulator: { stateDir }`: the shell imports the WMI emulator and selects `host` in that
 * state directory (the simulator's preamble and init), so the local plumbing can be exercised on any
 * machine. Without it, on Linux, the scripts meet the real (absent) CIM cmdlets and fail.
 */
import * as path from "path";
import { providerFile } from "../../paths";
import { quotePowerShellLiteral } from "../envelope";
import { findPwsh, findWindowsPowerShell, type PwshLookup } from "../executable";
import type { InitOperation, LocalConnection, Transport } from "../transport";
import { emulatorModulePath } from "./simulator";

export const localTransport: Transport<LocalConnection> = {
  kind: "local",

  targetKey(connection: LocalConnection): string {
    const lab = connection.emulator ? path.resolve(connection.emulator.stateDir) : null;
    return JSON.stringify(["local", connection.shell ?? "pwsh", connection.host, lab]);
  },

  preamble(connection: LocalConnection): string[] {
    return connection.emulator ? [`Import-RdsModule -Path ${quotePowerShellLiteral(emulatorModulePath())}`] : [];
  },

  initOperation(connection: LocalConnection): InitOperation | undefined {
    if (!connection.emulator) return undefined;
    return {
      name: "session.init",
      script: providerFile("powershell/transports/SimulatorInit.ps1"),
      args: { stateDir: path.resolve(connection.emulator.stateDir) },
    };
  },

  executable(connection: LocalConnection): PwshLookup {
    return connection.shell === "powershell" ? findWindowsPowerShell() : findPwsh();
  },
};
