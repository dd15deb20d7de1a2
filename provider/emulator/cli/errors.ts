/** The CLI's two kinds of failure and its exit codes. */
import type { Command } from "./command";

/** Bad command line: exit 2, with a usage hint. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
    readonly group?: string,
  ) {
    super(message);
  }
}

/** The emulator, pwsh or the environment said no: exit 1. */
export class CliError extends Error {}

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;
