/**
 * `rds-licensing check`: arguments → inventory → one read of the farm → the findings → the report and
 * the exit code. `runCheck` does the work on a validated plan (tests call it); `main` is the command
 * line (parse, run, print, close the pool so the process can end).
 */
import { closeAll } from "../powershell/pool";
import { computeFindings } from "../resources/component/findings";
import { helpText, parseCheckArgs } from "./args";
import { CheckInputError, EXIT_NOT_CHECKED } from "./errors";
import type { SessionHostRead } from "./facts";
import { parseInventory, planFrom, type CheckMode, type CheckPlan } from "./inventory";
import { decideMode, findingsInputOf, hostInputOf, packsOf, type ModeOrigin } from "./mapping";
import { readFarm } from "./read";
import { assembleReport, licenseServerView, NOTHING, unreadableOf, type CheckReport, type Unreadable } from "./report";
import { renderText } from "./text";

export interface CheckIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CheckIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
};

/** The error part of a report: what was wrong and how to fix it. */
function errorOf(e: CheckInputError): CheckReport["error"] {
  return { code: e.code, message: e.message, fix: e.fix };
}

/**
 * Reads the farm of a validated plan once and computes the report. Never writes to a host. `now` is
 * the clock the findings see (the Per Device expiry finding): the engine never reads the clock itself.
 */
export async function runCheck(plan: CheckPlan, options: { now?: Date } = {}): Promise<CheckReport> {
  const now = options.now ?? new Date();
  const farm = await readFarm(plan);
  const unreadable: Unreadable[] = [];
  const hosts: { name: string; read: SessionHostRead }[] = [];
  for (const h of farm.sessionHosts) {
    if (h.outcome.ok) hosts.push({ name: h.target.name, read: h.outcome.value });
    else unreadable.push(unreadableOf(h.target.name, "sessionHost", h.outcome.error));
  }
  const ls = farm.licenseServer;
  if (!ls.outcome.ok) {
    // Without the license server no finding can be computed; the hosts read are still shown.
    return assembleReport({
      ...NOTHING,
      mode: plan.mode ?? null,
      modeOrigin: plan.mode ? "flag or inventory" : null,
      hosts: hosts.map((h) => hostInputOf(h.name, h.read)),
      unreadable: [unreadableOf(ls.target.name, "licenseServer", ls.outcome.error), ...unreadable],
    });
  }
  const read = ls.outcome.value;
  const packs = packsOf(read);
  let decided: { mode: CheckMode; origin: ModeOrigin };
  try {
    decided = decideMode(plan.mode, packs, read.server?.serverName || ls.target.name);
  } catch (e) {
    if (!(e instanceof CheckInputError)) throw e;
    return assembleReport({ ...NOTHING, licenseServer: licenseServerView(ls.target.name, read), packs, unreadable, error: errorOf(e) });
  }
  const input = findingsInputOf(decided.mode, ls.target.name, read, hosts);
  return assembleReport({
    mode: decided.mode,
    modeOrigin: decided.origin,
    findings: computeFindings(input, { now }),
    licenseServer: licenseServerView(ls.target.name, read),
    packs: input.packs,
    hosts: input.hosts,
    unreadable,
    error: null,
  });
}

function print(report: CheckReport, json: boolean, io: CheckIo): void {
  if (json) io.stdout(JSON.stringify(report, null, 2) + "\n");
  else if (report.error && report.findings.length === 0 && !report.facts.licenseServer) io.stderr(renderText(report));
  else io.stdout(renderText(report));
}

/** The command line; resolves to the exit code. */
export async function main(argv: string[], io: CheckIo = defaultIo): Promise<number> {
  let json = argv.includes("--json");
  try {
    const args = parseCheckArgs(argv, io.cwd);
    json = args.json;
    if (args.help) {
      io.stdout(helpText());
      return 0;
    }
    const plan = planFrom(parseInventory(args.inventory, args.source), io.env);
    const report = await runCheck(plan);
    print(report, json, io);
    return report.exitCode;
  } catch (e) {
    if (!(e instanceof CheckInputError)) throw e;
    print(assembleReport({ ...NOTHING, error: errorOf(e) }), json, io);
    return EXIT_NOT_CHECKED;
  } finally {
    await closeAll();
  }
}
