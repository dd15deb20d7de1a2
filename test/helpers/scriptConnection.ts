/**
 * Test helper (not a test file): the connection the resource script suites
 * (test/resources/<name>/scripts.test.ts) run on. By default a simulator connection (local pwsh + the
 * WMI emulator); test/transports/ssh-*-suites.test.ts switch it to the ssh transport (a real sshd on
 * 127.0.0.1 with the emulator on the far side) before they require the suites, so the very same tests
 * run over PowerShell SSH remoting.
 */
import type { Connection } from "../../provider/powershell/transport";

type Factory = (host: string, stateDir: string) => Connection;

let factory: Factory | undefined;
let label = "simulator";

/** Switches the suites of this test file to another transport. */
export function useScriptTransport(name: string, make: Factory): void {
  label = name;
  factory = make;
}

/** The connection for an emulated `host` whose state lives in `stateDir`. */
export function scriptConnection(host: string, stateDir: string): Connection {
  return factory ? factory(host, stateDir) : { transport: "simulator", host, stateDir };
}

/** "simulator", "ssh-key", "ssh-password": for test names and messages. */
export function scriptTransportName(): string {
  return label;
}
