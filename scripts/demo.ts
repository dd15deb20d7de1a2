/**
 * `npm run demo`: the quickstart (root Pulumi.yaml -> examples/quickstart/) deployed on the embedded
 * simulator. With the Pulumi CLI: `pulumi up --yes` on a local file backend inside the project. Without
 * it (or with --harness): the bundled harness (scripts/harness.ts), which runs the same program through
 * the real dynamic-provider host but stands in for the Pulumi engine, and says so.
 *
 * PowerShell 7 is a prerequisite it takes care of: when pwsh is found nowhere and `dotnet` is on PATH, it
 * installs PowerShell into the project-local tool folder <project>/.tools/pwsh (no global change) and
 * says so in one line. Anything else it installs only when asked: --install-cli fetches the Pulumi CLI
 * into <project>/.pulumi-cli.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { packageRoot } from "../provider/paths";
import { findPwsh, PWSH_INSTALL_HINT } from "../provider/powershell/executable";
import { LOCAL_PWSH_DIR, localPwshExecutable, localPwshFolder, localPwshInstallArgs, PWSH_VERSION } from "../provider/powershell/localPwsh";
import { readPulumiProject, runHarness, type HarnessResult } from "./harness";

const USAGE = `usage: npm run demo [-- options]

Deploys the quickstart (Pulumi.yaml -> examples/quickstart/) on the embedded simulator: one license
server activated automatically, two CAL packs, two session hosts in Per User mode.

  (no option)       with the Pulumi CLI (on PATH or in .pulumi-cli/): pulumi up --yes on stack "dev",
                    state in a local file backend (.pulumi/), empty passphrase unless
                    PULUMI_CONFIG_PASSPHRASE(_FILE) is set. Without it: says how to install it, then
                    runs the bundled harness (not pulumi up: it stands in for the Pulumi engine).
  --harness         use the bundled harness even when the Pulumi CLI is there
  --destroy         tear the stack down (pulumi destroy --yes, or the harness's destroy)
  --install-cli     install the Pulumi CLI into .pulumi-cli/ (Automation API installer; needs Internet);
                    the demo then uses it (a pulumi on PATH is used first)
  --stack NAME      stack name (default: dev)
  --state-dir DIR   keep the demo's files under DIR instead of the project: DIR/.rds-sim (simulator),
                    DIR/.pulumi (file backend, harness state, CAL install journal), DIR/.pulumi-cli,
                    DIR/${LOCAL_PWSH_DIR}
  --json            harness only: print the result as one JSON document on stdout (report on stderr)
  -h, --help        this text

PowerShell 7 (pwsh) runs the provider's scripts: RDS_PWSH, else pwsh on PATH, in ~/.dotnet/tools or in
${LOCAL_PWSH_DIR}/. Found nowhere and dotnet on PATH: the demo installs PowerShell ${PWSH_VERSION} into
${LOCAL_PWSH_DIR}/ (dotnet tool install --tool-path; nothing global changes) and says so.

Exit codes: 0 done, 1 the deployment or a prerequisite failed, 2 bad arguments.`;

interface Options {
  harness: boolean;
  destroy: boolean;
  installCli: boolean;
  stack: string;
  stateDir?: string;
  json: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Options | "help" {
  const o: Options = { harness: false, destroy: false, installCli: false, stack: "dev", json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case "-h":
      case "--help":
        return "help";
      case "--harness":
        o.harness = true;
        break;
      case "--destroy":
        o.destroy = true;
        break;
      case "--install-cli":
        o.installCli = true;
        break;
      case "--json":
        o.json = true;
        break;
      case "--stack":
        o.stack = value();
        if (!/^[A-Za-z0-9_.-]+$/.test(o.stack)) throw new UsageError("--stack: letters, digits, '_', '.' and '-' only");
        break;
      case "--state-dir":
        o.stateDir = path.resolve(value());
        break;
      default:
        throw new UsageError(`unknown option ${a}`);
    }
  }
  if (o.harness && o.installCli) throw new UsageError("--harness and --install-cli exclude each other");
  return o;
}

/** Report lines: stdout, or stderr when stdout carries the JSON document. */
let say: (line?: string) => void = (line = "") => process.stdout.write(line + "\n");

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(exe: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, exe))) return path.join(dir, exe);
  }
  return undefined;
}

/** The Pulumi CLI: `pulumi` on PATH, else the one --install-cli put in <state dir>/.pulumi-cli/bin. */
function findPulumi(stateDir: string): string | undefined {
  const local = path.join(stateDir, ".pulumi-cli", "bin", "pulumi");
  return onPath("pulumi") ?? (isExecutable(local) ? local : undefined);
}

