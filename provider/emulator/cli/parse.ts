/** Argument parsing: which command the words name, then its options and positionals (node's parseArgs). */
import { parseArgs } from "util";
import type { Command, Parsed } from "./command";
import { GLOBAL_OPTIONS } from "./command";
import { commands, GROUPS, subcommandsOf, topWords } from "./commandTable";
import { UsageError } from "./errors";
import { printable } from "./format";

export interface Resolved {
  command?: Command;
  group?: string;
  /** argv without the command words. */
  rest: string[];
  help: boolean;
}

export function resolveCommand(argv: string[]): Resolved {
  const words: string[] = [];
  const rest: string[] = [];
  let help = false;
  let wanted = 1;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (token.startsWith("-") && token !== "-") {
      if (token === "-h" || token === "--help") help = true;
      rest.push(token);
      // A global option's value must not be taken for a command word.
      if (words.length < wanted && token === "--state-dir" && i + 1 < argv.length) rest.push(argv[++i]!);
      continue;
    }
    if (words.length < wanted) {
      words.push(token);
      if (words.length === 1 && token in GROUPS) wanted = 2;
      // `rds-sim help [<command> [<sub>]]`
      if (words.length === 1 && token === "help") wanted = 2;
      if (words.length === 2 && words[0] === "help" && token in GROUPS) wanted = 3;
      continue;
    }
    rest.push(token);
  }

  if (words.length === 0) return { rest, help };
  const [first, second] = words as [string, string | undefined];
  if (first === "help") return { ...resolveHelpTarget(words.slice(1)), rest: [], help: true };
  if (first in GROUPS) {
    if (second === undefined) {
      if (help) return { group: first, rest, help };
      throw new UsageError(
        `missing command after '${first}' (accepted: ${subcommandsOf(first)
          .map((c) => c.name.split(" ")[1])
          .join(", ")})`,
        undefined,
        first,
      );
    }
    const cmd = commands.find((c) => c.name === `${first} ${second}`);
    if (!cmd) throw unknownSubcommand(first, second);
    return { command: cmd, rest, help };
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) throw new UsageError(`unknown command '${first}' (accepted: ${topWords().join(", ")})`);
  return { command: cmd, rest, help };
}

/** A word after a group that names none of its commands: the usage error lists the group's own. */
function unknownSubcommand(group: string, word: string): UsageError {
  const accepted = subcommandsOf(group).map((c) => c.name.split(" ")[1]);
  return new UsageError(`unknown command '${group} ${word}' (accepted: ${accepted.join(", ")})`, undefined, group);
}

export function resolveHelpTarget(words: string[]): { command?: Command; group?: string } {
  if (words.length === 0) return {};
  const [first, second] = words as [string, string | undefined];
  if (first in GROUPS) {
    if (second === undefined) return { group: first };
    const cmd = commands.find((c) => c.name === `${first} ${second}`);
    if (!cmd) throw unknownSubcommand(first, second);
    return { command: cmd };
  }
  const cmd = commands.find((c) => c.name === first);
  if (!cmd) throw new UsageError(`unknown command '${first}' (accepted: ${topWords().join(", ")})`);
  return { command: cmd };
}

export function acceptedOptions(cmd: Command): string {
  return Object.keys({ ...cmd.options, ...GLOBAL_OPTIONS })
    .map((o) => `--${o}`)
    .join(", ");
}

/** Parses a command's options and positionals; for a command with `rest`, what follows `--` goes to Parsed.rest. */
export function parseCommandArgs(cmd: Command, args: string[]): { parsed: Parsed; global: { stateDir?: string; json: boolean } } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...cmd.options, ...GLOBAL_OPTIONS })) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  let result: ReturnType<typeof parseArgs>;
  try {
    result = parseArgs({ args, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    throw new UsageError(describeParseError(e, cmd), cmd);
  }
  const values = result.values as Record<string, string | boolean | undefined>;
  const { beforeTerminator, afterTerminator } = splitAtTerminator(result.tokens ?? []);
  // Without `rest`, `--` only ends the options: what follows is positionals, as in any POSIX tool.
  const given = cmd.rest ? beforeTerminator : [...beforeTerminator, ...afterTerminator];
  if (given.length > cmd.positionals.length) {
    const extra = given[cmd.positionals.length]!;
    if (!cmd.rest && cmd.positionals.length >= beforeTerminator.length) {
      throw new UsageError(`unexpected argument '${printable(extra)}' after -- (${expectedArguments(cmd)}${passersOn()})`, cmd);
    }
    throw new UsageError(`unexpected argument '${printable(extra)}' (${expectedArguments(cmd)})`, cmd);
  }
  const positionals: Record<string, string | undefined> = {};
  cmd.positionals.forEach((p, i) => {
    const v = given[i];
    if (v === undefined && !p.optional) throw new UsageError(`missing argument <${p.name}> (${p.help})`, cmd);
    positionals[p.name] = v;
  });
  const stateDir = values["state-dir"];
  if (stateDir !== undefined && (stateDir as string).trim() === "") throw new UsageError("--state-dir needs a directory path", cmd);
  return {
    parsed: cmd.rest ? { values, positionals, rest: afterTerminator } : { values, positionals },
    global: { stateDir: stateDir as string | undefined, json: values.json === true },
  };
}

type Token = NonNullable<ReturnType<typeof parseArgs>["tokens"]>[number];

/** The positionals before and after the first bare `--` (parseArgs takes `--` as a value nowhere). */
function splitAtTerminator(tokens: Token[]): { beforeTerminator: string[]; afterTerminator: string[] } {
  const terminator = tokens.find((t) => t.kind === "option-terminator")?.index ?? Infinity;
  const beforeTerminator: string[] = [];
  const afterTerminator: string[] = [];
  for (const t of tokens) if (t.kind === "positional") (t.index < terminator ? beforeTerminator : afterTerminator).push(t.value);
  return { beforeTerminator, afterTerminator };
}

/** Names the commands that take arguments after `--`, for the user who tried it on another. */
function passersOn(): string {
  const names = commands.filter((c) => c.rest).map((c) => `rds-sim ${c.name}`);
  if (names.length === 0) return "";
  return `; only ${names.join(", ")} ${names.length === 1 ? "passes" : "pass"} arguments after -- on`;
}

/** What a usage error says the command expects, e.g. "expected: <host> [<value>]". */
function expectedArguments(cmd: Command): string {
  const words = cmd.positionals.map((p) => (p.optional ? `[<${p.name}>]` : `<${p.name}>`));
  if (cmd.rest) words.push(`[-- <${cmd.rest.name}>...]`);
  return words.length === 0 ? "this command takes no arguments" : `expected: ${words.join(" ")}`;
}

export function describeParseError(e: unknown, cmd: Command): string {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  const name = /'(-[^' ]*)/.exec(msg)?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${name ? printable(name) : "?"}' (accepted: ${acceptedOptions(cmd)})`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const flag = name ?? "?";
      const key = flag.replace(/^-+/, "");
      const spec = { ...cmd.options, ...GLOBAL_OPTIONS }[key];
      if (/does not take an argument/.test(msg)) return `option ${flag} takes no value`;
      return `option ${flag} needs a value${spec?.value ? ` <${spec.value}>` : ""}${spec ? `: ${spec.help}` : ""}`;
    }
    default:
      return msg.split("\n")[0]!;
  }
}
