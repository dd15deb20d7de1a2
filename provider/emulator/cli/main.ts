/** The CLI run: resolve the command, parse, run it; map errors to messages and exit codes. */
import * as path from "path";
import type { Context } from "./command";
import { subcommandsOf, topWords } from "./commandTable";
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from "./errors";
import { printable } from "./format";
import { commandHelp, globalHelp, groupHelp, synopsis } from "./help";
import type { Resolved } from "./parse";
import { parseCommandArgs, resolveCommand } from "./parse";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
};

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let resolved: Resolved | undefined;
  try {
    resolved = resolveCommand(argv);
    if (resolved.help) {
      io.stdout(resolved.command ? commandHelp(resolved.command) : resolved.group ? groupHelp(resolved.group) : globalHelp());
      return EXIT_OK;
    }
    if (!resolved.command) {
      // Global options alone (e.g. `rds-sim --json`) still need a command.
      const stray = resolved.rest.find((t) => t.startsWith("-") && !["--json", "--state-dir"].includes(t.split("=")[0]!));
      throw new UsageError(
        stray
          ? `unknown option '${printable(stray)}' (accepted before a command: --state-dir, --json, --help)`
          : `missing command (accepted: ${topWords().join(", ")})`,
      );
    }
    const cmd = resolved.command;
    const { parsed, global } = parseCommandArgs(cmd, resolved.rest);
    const stateDir = path.resolve(io.cwd, global.stateDir ?? (io.env.RDS_SIM_STATE_DIR || path.join(io.cwd, ".rds-sim")));
    const ctx: Context = { stateDir, json: global.json, out: io.stdout };
    await cmd.run(ctx, parsed, cmd);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) {
      const where = e.command ? `rds-sim ${e.command.name}` : e.group ? `rds-sim ${e.group}` : "rds-sim";
      const hint = e.command
        ? `usage: ${synopsis(e.command)}  (see 'rds-sim ${e.command.name} --help')`
        : e.group
          ? `usage: rds-sim ${e.group} <${subcommandsOf(e.group)
              .map((c) => c.name.split(" ")[1])
              .join("|")}> ...  (see 'rds-sim ${e.group} --help')`
          : "usage: rds-sim [--state-dir DIR] [--json] <command> [arguments]  (see 'rds-sim --help')";
      io.stderr(`${where}: ${e.message}\n${hint}\n`);
      return EXIT_USAGE;
    }
    const name = resolved?.command ? `rds-sim ${resolved.command.name}` : "rds-sim";
    const message = e instanceof Error ? e.message : String(e);
    io.stderr(`${name}: ${printable(message)}\n`);
    return EXIT_ERROR;
  }
}
