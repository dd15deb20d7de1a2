/**
 * The `rds-licensing check` transcript of docs/check.md is the real output: the test runs the same
 * command on the same small simulated farm (1 license server, 4 session hosts, the five problems of the
 * Must-show farm planted) and compares. `RDS_CHECK_TRANSCRIPT=write` rewrites the page's transcript
 * block instead (then review the diff).
 *
 * Real: the built command (`node bin/provider/check/cli.js`, as `npx rds-licensing` runs it), its pool,
 * pwsh 7, the read scripts, the findings engine, the text rendering.
 * Stands in: Windows and Active Directory (the WMI emulator in a temp directory), and the administrator
 * who built the farm and planted the problems (test/check/farm.ts).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { assertBuilt } from "../helpers/providerHost";
import { Farm, LS } from "./farm";

const REPO = path.resolve(__dirname, "..", "..");
const PAGE = path.join(REPO, "docs", "check.md");
const CLI = path.join(REPO, "bin", "provider", "check", "cli.js");
const BEGIN = "<!-- transcript:begin -->\n";
const END = "<!-- transcript:end -->\n";

let farm: Farm;

beforeAll(async () => {
  assertBuilt(["provider/check"]);
  farm = await Farm.build(4);
  await farm.plant({ wrongMode: "sh02.contoso.com", networkCut: "sh03.contoso.com", groupPolicy: "sh04.contoso.com", usersOver: 80 });
}, 600_000);

afterAll(async () => {
  await farm?.close();
});

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd, encoding: "utf8" }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

it("docs/check.md shows what check prints on the simulator", async () => {
  // Run from the farm's parent directory with the state directory relative, as the page shows it.
  const cwd = path.dirname(farm.stateDir);
  const shown = [
    "--license-server",
    LS,
    "--session-host",
    farm.hosts.join(","),
    "--mode",
    "perUser",
    "--transport",
    "simulator",
    "--state-dir",
    path.basename(farm.stateDir),
  ];
  const result = await run(["check", ...shown], cwd);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(1);
  const command = `$ npx rds-licensing check ${shown.map((a) => (a === path.basename(farm.stateDir) ? ".rds-sim" : a)).join(" ")}`;
  // The report check counts the per-user usage from was made when the farm was planted: its name and time
  // are the moment this test ran, shown on the page as one fixed moment (the page says so).
  const stdout = result.stdout
    .replace(/RDSLicenseReport-\d{8}-\d{6}-(\d{4})\.xml/g, "RDSLicenseReport-20261201-090000-$1.xml")
    .replace(/ of \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/g, " of 2026-12-01T09:00:00Z");
  const block = "```text\n" + command + "\n" + stdout + "$ echo $?\n1\n```\n";

  const page = fs.readFileSync(PAGE, "utf8");
  const start = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  expect(start).toBeGreaterThanOrEqual(0);
  expect(end).toBeGreaterThan(start);
  if (process.env.RDS_CHECK_TRANSCRIPT === "write") {
    fs.writeFileSync(PAGE, page.slice(0, start + BEGIN.length) + block + page.slice(end));
    return;
  }
  expect(page.slice(start + BEGIN.length, end)).toBe(block);
}, 600_000);
