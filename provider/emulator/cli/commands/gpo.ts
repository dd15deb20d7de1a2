/** `rds-sim gpo set|clear`: the Group Policy licensing values of a host (they override WMI). */
import type { Command, Context, Parsed } from "../command";
import { HOST_ARG } from "../command";
import { callEmulator, type EmulatorView } from "../driver";
import { UsageError } from "../errors";
import { emit, kv, modeName, printable } from "../format";
import { hostArg, oneOf } from "../validate";
import { GPO_MODES } from "../values";

export const gpoSetCommand: Command = {
  name: "gpo set",
  usage: "<host> [--mode <MODE>] [--license-servers <LIST>]",
  positionals: [HOST_ARG],
  options: {
    mode: { type: "string", value: "MODE", help: `LicensingMode policy: ${Object.keys(GPO_MODES).join("|")}` },
    "license-servers": { type: "string", value: "LIST", help: "LicenseServers policy: comma-separated server names" },
  },
  summary: "set Group Policy licensing values (they override WMI; creates the host if needed)",
  examples: ["rds-sim gpo set rdsh01 --mode perUser --license-servers ls01.contoso.com,ls02.contoso.com"],
  run: runGpoSet,
};

export const gpoClearCommand: Command = {
  name: "gpo clear",
  usage: "<host> [--mode] [--license-servers]",
  positionals: [HOST_ARG],
  options: {
    mode: { type: "boolean", help: "remove only the LicensingMode policy" },
    "license-servers": { type: "boolean", help: "remove only the LicenseServers policy" },
  },
  summary: "remove Group Policy licensing values (both unless one is named)",
  run: runGpoClear,
};

async function runGpoSet(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const args: Record<string, unknown> = { host };
  if (p.values.mode !== undefined) {
    const m = oneOf("--mode", p.values.mode as string, Object.keys(GPO_MODES), cmd);
    args.licensingMode = GPO_MODES[m];
  }
  if (p.values["license-servers"] !== undefined) {
    const raw = p.values["license-servers"] as string;
    const names = raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (names.length === 0)
      throw new UsageError(
        "--license-servers needs at least one server name, comma-separated (use 'gpo clear --license-servers' to remove the policy)",
        cmd,
      );
    args.licenseServers = names.join(",");
  }
  if (!("licensingMode" in args) && !("licenseServers" in args)) {
    throw new UsageError("nothing to set: give --mode and/or --license-servers", cmd);
  }
  const r = await callEmulator(ctx, "gpo-set", args);
  emit(ctx, r, () => [`${printable(host)}: Group Policy`, ...formatPolicy(r)]);
}

function formatPolicy(r: EmulatorView): string[] {
  return kv([
    ["LicensingMode", r.LicensingMode === null || r.LicensingMode === undefined ? "not set" : modeName(r.LicensingMode)],
    ["LicenseServers", r.LicenseServers === null || r.LicenseServers === undefined ? "not set" : printable(r.LicenseServers)],
  ]);
}

async function runGpoClear(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const both = !p.values.mode && !p.values["license-servers"];
  const r = await callEmulator(ctx, "gpo-clear", {
    host,
    mode: both || p.values.mode === true,
    licenseServers: both || p.values["license-servers"] === true,
  });
  emit(ctx, r, () => [`${printable(host)}: Group Policy`, ...formatPolicy(r)]);
}
