/**
 * Transports: how a warm pwsh reaches a target. The connection schema (a zod discriminated union on
 * `transport`) and the `Transport` interface every transport implements.
 *
 * Today there is one transport, `simulator` (local pwsh + the WMI emulator module). `local`, `winrm`
 * and `ssh` slot in as more union members and more `Transport` objects in `transportFor()`; the
 * runner, the pool and the resources do not change. Resources never look inside a connection except
 * `host`.
 *
 * Intended shape of the remote transports (not built yet):
 * - `preamble`: nothing beyond Bootstrap.ps1 (loaded by the pool for every transport).
 * - `initOperation`: a script (e.g. transports/RemoteInit.ps1) whose envelope carries the
 *   connection, credentials included. Inside PowerShell it builds the PSCredential from the envelope
 *   (never from command text), creates ONE persistent PSSession (`New-PSSession -ComputerName ...
 *   -UseSSL` for winrm, `-HostName ... -SSHTransport` for ssh), stores it in `$global:RdsSession`,
 *   loads RdsCommon.psm1 into it (`Invoke-Command -Session $s -FilePath ...`), and calls
 *   `Set-RdsOperationInvoker { param($ScriptPath, $Envelope)
 *      Invoke-Command -Session $global:RdsSession -FilePath $ScriptPath -ArgumentList $Envelope }`.
 *   Every operation then still goes through the one command
 *   `Invoke-RdsOperation -ScriptPath '<path>' -EnvelopePath '<path>'`: the envelope is read locally
 *   and travels to the remote host inside the session as an argument, never as source text.
 *   Results cross the session intact (Write-RdsResult makes them JSON strings on the remote side and
 *   Bootstrap accepts `Deserialized.Rds.Result`, tested with PowerShell's remoting serializer). Errors
 *   do not yet: remoting drops Exception.Data, where New-RdsScriptError keeps its code, so the remote
 *   invoker will have to catch on the remote side and return the error document as data.
 * - `targetKey`: transport + user + host + port; never the password.
 */
import { z } from "zod";
import { simulatorTransport } from "./transports/simulator";

export { resolveStateDir } from "./transports/simulator";
export { quotePowerShellLiteral } from "./envelope";

/** Host names as Windows knows them: 1..253 characters, no control characters. */
export const hostSchema = z
  .string()
  .min(1, "host must not be empty")
  .max(253, "host must be at most 253 characters")
  // eslint-disable-next-line no-control-regex
  .refine((value) => !/[\u0000-\u001f\u007f-\u009f]/.test(value), "host must not contain control characters");

/** The simulator: a local pwsh with the WMI emulator module standing in for Windows. */
export const simulatorConnectionSchema = z
  .object({
    transport: z.literal("simulator"),
    /** The simulated host's name (any name; each gets its own state file). */
    host: hostSchema,
    /**
     * Where the emulator keeps its state (one JSON file per host). Default: `$RDS_SIM_STATE_DIR`,
     * else `<cwd>/.rds-sim`, resolved to an absolute path when an operation runs.
     */
    stateDir: z.string().min(1, "stateDir must not be empty").optional(),
  })
  .strict();

/** Every way to reach a target; discriminated on `transport`. */
export const connectionSchema = z.discriminatedUnion("transport", [simulatorConnectionSchema]);

export type SimulatorConnection = z.infer<typeof simulatorConnectionSchema>;
export type Connection = z.infer<typeof connectionSchema>;

/** An operation the pool runs once in a fresh pwsh, through Invoke-RdsOperation like any other. */
export interface InitOperation {
  name: string;
  /** Absolute path of the init script. */
  script: string;
  /** Travels in the envelope file: user values (host names, credentials) go here, never into commands. */
  args: Record<string, unknown>;
}

export interface Transport<C extends Connection = Connection> {
  readonly kind: C["transport"];
  /**
   * Operations with equal keys share one warm pwsh and one FIFO queue. Built from what identifies
   * the target (transport, host, state dir / user / port), never from secrets.
   */
  targetKey(connection: C): string;
  /**
   * Commands to run once in a fresh pwsh after Bootstrap.ps1 is loaded, each printing one result
   * document (use `Import-RdsModule -Path '<path>'`). Only package paths may appear in them, quoted
   * with `quotePowerShellLiteral` (envelope.ts); never a user value.
   */
  preamble(connection: C): string[];
  /** The operation that binds the fresh pwsh to its target (selects the simulated host, opens the PSSession). */
  initOperation(connection: C): InitOperation | undefined;
}

/** The transport that serves a (validated) connection. */
export function transportFor(connection: Connection): Transport {
  switch (connection.transport) {
    case "simulator":
      return simulatorTransport as Transport;
  }
}

/** The pool key of a connection: one warm pwsh and one queue per key. */
export function targetKey(connection: Connection): string {
  return transportFor(connection).targetKey(connection);
}
