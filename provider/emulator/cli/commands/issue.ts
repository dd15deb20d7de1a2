/** `rds-sim issue`: fake clients take licenses from an installed key pack. */
import type { Command, Context, Parsed } from "../command";
import { HOST_ARG } from "../command";
import { callEmulator, type EmulatorView } from "../driver";
import { UsageError } from "../errors";
import { emit, printable, table } from "../format";
import { hostArg, req, wholeNumber } from "../validate";
import { LICENSE_STATUS } from "../values";

export const issueCommand: Command = {
  name: "issue",
  usage: "<host> --key-pack <ID> --count <N> [--computer <NAME>] [--user <NAME>]",
  positionals: [HOST_ARG],
  options: {
    "key-pack": { type: "string", value: "ID", help: "KeyPackId of an installed pack" },
    count: { type: "string", value: "N", help: "number of licenses to issue (1..100000)" },
    computer: { type: "string", value: "NAME", help: "client computer name, per-device packs (NAME-1, NAME-2... when --count > 1)" },
    user: { type: "string", value: "NAME", help: "user name, per-user packs (NAME-1, NAME-2... when --count > 1)" },
  },
  summary: "issue licenses from a key pack to fake clients",
  details: [
    "Per-device packs get Win32_TSIssuedLicense rows (status active) and fail if the pack has too few",
    "available. Per-user packs record one user per CAL for the per-user report (Win32_TSLicenseReport;",
    "on Windows per-user CALs are tracked in Active Directory) and may go over what is installed: Windows",
    "does not enforce per-user CALs, so this is how to plant an over-allocation.",
  ],
  examples: ["rds-sim issue ls01 --key-pack 3 --count 5 --computer PC", "rds-sim issue ls01 --key-pack 4 --count 60 --user alice"],
  run: runIssue,
};

async function runIssue(ctx: Context, p: Parsed, cmd: Command): Promise<void> {
  const host = hostArg(p, cmd);
  const keyPackId = wholeNumber("--key-pack", req(p, "key-pack", cmd), 1, 4294967295, cmd);
  const count = wholeNumber("--count", req(p, "count", cmd), 1, 100000, cmd);
  const computer = p.values.computer as string | undefined;
  if (computer !== undefined && computer.trim() === "") throw new UsageError("--computer must not be empty", cmd);
  const user = p.values.user as string | undefined;
  if (user !== undefined && user.trim() === "") throw new UsageError("--user must not be empty", cmd);
  const r = await callEmulator(ctx, "issue", {
    host,
    keyPackId,
    count,
    ...(computer !== undefined ? { computer } : {}),
    ...(user !== undefined ? { user } : {}),
  });
  emit(ctx, r, () => {
    const lines = [
      `${printable(host)}: issued ${r.count} license${r.count === 1 ? "" : "s"} from key pack ${r.KeyPackId} (now ${r.IssuedLicenses} issued, ${r.AvailableLicenses} available)`,
    ];
    const licenses: EmulatorView[] = r.licenses ?? [];
    if (licenses.length > 0)
      lines.push(
        ...table(
          ["LICENSE", "COMPUTER", "STATUS"],
          licenses.map((l) => [String(l.LicenseId), l.sIssuedToComputer, LICENSE_STATUS[l.LicenseStatus] ?? String(l.LicenseStatus)]),
        ).map((l) => `  ${l}`),
      );
    const users: string[] = r.users ?? [];
    if (users.length > 0)
      lines.push(`  per-user CALs to: ${users.map(printable).join(", ")} (in the per-user report, Win32_TSLicenseReport)`);
    return lines;
  });
}
