/** `rds-sim clearinghouse ...`: play Microsoft's Clearinghouse (the web site and the telephone operator). */
import type { Command, Context, Parsed } from "../command";
import { callEmulator } from "../driver";
import { emit } from "../format";
import { oneOf, productSource, req, wholeNumber } from "../validate";
import { CAL_TYPES, OS_VERSIONS, PROGRAMS } from "../values";

export const licenseServerIdCommand: Command = {
  name: "clearinghouse license-server-id",
  usage: "(<productId> | --host <HOST>)",
  positionals: [{ name: "productId", optional: true, help: "the license server's product ID (or use --host)" }],
  options: { host: { type: "string", value: "HOST", help: "use this host's product ID" } },
  summary: "get the license server ID for web or telephone activation",
  details: [
    "Stands in for the Remote Desktop Licensing web site and the telephone operator: give the",
    "product ID of the license server, get the 35-character license server ID that ActivateServer",
    "(and the provider's web/telephone activation) accepts. Prints the bare ID (no hyphens).",
  ],
  examples: ["rds-sim clearinghouse license-server-id --host ls01", "rds-sim clearinghouse license-server-id 00490-92005-99454-AT527"],
  run: runLicenseServerId,
};

export const confirmationCodeCommand: Command = {
  name: "clearinghouse confirmation-code",
  usage: "(<productId> | --host <HOST>)",
  positionals: [{ name: "productId", optional: true, help: "the license server's product ID (or use --host)" }],
  options: { host: { type: "string", value: "HOST", help: "use this host's product ID" } },
  summary: "get the confirmation code for telephone deactivation",
  details: ["Stands in for the telephone operator: the code DeactivateServer accepts for this product ID."],
  run: runConfirmationCode,
};

export const keyPackIdCommand: Command = {
  name: "clearinghouse key-pack-id",
  usage: "(--host <HOST> | --product-id <ID>) --program <PROGRAM> --version <VERSION> --cal-type <TYPE> --quantity <N>",
  positionals: [],
  options: {
    host: { type: "string", value: "HOST", help: "the license server the CALs are for (its product ID is used)" },
    "product-id": { type: "string", value: "ID", help: "the license server's product ID, instead of --host" },
    program: { type: "string", value: "PROGRAM", help: `license program: ${PROGRAMS.join("|")}` },
    version: { type: "string", value: "VERSION", help: `CAL version: ${OS_VERSIONS.join("|")}` },
    "cal-type": { type: "string", value: "TYPE", help: `CAL type: ${CAL_TYPES.join("|")}` },
    quantity: { type: "string", value: "N", help: "number of CALs (1..4294967294)" },
  },
  summary: "get a license key pack ID for an offline (web/telephone) CAL install",
  details: [
    "Stands in for the web site and the telephone operator for CAL installs: returns a new",
    "35-character license key pack ID that InstallLicenseKeyPack accepts once, on the license",
    "server with that product ID (which must be activated when the ID is used).",
  ],
  examples: ["rds-sim clearinghouse key-pack-id --host ls01 --program select --version 2022 --cal-type perUser --quantity 50"],
  run: runKeyPackId,
};

export const retailCodeCommand: Command = {
  name: "clearinghouse retail-code",
  usage: "--version <VERSION> --cal-type <TYPE> --quantity <N>",
  positionals: [],
  options: {
    version: { type: "string", value: "VERSION", help: `CAL version: ${OS_VERSIONS.join("|")}` },
    "cal-type": { type: "string", value: "TYPE", help: `CAL type: ${CAL_TYPES.join("|")}` },
    quantity: { type: "string", value: "N", help: "number of CALs (1..100)" },
  },
  summary: 'make up a fresh retail license code (a "License Pack (Retail Purchase)")',
  details: [
    "Prints a new 25-character retail license code whose terms are the ones asked for. Any",
    "well-formed code installs once (InstallRetailPurchaseLicenseKeyPack); this one is simply",
    "guaranteed to carry these terms.",
  ],
  run: runRetailCode,
};

async function runLicenseServerId(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const r = await callEmulator<{ productId: string; licenseServerId: string }>(ctx, "license-server-id", productSource(p, cmd));
  emit(ctx, r, () => [r.licenseServerId]);
}

async function runConfirmationCode(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const r = await callEmulator<{ productId: string; confirmationCode: string }>(ctx, "confirmation-code", productSource(p, cmd));
  emit(ctx, r, () => [r.confirmationCode]);
}

async function runKeyPackId(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const args = {
    ...productSource(p, cmd),
    program: oneOf("--program", req(p, "program", cmd), PROGRAMS, cmd),
    version: oneOf("--version", req(p, "version", cmd), OS_VERSIONS, cmd),
    calType: oneOf("--cal-type", req(p, "cal-type", cmd), CAL_TYPES, cmd),
    quantity: wholeNumber("--quantity", req(p, "quantity", cmd), 1, 4294967294, cmd),
  };
  const r = await callEmulator<{ keyPackId: string }>(ctx, "key-pack-id", args);
  emit(ctx, r, () => [r.keyPackId]);
}

async function runRetailCode(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const args = {
    version: oneOf("--version", req(p, "version", cmd), OS_VERSIONS, cmd),
    calType: oneOf("--cal-type", req(p, "cal-type", cmd), CAL_TYPES, cmd),
    quantity: wholeNumber("--quantity", req(p, "quantity", cmd), 1, 100, cmd),
  };
  const r = await callEmulator<{ licenseCode: string }>(ctx, "retail-code", args);
  emit(ctx, r, () => [r.licenseCode]);
}
