/** `rds-sim leftover-pack`: plant the empty key pack rows real license servers list (KeyPackType 7, no licenses). */
import type { Command, Context, Parsed } from "../command";
import { HOST_ARG } from "../command";
import { callEmulator } from "../driver";
import { emit, printable } from "../format";
import { hostArg, oneOf } from "../validate";
import { CAL_TYPES, OS_VERSIONS } from "../values";

export const leftoverPackCommand: Command = {
  name: "leftover-pack",
  usage: "<host> [--version <VERSION>] [--cal-type <TYPE>]",
  positionals: [HOST_ARG],
  options: {
    version: { type: "string", value: "VERSION", help: `CAL version: ${OS_VERSIONS.join("|")} (default 2019)` },
    "cal-type": { type: "string", value: "TYPE", help: `CAL type: ${CAL_TYPES.join("|")} (default perUser)` },
  },
  summary: "plant a leftover key pack row (KeyPackType 7, no licenses)",
  details: [
    "Real license servers list rows with KeyPackType 7 and TotalLicenses 0 (what is left of a pack).",
    "The provider treats any pack without licenses as absent: it is never adopted, counted or matched.",
    "No install method is logged; UninstallLicenseKeyPackWithId removes the row like any pack.",
  ],
  examples: ["rds-sim leftover-pack ls01 --version 2019 --cal-type perUser"],
  run: runLeftoverPack,
};

async function runLeftoverPack(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const version = p.values.version === undefined ? "2019" : oneOf("--version", p.values.version as string, OS_VERSIONS, cmd);
  const calType = p.values["cal-type"] === undefined ? "perUser" : oneOf("--cal-type", p.values["cal-type"] as string, CAL_TYPES, cmd);
  const r = await callEmulator(ctx, "leftover-pack", { host, version, calType });
  emit(ctx, r, () => [
    `${printable(host)}: planted leftover key pack ${r.KeyPackId} (KeyPackType ${r.KeyPackType}, ${calType} ${version}, no licenses)`,
  ]);
}
