/** `rds-sim log`: the emulated calls made on a host. */
import type { Command, Context, Parsed } from "../command";
import { HOST_ARG } from "../command";
import { callEmulator, type EmulatorView } from "../driver";
import { emit, moment, printable, table, wbem } from "../format";
import { hostArg, wholeNumber } from "../validate";

export const logCommand: Command = {
  name: "log",
  usage: "<host> [--last <N>]",
  positionals: [HOST_ARG],
  options: { last: { type: "string", value: "N", help: "show only the last N calls" } },
  summary: "show the emulated calls made on a host (never argument values)",
  run: runLog,
};

async function runLog(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const last = p.values.last === undefined ? undefined : wholeNumber("--last", p.values.last as string, 1, Number.MAX_SAFE_INTEGER, cmd);
  let rows = await callEmulator<EmulatorView[]>(ctx, "log", { host });
  if (last !== undefined) rows = rows.slice(-last);
  emit(ctx, rows, () => {
    if (rows.length === 0) return [`${printable(host)}: no calls logged`];
    return table(
      ["SEQ", "TIME (UTC)", "PID", "CMDLET", "CLASS", "METHOD", "RESULT"],
      rows.map((r) => [
        String(r.seq),
        moment(r.at),
        String(r.pid),
        r.cmdlet ?? "-",
        r.className ?? "-",
        (r.method ?? "-") + (Array.isArray(r.properties) && r.properties.length ? ` (${r.properties.join(", ")})` : ""),
        typeof r.result === "number" ? wbem(r.result) : String(r.result ?? "-"),
      ]),
    );
  });
}
