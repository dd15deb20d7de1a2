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
