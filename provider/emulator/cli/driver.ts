/**
 * The pwsh side of every command: one fresh pwsh per call running cli-driver.ps1 with the emulator
 * module, one request (base64 JSON) on stdin, one marked JSON line back on stdout (pwshChild.ts).
 */
import { providerFile } from "../../paths";
import type { Context } from "./command";
import { runPwshChild } from "./pwshChild";

// cli.ts and the tests find pwsh where the driver is.
export { findPwsh } from "./pwshChild";

/**
 * A JSON view the emulator answers (a host, a fault list, the call log): the CLI prints it as it comes
 * and the emulator owns its shape, so it is not typed field by field here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above: the one untyped document type of the CLI
export type EmulatorView = any;

/** What answers one driver action: the pwsh driver below, or (in process) a stand-in a test sets. */
export type EmulatorCaller = (ctx: Context, action: string, args: Record<string, unknown>) => Promise<EmulatorView>;

let caller: EmulatorCaller = callDriverInPwsh;

/**
 * Replaces what answers driver actions (pass nothing to restore the pwsh driver). The seam lets the
 * CLI's own logic (parsing, validation, output) run in process without a pwsh per call.
 */
export function setEmulatorCaller(replacement?: EmulatorCaller): void {
  caller = replacement ?? callDriverInPwsh;
}

/** Runs one driver action (in a fresh pwsh unless replaced); resolves to its result, or throws CliError. */
export async function callEmulator<T = EmulatorView>(ctx: Context, action: string, args: Record<string, unknown>): Promise<T> {
  return (await caller(ctx, action, args)) as T;
}

/** Runs one driver action in a fresh pwsh (one request on stdin); resolves to its result, or throws CliError. */
export async function callDriverInPwsh<T = EmulatorView>(ctx: Context, action: string, args: Record<string, unknown>): Promise<T> {
  const request = Buffer.from(JSON.stringify({ stateDir: ctx.stateDir, action, args }), "utf8").toString("base64");
  return runPwshChild<T>({
    file: providerFile("emulator/cli-driver.ps1"),
    parameters: ["-ModulePath", providerFile("emulator/RdsEmulator.psm1")],
    stdin: request,
  });
}
