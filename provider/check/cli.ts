#!/usr/bin/env node
/**
 * `rds-licensing check`: a read-only health check of an RD licensing farm (a license server and its
 * session hosts), with or without Pulumi. It reads every host once, computes the findings of the
 * RdsLicensing component (one rule engine) and prints them with the facts behind them.
 * The page: docs/check.md.
 *
 * This file is the executable (package.json "bin" points at its build, bin/provider/check/cli.js); the
 * command lives next to it: args.ts (flags), inventory.ts (the inventory and its validation), read.ts
 * (the reads), mapping.ts (facts → findings input), report.ts / text.ts (output), main.ts (the run).
 *
 * Exit codes: 0 no error-severity finding fails, 1 errors found, 2 could not check.
 */
import { EXIT_NOT_CHECKED } from "./errors";
import { main } from "./main";

export { main, runCheck } from "./main";
export type { CheckIo } from "./main";

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`rds-licensing check: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = EXIT_NOT_CHECKED;
    },
  );
}
