/** `rds-sim reset`: forget a host, or every host and the Clearinghouse. */
import type { Command, Context, Parsed } from "../command";
import { callEmulator } from "../driver";
import { emit, printable } from "../format";
import { hostArg } from "../validate";

export const resetCommand: Command = {
  name: "reset",
  positionals: [{ name: "host", optional: true, help: "forget only this host; without it, every host and the Clearinghouse" }],
  options: {},
  summary: "forget a host, or the whole simulator",
  run: runReset,
};

async function runReset(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = p.positionals.host === undefined ? undefined : hostArg(p, cmd);
  const r = await callEmulator(ctx, "reset", host === undefined ? {} : { host });
  emit(ctx, r, () => {
    if (host !== undefined)
      return [r.existed ? `${printable(host)}: reset (state and call log removed)` : `${printable(host)}: had no state; nothing to reset`];
    return [`reset ${r.hostsReset} host${r.hostsReset === 1 ? "" : "s"} and the Clearinghouse in ${printable(ctx.stateDir)}`];
  });
}
