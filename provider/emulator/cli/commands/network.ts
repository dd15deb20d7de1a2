/**
 * `rds-sim network cut|restore`: cut the network between two simulated hosts, and restore it. A session
 * host's GetTStoLSConnectivityStatus for a license server it is cut from answers LS_NOT_CONNECTABLE (6),
 * whichever of the two asks. Drives the emulator's networkCut fault (Set-RdsSimFault / Clear-RdsSimFault).
 */
import type { Command, Context, Parsed } from "../command";
import { callEmulator, type EmulatorView } from "../driver";
import { UsageError } from "../errors";
import { emit, printable } from "../format";
import { hostArg } from "../validate";

const FROM_ARG = { name: "from", help: "simulated host the cut is set on, e.g. the session host (created if needed)" };
const TO_ARG = { name: "to", help: "the other host, e.g. the license server (by its name, short name or FQDN)" };

export const networkCutCommand: Command = {
  name: "network cut",
  positionals: [FROM_ARG, TO_ARG],
  options: {},
  summary: "cut the network between two hosts (GetTStoLSConnectivityStatus answers LS_NOT_CONNECTABLE)",
  details: [
    "Both ways: neither host reaches the other. The cut is stored on <from> ('show <from> --json' lists it).",
    "Only GetTStoLSConnectivityStatus looks at it: the provider's own sessions reach each host as before.",
  ],
  examples: ["rds-sim network cut rdsh01.contoso.com ls01.contoso.com"],
  run: runNetworkCut,
};

export const networkRestoreCommand: Command = {
  name: "network restore",
  positionals: [
    { name: "from", help: "simulated host" },
    { name: "to", optional: true, help: "the other host; every cut set on <from> when omitted" },
  ],
  options: {},
  summary: "restore the network between two hosts (whichever of them the cut was set on)",
  examples: ["rds-sim network restore rdsh01.contoso.com ls01.contoso.com", "rds-sim network restore rdsh01.contoso.com"],
  run: runNetworkRestore,
};

function cutsOf(view: EmulatorView): string[] {
  return Array.isArray(view?.networkCuts) ? (view.networkCuts as string[]) : [];
}

function summary(host: string, view: EmulatorView): string {
  const cuts = cutsOf(view);
  return `  cut from ${printable(host)}: ${cuts.length ? cuts.map(printable).join(", ") : "none"}`;
}

async function runNetworkCut(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const from = hostArg(p, cmd, "from");
  const to = hostArg(p, cmd, "to");
  if (from.trim().toLowerCase() === to.trim().toLowerCase()) throw new UsageError("<from> and <to> must be two different hosts", cmd);
  const r = await callEmulator(ctx, "fault-set", { host: from, fault: "networkCut", value: to });
  emit(ctx, r, () => [`${printable(from)} <-> ${printable(to)}: network cut`, summary(from, r)]);
}

async function runNetworkRestore(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const from = hostArg(p, cmd, "from");
  const to = p.positionals.to === undefined ? undefined : hostArg(p, cmd, "to");
  const r =
    to === undefined
      ? await callEmulator(ctx, "fault-clear", { host: from, fault: "networkCut" })
      : await callEmulator(ctx, "fault-set", { host: from, fault: "networkCut", value: { to, cut: false } });
  emit(ctx, r, () => [
    to === undefined
      ? `${printable(from)}: every network cut set on it restored`
      : `${printable(from)} <-> ${printable(to)}: network restored`,
    summary(from, r),
  ]);
}
