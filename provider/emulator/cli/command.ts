/** The shape of a CLI command (its arguments, options and help) and the options every command accepts. */

export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Placeholder shown in help for string options. */
  value?: string;
  help: string;
}

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: Record<string, string | undefined>;
  /** Every argument after the first bare `--`, untouched; set only for a command that declares `rest`. */
  rest?: string[];
}

export interface Context {
  stateDir: string;
  json: boolean;
  out: (text: string) => void;
}

export interface Command {
  /** Words after `rds-sim`, e.g. "fault set". */
  name: string;
  /** The synopsis after `rds-sim <name>` when it is more than the positionals, e.g. "<host> --count <N>". */
  usage?: string;
  /** Positional arguments, in order. */
  positionals: Array<{ name: string; optional?: boolean; help: string }>;
  /**
   * Arguments after a bare `--` that the command hands on as they are (rds-sim run: the script's own
   * arguments), even those that look like options. A command without it takes after `--` only its
   * positionals (e.g. a host name starting with `-`).
   */
  rest?: { name: string; help: string };
  options: Record<string, OptionSpec>;
  summary: string;
  /** More help text (lines). */
  details?: string[];
  examples?: string[];
  run(ctx: Context, p: Parsed, cmd: Command): Promise<void>;
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  "state-dir": {
    type: "string",
    value: "DIR",
    help: "simulator state directory (default: $RDS_SIM_STATE_DIR, else ./.rds-sim)",
  },
  json: { type: "boolean", help: "print machine-readable JSON on stdout" },
  help: { type: "boolean", short: "h", help: "show help" },
};

export const HOST_ARG = { name: "host", help: "simulated host name (any string; case-insensitive)" };
