#!/usr/bin/env node
/**
 * `rds-sim`: inspect and drive the RD Licensing simulator (the WMI emulator behind the `simulator`
 * transport). It lists and shows hosts, plays the Clearinghouse for web and telephone activation,
 * configures hosts, issues licenses to fake clients, injects faults and Group Policy values, and
 * resets state. The command reference lives in CLI.md next to this file.
 *
 * Each command runs pwsh once: `pwsh -NoLogo -NoProfile -NonInteractive -File cli-driver.ps1
 * -ModulePath <RdsEmulator.psm1>` with one request (base64 JSON) on stdin. Arguments are data: they
 * reach PowerShell only as values in that request, never as script text.
 *
 * Exit codes: 0 success, 1 the emulator (or pwsh) reported an error, 2 bad arguments.
 *
 * This file is the executable (package.json "bin" points at its build, bin/provider/emulator/cli.js);
 * the CLI itself lives in cli/: parse.ts (arguments), commands/ (one module per command group),
 * format.ts (output), driver.ts (the pwsh call), values.ts (the values the emulator accepts).
 */
import { EXIT_ERROR } from "./cli/errors";
import { main } from "./cli/main";

export { findPwsh } from "./cli/driver";
export { main } from "./cli/main";
export type { CliIo } from "./cli/main";

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`rds-sim: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT_ERROR;
    },
  );
}
