/** Every command, in the order help lists them, and the command groups (two-word commands). */
import type { Command } from "./command";
import { confirmationCodeCommand, keyPackIdCommand, licenseServerIdCommand, retailCodeCommand } from "./commands/clearinghouse";
import { faultClearCommand, faultSetCommand } from "./commands/fault";
import { gpoClearCommand, gpoSetCommand } from "./commands/gpo";
import { hostsCommand, showCommand } from "./commands/hosts";
import { hostSetCommand } from "./commands/hostSet";
import { issueCommand } from "./commands/issue";
import { leftoverPackCommand } from "./commands/leftoverPack";
import { logCommand } from "./commands/log";
import { lsGroupCommand } from "./commands/lsGroup";
import { networkCutCommand, networkRestoreCommand } from "./commands/network";
import { resetCommand } from "./commands/reset";
import { runCommand } from "./commands/run";

export const commands: Command[] = [
  hostsCommand,
  showCommand,
  licenseServerIdCommand,
  confirmationCodeCommand,
  keyPackIdCommand,
  retailCodeCommand,
  hostSetCommand,
  issueCommand,
  leftoverPackCommand,
  lsGroupCommand,
  faultSetCommand,
  faultClearCommand,
  gpoSetCommand,
  gpoClearCommand,
  networkCutCommand,
  networkRestoreCommand,
  resetCommand,
  logCommand,
  runCommand,
];

export const GROUPS: Record<string, string> = {
  clearinghouse: "play Microsoft's Clearinghouse (web site / telephone)",
  host: "configure simulated hosts",
  fault: "inject faults",
  gpo: "simulate Group Policy licensing values",
  network: "cut and restore the network between two hosts",
};

export function topWords(): string[] {
  const seen: string[] = [];
  for (const c of commands) {
    const w = c.name.split(" ")[0]!;
    if (!seen.includes(w)) seen.push(w);
  }
  return [...seen, "help"];
}

export function subcommandsOf(group: string): Command[] {
  return commands.filter((c) => c.name.startsWith(group + " "));
}
