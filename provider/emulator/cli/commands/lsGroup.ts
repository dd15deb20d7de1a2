/**
 * `rds-sim ls-group`: put a license server in or out of its domain's "Terminal Server License Servers"
 * group, and register or remove its service connection point: what an administrator does in Active
 * Directory by hand (the drift `addToLicenseServersGroup` shows), without the Domain Admins check of
 * AddLStoTSLSGroup. Goes through the host facts (`host-set`: licenseServersGroup, scpRegistered).
 */
import type { Command, Context, Parsed } from "../command";
import { HOST_ARG } from "../command";
import { callEmulator } from "../driver";
import { UsageError } from "../errors";
import { emit, printable } from "../format";
import { hostArg } from "../validate";

export const lsGroupCommand: Command = {
  name: "ls-group",
  usage: "<host> (--in | --out) [--scp | --no-scp]",
  positionals: [HOST_ARG],
  options: {
    in: { type: "boolean", help: "add the license server to its domain's Terminal Server License Servers group" },
    out: { type: "boolean", help: "remove it from the group (as an administrator would in Active Directory)" },
    scp: { type: "boolean", help: "register its service connection point (IsLSRegisteredToSCP true)" },
    "no-scp": { type: "boolean", help: "remove its service connection point" },
  },
  summary: "put a license server in or out of the AD license servers group",
  details: [
    "Without the group, per-user CAL tracking and reporting do not work (Microsoft's IsLSinTSLSGroup page):",
    "the per-user report then says Not Tracking. A workgroup host has no domain group: refused.",
  ],
  examples: ["rds-sim ls-group ls01 --in", "rds-sim ls-group ls01 --out --no-scp"],
  run: runLsGroup,
};

async function runLsGroup(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const v = p.values;
  if (v.in && v.out) throw new UsageError("--in and --out contradict each other; give one", cmd);
  if (v.scp && v["no-scp"]) throw new UsageError("--scp and --no-scp contradict each other; give one", cmd);
  const settings: Record<string, boolean> = {};
  const changed: string[] = [];
  if (v.in || v.out) {
    settings.licenseServersGroup = v.in === true;
    changed.push(v.in ? "in the Terminal Server License Servers group" : "out of the Terminal Server License Servers group");
  }
  if (v.scp || v["no-scp"]) {
    settings.scpRegistered = v.scp === true;
    changed.push(v.scp ? "service connection point registered" : "service connection point removed");
  }
  if (changed.length === 0) throw new UsageError("nothing to set: give --in or --out (and/or --scp / --no-scp)", cmd);
  // The emulator refuses --in / --scp on a workgroup host (no domain group), before changing anything.
  const view = await callEmulator(ctx, "host-set", { host, settings });
  emit(ctx, view, () => [`${printable(host)}: ${changed.join(", ")}`]);
}
