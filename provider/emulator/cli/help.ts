/** Help text: a command's, a group's, and the global overview. */
import type { Command, OptionSpec } from "./command";
import { GLOBAL_OPTIONS } from "./command";
import { commands, GROUPS, subcommandsOf } from "./commandTable";

export function synopsis(cmd: Command): string {
  if (cmd.usage !== undefined) return `rds-sim ${cmd.name} ${cmd.usage}`;
  const parts = [`rds-sim ${cmd.name}`];
  for (const p of cmd.positionals) parts.push(p.optional ? `[<${p.name}>]` : `<${p.name}>`);
  if (Object.keys(cmd.options).length > 0) parts.push("[options]");
  if (cmd.rest) parts.push(`[-- <${cmd.rest.name}>...]`);
  return parts.join(" ");
}

export function optionLines(opts: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(opts).map(([name, o]) => {
    const flag = (o.short ? `-${o.short}, ` : "    ") + `--${name}` + (o.type === "string" ? ` <${o.value ?? "VALUE"}>` : "");
    return [flag, o.help] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length));
  return rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`);
}

export function commandHelp(cmd: Command): string {
  const lines = [`usage: ${synopsis(cmd)}`, "", `${cmd.summary[0]!.toUpperCase()}${cmd.summary.slice(1)}.`];
  if (cmd.details) lines.push("", ...cmd.details.map((l) => `  ${l}`));
  if (cmd.positionals.length > 0) {
    lines.push("", "Arguments:");
    const width = Math.max(...cmd.positionals.map((p) => p.name.length + 2));
    for (const p of cmd.positionals) lines.push(`  ${`<${p.name}>`.padEnd(width)}  ${p.help}`);
  }
  if (cmd.rest) lines.push("", "After --:", `  <${cmd.rest.name}>...  ${cmd.rest.help}`);
  if (Object.keys(cmd.options).length > 0) lines.push("", "Options:", ...optionLines(cmd.options));
  lines.push("", "Global options:", ...optionLines(GLOBAL_OPTIONS));
  if (cmd.examples) lines.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  return lines.join("\n") + "\n";
}

export function groupHelp(group: string): string {
  const subs = subcommandsOf(group);
  const width = Math.max(...subs.map((c) => c.name.length));
  return (
    [
      `usage: rds-sim ${group} <${subs.map((c) => c.name.split(" ")[1]).join("|")}> ...`,
      "",
      `${GROUPS[group]![0]!.toUpperCase()}${GROUPS[group]!.slice(1)}.`,
      "",
      "Commands:",
      ...subs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      "",
      `Run 'rds-sim ${group} <command> --help' for a command's options.`,
    ].join("\n") + "\n"
  );
}

export function globalHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return (
    [
      "usage: rds-sim [--state-dir DIR] [--json] <command> [arguments]",
      "",
      "Inspect and drive the RD Licensing simulator (the emulated Windows hosts behind the",
      "`simulator` transport of pulumi-rds-licensing).",
      "",
      "Commands:",
      ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      `  ${"help [<command>]".padEnd(width)}  show help for a command`,
      "",
      "Global options (accepted anywhere):",
      ...optionLines(GLOBAL_OPTIONS),
      "",
      "Exit codes: 0 success, 1 the simulator reported an error, 2 bad arguments.",
      "Environment: RDS_SIM_STATE_DIR (state directory), RDS_PWSH (the pwsh to run).",
      "Run 'rds-sim <command> --help' for a command's arguments and options.",
    ].join("\n") + "\n"
  );
}