/**
 * PowerShell 7: found by the runner's lookup (executable.ts: RDS_PWSH, PATH, ~/.dotnet/tools), else in
 * the demo's local tool folder <state dir>/.tools/pwsh (localPwsh.ts; the state dir is the project
 * unless --state-dir, as for .pulumi-cli), else installed there when `dotnet` is on PATH, without asking:
 * it changes nothing outside the folder. The processes the demo starts (provider host, Pulumi CLI) get it
 * as RDS_PWSH when their own lookup would not find that same pwsh (a --state-dir folder is not one of
 * the places it looks).
 */
function ensurePwsh(p: Places): boolean {
  const dotnetTools = path.join(os.homedir(), ".dotnet", "tools");
  const found = findPwsh(process.env, [p.stateDir]);
  if (found.found) {
    if (found.path.startsWith(dotnetTools + path.sep) && !(process.env.PATH ?? "").split(path.delimiter).includes(dotnetTools)) {
      process.env.PATH = `${process.env.PATH ?? ""}${path.delimiter}${dotnetTools}`;
    }
    useForChildren(found.path);
    return true;
  }
  if (process.env.RDS_PWSH) {
    // The admin named a pwsh: installing another one would hide the mistake.
    say(`PowerShell 7 (pwsh) is needed: ${found.reason}. Point RDS_PWSH at a pwsh executable, or unset it.`);
    return false;
  }
  const dotnet = onPath("dotnet");
  if (!dotnet) {
    say(`PowerShell 7 (pwsh) is needed: the provider runs its PowerShell scripts in it (${found.reason}).`);
    say("Get it one of these ways, then run the demo again:");
    say(`  - the .NET SDK is not on PATH; with it the demo installs PowerShell into ${LOCAL_PWSH_DIR} itself,`);
    say(
      `    or install it for your account: dotnet tool install --global PowerShell --version ${PWSH_VERSION}, and put ~/.dotnet/tools on PATH;`,
    );
    say("  - or PowerShell's own packages: https://learn.microsoft.com/powershell/scripting/install/installing-powershell;");
    say("  - or set RDS_PWSH to a pwsh executable.");
    return false;
  }
  const args = localPwshInstallArgs(p.stateDir);
  const folder = localPwshFolder(p.stateDir);
  const shown = path.relative(process.cwd(), folder).startsWith("..") ? folder : path.relative(process.cwd(), folder);
  say(
    `PowerShell 7 not found: installing PowerShell ${PWSH_VERSION} into ${shown} (dotnet tool install --tool-path; nothing global changes)`,
  );
  // Its output is kept for a failure: on success the line above and the one below say it all.
  const r = spawnSync(dotnet, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const installed = localPwshExecutable(p.stateDir);
  if (r.status !== 0 || !fs.existsSync(installed)) {
    const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim().split("\n").slice(-10);
    say(`The install failed (dotnet ${args.join(" ")}: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}):`);
    for (const line of output) say(`  ${line}`);
    say(`Install PowerShell 7 yourself: ${PWSH_INSTALL_HINT}.`);
    return false;
  }
  say(`Installed: ${installed} (remove the folder to undo).`);
  useForChildren(installed);
  return true;
}

/** Makes the processes the demo starts run `pwsh` (RDS_PWSH) when their lookup would find another or none. */
function useForChildren(pwsh: string): void {
  const theirs = findPwsh();
  if (!theirs.found || theirs.path !== pwsh) process.env.RDS_PWSH = pwsh;
}

async function installPulumiCli(stateDir: string): Promise<string | undefined> {
  const root = path.join(stateDir, ".pulumi-cli");
  say(`Installing the Pulumi CLI into ${root} (PulumiCommand.install from @pulumi/pulumi/automation)...`);
  try {
    // Loaded only here: the automation module is large.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PulumiCommand } = require("@pulumi/pulumi/automation") as typeof import("@pulumi/pulumi/automation");
    const cli = await PulumiCommand.install({ root });
    say(`Installed the Pulumi CLI ${cli.version?.toString() ?? ""} at ${cli.command}.`);
    return cli.command;
  } catch (e) {
    const cause = (e instanceof Error ? e.message : String(e)).split("\n").filter(Boolean).slice(0, 3).join(" / ");
    say("Could not install the Pulumi CLI.");
    say(`  cause: ${cause}`);
    say("  The installer downloads https://get.pulumi.com/install.sh and the CLI release from get.pulumi.com;");
    say("  without access to them (offline, proxy, firewall) it cannot work.");
    say("  Install the CLI yourself (https://www.pulumi.com/docs/install/), or run `npm run demo` without");
    say("  --install-cli to deploy the quickstart through the bundled harness instead.");
    return undefined;
  }
}

interface Places {
  projectDir: string;
  stateDir: string;
  simDir: string;
  pulumiDir: string;
  journalDir: string;
}

function places(options: Options): Places {
  const projectDir = packageRoot();
  const stateDir = options.stateDir ?? projectDir;
  const pulumiDir = path.join(stateDir, ".pulumi");
  return {
    projectDir,
    stateDir,
    simDir: path.join(stateDir, ".rds-sim"),
    pulumiDir,
    journalDir: process.env.RDS_JOURNAL_DIR ?? path.join(pulumiDir, "rds-journal"),
  };
}

/**
 * The simulator installs a missing role instantly; Windows takes minutes. The demo makes the simulated
 * install take a few seconds and ticks every second, so a first run shows the progress lines a real
 * license server prints during `pulumi up` (started, still running, done). Either can be overridden.
 */
const DEMO_ROLE_INSTALL_SECONDS = "4";
const DEMO_PROGRESS_INTERVAL_SECONDS = "1";

/** The environment the provider sees (through the Pulumi CLI, or the harness's host). */
function providerEnv(p: Places): Record<string, string> {
  return {
    RDS_SIM_STATE_DIR: p.simDir,
    RDS_JOURNAL_DIR: p.journalDir,
    RDS_SIM_ROLE_INSTALL_SECONDS: process.env.RDS_SIM_ROLE_INSTALL_SECONDS ?? DEMO_ROLE_INSTALL_SECONDS,
    RDS_PROGRESS_INTERVAL_SECONDS: process.env.RDS_PROGRESS_INTERVAL_SECONDS ?? DEMO_PROGRESS_INTERVAL_SECONDS,
  };
}

function runPulumiCli(cli: string, options: Options, p: Places): number {
  fs.mkdirSync(p.pulumiDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...providerEnv(p),
    PULUMI_BACKEND_URL: `file://${p.pulumiDir}`,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PATH: [path.dirname(cli), process.env.PATH ?? ""].join(path.delimiter),
  };
  if (env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) env.PULUMI_CONFIG_PASSPHRASE = "";
  say(`Pulumi CLI: ${cli}`);
  say(`State: local file backend ${env.PULUMI_BACKEND_URL}; simulator state ${p.simDir}`);
  const run = (args: string[]) => {
    say(`$ pulumi ${args.join(" ")}`);
    const r = spawnSync(cli, args, { cwd: p.projectDir, env, stdio: "inherit" });
    if (r.error) say(`could not run ${cli}: ${r.error.message}`);
    return r.status ?? 1;
  };
  const selected = run(["stack", "select", "--create", options.stack, "--non-interactive"]);
  if (selected !== 0) return 1;
  const code = run(options.destroy ? ["destroy", "--yes", "--stack", options.stack] : ["up", "--yes", "--stack", options.stack]);
  if (code === 0 && !options.destroy) {
    say("");
    say("Re-run `npm run demo` (no changes: it converges); inspect the simulated hosts with `npx rds-sim hosts`;");
    say("tear it down with `npm run demo -- --destroy`.");
  }
  return code === 0 ? 0 : 1;
}

function formatValue(value: unknown): string {
  return JSON.stringify(value);
}

interface FindingLike {
  id: string;
  severity: string;
  status: string;
  title: string;
  fix: string;
  detail: string;
}

function report(result: HarnessResult, p: Places, options: Options): void {
  const c = result.counts;
  say("");
  if (result.errors.length) {
    say(`The ${result.operation} FAILED:`);
    for (const e of result.errors) say(`  error: ${e}`);
  }
  const changed = [
    c.create && `${c.create} created`,
    c.update && `${c.update} updated`,
    c.replace && `${c.replace} replaced`,
    c.delete && `${c.delete} deleted`,
  ].filter(Boolean);
  const done = `${changed.length ? changed.join(", ") : result.errors.length ? "none completed" : "no changes"}${c.same ? `; ${c.same} unchanged` : ""}`;
  say(`Resources${result.errors.length ? " (before the failure)" : ""}: ${done}`);
  if (result.errors.length && result.resources) say("What was done is recorded; fix the cause and run the demo again to continue.");
  if (result.noChanges) say("No changes: the simulated farm already matches the program.");
  for (const w of result.warnings) say(`warning: ${w}`);
  if (result.operation === "up" && !result.errors.length) {
    say("");
    say("Outputs:");
    const keys = Object.keys(result.outputs).filter((k) => k !== "findings");
    const width = Math.max(...keys.map((k) => k.length), 0);
    for (const k of keys) say(`  ${k.padEnd(width)} : ${result.secretOutputs.includes(k) ? "[secret]" : formatValue(result.outputs[k])}`);
    const findings = result.outputs.findings as FindingLike[] | undefined;
    if (Array.isArray(findings)) {
      const failing = findings.filter((f) => f.status !== "pass");
      say("");
      say(`Findings: ${findings.length - failing.length} pass, ${failing.length} fail`);
      for (const f of findings) {
        say(`  ${f.status.padEnd(4)}  ${f.id}  ${f.severity.padEnd(7)}  ${f.title}`);
        if (f.status !== "pass") say(`        ${f.detail}\n        fix: ${f.fix}`);
      }
    }
  }
  say("");
  say(`Harness state: ${result.stateFile} (${result.resources} resources)`);
  const simArg = p.simDir === path.join(p.projectDir, ".rds-sim") ? "" : ` --state-dir ${p.simDir}`;
  say(`Simulator state: ${p.simDir} (inspect: npx rds-sim${simArg} hosts)`);
  if (!result.errors.length) {
    say(
      options.destroy
        ? "Destroyed: the CAL packs are removed; by default the license server stays activated and the hosts keep\n" +
            "their mode and list (deactivateOnDelete / resetOnDelete are false). `npm run demo` deploys it again."
        : "Re-run `npm run demo` (it converges: no changes); tear it down with `npm run demo -- --destroy`.",
    );
  }
}

async function runWithHarness(options: Options, p: Places, why: string): Promise<number> {
  const project = readPulumiProject(p.projectDir);
  say(why);
  say("");
  say("=== BUNDLED HARNESS, NOT `pulumi up` ===");
  say("The Pulumi engine is stood in for by this project's engine emulation (engine/engine.ts).");
  say("Real: the quickstart program, the Pulumi SDK, the dynamic-provider host from @pulumi/pulumi,");
  say("the providers, pwsh and the PowerShell scripts. Windows is the simulator (the WMI emulator).");
  say("A missing RD Licensing role takes a few seconds to install here (minutes on Windows), so the");
  say("provider's [rds] progress lines show what `pulumi up` would print.");
  say("");
  say(
    `Project ${project.name}, program ${path.relative(p.projectDir, project.program) || "."}, stack ${options.stack}: ${options.destroy ? "destroy" : "up"}`,
  );
  const result = await runHarness({
    projectDir: p.projectDir,
    stack: options.stack,
    stateFile: path.join(p.pulumiDir, "harness", `${options.stack}.json`),
    destroy: options.destroy,
    hostEnv: { ...providerEnv(p), PATH: process.env.PATH },
    log: (line) => say(`  ${line}`),
  });
  report(result, p, options);
  if (options.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
  return result.errors.length ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    const parsed = parseArgs(argv);
    if (parsed === "help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    options = parsed;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`demo: ${e.message}\n${USAGE.split("\n")[0]}\n`);
    return 2;
  }
  if (options.json) say = (line = "") => process.stderr.write(line + "\n");
  const p = places(options);
  fs.mkdirSync(p.stateDir, { recursive: true });

  if (!ensurePwsh(p)) return 1;

  if (options.harness) return runWithHarness(options, p, "--harness: using the bundled harness.");
  let cli = findPulumi(p.stateDir);
  if (!cli && options.installCli) {
    cli = await installPulumiCli(p.stateDir);
    if (!cli) return 1;
  }
  if (cli) {
    if (options.json) say("--json applies to the harness only; running the Pulumi CLI.");
    return runPulumiCli(cli, options, p);
  }
  return runWithHarness(
    options,
    p,
    [
      "The Pulumi CLI is not installed (not on PATH, not in .pulumi-cli/). To deploy with it:",
      "  - install it: curl -fsSL https://get.pulumi.com | sh   (or see https://www.pulumi.com/docs/install/),",
      "  - or let the demo fetch it into this project: npm run demo -- --install-cli",
      "Meanwhile the quickstart runs through the bundled harness.",
    ].join("\n"),
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`demo: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
