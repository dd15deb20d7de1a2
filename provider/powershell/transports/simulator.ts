/**
 * The simulator transport: a local pwsh with the WMI emulator module (provider/emulator/RdsEmulator.psm1)
 * standing in for Windows. The emulator defines functions named like the CIM cmdlets the scripts call,
 * so operation scripts run unchanged.
 *
 * A fresh pwsh imports the emulator (preamble: a package path only), then runs SimulatorInit.ps1,
 * which calls `Set-RdsEmulatorContext -StateDir -HostName`. The host name and the state directory are
 * user data, so they travel in that init operation's envelope file, never in command text.
 * A shared worker (workerGroup) is bound to the state directory only; SimulatorInit.ps1 then installs
 * an operation invoker that selects each operation's host from its envelope before the script runs.
 */
import * as path from "path";
import { providerFile } from "../../paths";
import { quotePowerShellLiteral } from "../envelope";
import type { InitOperation, SimulatorConnection, Transport } from "../transport";

/** The simulator state directory for a connection: explicit, else $RDS_SIM_STATE_DIR, else <cwd>/.rds-sim; absolute, resolved now. */
export function resolveStateDir(connection: SimulatorConnection): string {
  const configured = connection.stateDir ?? process.env.RDS_SIM_STATE_DIR;
  return path.resolve(configured !== undefined && configured.length > 0 ? configured : path.join(process.cwd(), ".rds-sim"));
}

/** The emulator module the simulator imports into each warm pwsh. */
export function emulatorModulePath(): string {
  return providerFile("emulator/RdsEmulator.psm1");
}

export const simulatorTransport: Transport<SimulatorConnection> = {
  kind: "simulator",

  targetKey(connection: SimulatorConnection): string {
    return JSON.stringify(["simulator", resolveStateDir(connection), connection.host]);
  },

  preamble(): string[] {
    return [`Import-RdsModule -Path ${quotePowerShellLiteral(emulatorModulePath())}`];
  },

  initOperation(connection: SimulatorConnection): InitOperation {
    return {
      name: "session.init",
      script: providerFile("powershell/transports/SimulatorInit.ps1"),
      args: { stateDir: resolveStateDir(connection) },
    };
  },

  // Simulated hosts live in files and the emulator's only per-pwsh state is "which host am I": a
  // shared worker selects it from each operation's envelope, so a fleet of simulated targets needs a
  // few pwsh, not one each (pool option simulatorWorkers).
  workerGroup(connection: SimulatorConnection): string {
    return JSON.stringify(["simulator-workers", resolveStateDir(connection)]);
  },

  workerInitOperation(connection: SimulatorConnection): InitOperation {
    return {
      name: "session.init",
      script: providerFile("powershell/transports/SimulatorInit.ps1"),
      args: { stateDir: resolveStateDir(connection), shared: true },
    };
  },
};
