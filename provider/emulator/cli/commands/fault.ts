/** `rds-sim fault set|clear`: inject and clear faults on a host. */
import type { Command, Context, Parsed } from "../command";
import { HOST_ARG } from "../command";
import { callEmulator, type EmulatorView } from "../driver";
import { UsageError } from "../errors";
import { activeFaults, emit, printable } from "../format";
import { boolValue, hostArg, oneOf, wholeNumber } from "../validate";
import { BOOL_FAULTS, FAILURE_STYLES, FAULTS } from "../values";

export const faultSetCommand: Command = {
  name: "fault set",
  positionals: [
    HOST_ARG,
    { name: "fault", help: FAULTS.join("|") },
    { name: "value", optional: true, help: "depends on the fault, see the list above" },
  ],
  options: {},
  summary: "switch a fault on (creates the host if needed)",
  details: [
    "clearinghouseUnreachable [true|false]  automatic activation and online CAL installs fail (WBEM_E_NOT_AVAILABLE)",
    "accessDenied [true|false]              every licensing call fails (WBEM_E_ACCESS_DENIED)",
    "providerFailure [true|false]           licensing method calls fail (WBEM_E_PROVIDER_FAILURE)",
    "activationStatusUnknown [true|false]   GetActivationStatus reports 2 (unknown)",
    "latencyMs <ms>                         every emulated call takes this long (0..600000)",
    "classNotReadyCalls <n>                 the next n licensing calls fail as if the class were not registered yet",
    "failureStyle return|exception          WMI errors as a nonzero ReturnValue, or as an exception",
    "Boolean faults default to true when no value is given.",
  ],
  examples: ["rds-sim fault set ls01 clearinghouseUnreachable", "rds-sim fault set ls01 latencyMs 250"],
  run: runFaultSet,
};

export const faultClearCommand: Command = {
  name: "fault clear",
  positionals: [
    HOST_ARG,
    { name: "fault", optional: true, help: `${FAULTS.join("|")}; all faults and the Group Policy values when omitted` },
  ],
  options: {},
  summary: "clear one fault, or all faults and Group Policy values",
  run: runFaultClear,
};

async function runFaultSet(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const fault = oneOf("<fault>", p.positionals.fault!, FAULTS, cmd);
  const raw = p.positionals.value;
  let value: boolean | number | string;
  if ((BOOL_FAULTS as readonly string[]).includes(fault)) value = raw === undefined ? true : boolValue(`the value of ${fault}`, raw, cmd);
  else if (raw === undefined) {
    const what = fault === "failureStyle" ? FAILURE_STYLES.join(" or ") : "a whole number";
    throw new UsageError(`missing argument <value> for ${fault} (${what})`, cmd);
  } else if (fault === "latencyMs") value = wholeNumber("the value of latencyMs", raw, 0, 600000, cmd);
  else if (fault === "classNotReadyCalls") value = wholeNumber("the value of classNotReadyCalls", raw, 0, 1000000, cmd);
  else value = oneOf("the value of failureStyle", raw, FAILURE_STYLES, cmd);
  const r = await callEmulator(ctx, "fault-set", { host, fault, value });
  emit(ctx, r, () => [`${printable(host)}: ${fault} ${String(value)}`, ...summarizeFaults(r)]);
}

function summarizeFaults(view: EmulatorView): string[] {
  const active = activeFaults(view);
  return [`  active faults: ${active.length ? active.join(", ") : "none"}`];
}

async function runFaultClear(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const fault = p.positionals.fault === undefined ? undefined : oneOf("<fault>", p.positionals.fault, FAULTS, cmd);
  const r = await callEmulator(ctx, "fault-clear", { host, ...(fault ? { fault } : {}) });
  emit(ctx, r, () => [
    `${printable(host)}: ${fault ? `${fault} cleared` : "all faults and Group Policy values cleared"}`,
    ...summarizeFaults(r),
  ]);
}
