/**
 * The main job, as a newcomer runs it: the built demo (`npm run demo` = build, then bin/scripts/demo.js),
 * run as a child process with its state in a temporary directory (--state-dir).
 *
 * Without the Pulumi CLI (this machine cannot install it) the demo deploys the quickstart through the
 * bundled harness: these tests check its report, its exit code, the stack outputs it promises (license
 * server activated, CALs available, every finding passing), that a second run changes nothing, and that
 * --destroy tears the stack down. The other paths are checked with stand-ins for the missing tools.
 *
 * What is real: the demo script; in the harness runs, the quickstart program (root Pulumi.yaml ->
 * examples/quickstart/, loaded through @pulumi/pulumi's ts-node registration), the Pulumi SDK, the
 * dynamic-provider host process from @pulumi/pulumi, the built providers (bin/), the runner, pwsh 7 and
 * every operation script; the `rds-sim` CLI used to look at the result.
 * What stands in: the Pulumi engine (the harness's engine emulation, test/helpers/engine.ts); Windows (the
 * WMI emulator, state under the temporary directory); for the CLI path, a fake `pulumi` executable that
 * records how it was called; for the missing-pwsh paths, a PATH without pwsh, an empty HOME and a state
 * directory of their own (the demo looks for its local PowerShell there), and a fake `dotnet` that
 * records its calls and "installs" a pwsh that records its starts and runs the machine's real one.
 */
import { spawnSync, type SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findPwsh } from "../../provider/powershell/executable";
import { assertBuilt } from "../helpers/providerHost";
import { DEMO_SCRIPT, ROOT } from "./paths";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rds-demo-"));
const stateDir = path.join(tmp, "state");

/** PATH without any directory that holds a `pulumi` executable (so the demo takes the no-CLI path). */
function pathWithout(...exes: string[]): string {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir && !exes.some((exe) => fs.existsSync(path.join(dir, exe))))
    .join(path.delimiter);
}

function demo(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [path.join(ROOT, DEMO_SCRIPT), ...args], {
    cwd: ROOT,
    env: { ...process.env, PATH: pathWithout("pulumi"), ...env },
    encoding: "utf8",
    timeout: 300_000,
  });
}

function rdsSim(args: string[]): unknown {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, "bin/provider/emulator/cli.js"), "--state-dir", path.join(stateDir, ".rds-sim"), "--json", ...args],
    {
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  if (r.status !== 0) throw new Error(`rds-sim ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The run, after checking it exited 0 (else the error shows everything it printed). */
function succeeded(r: SpawnSyncReturns<string>): SpawnSyncReturns<string> {
  if (r.status !== 0) throw new Error(`exit ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

interface Finding {
  id: string;
  status: string;
}

beforeAll(() => {
  assertBuilt(["scripts", "provider", "engine"]);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("without the Pulumi CLI: the bundled harness", () => {
  test("first run: says the CLI is missing and how to get it, says plainly it is the harness, deploys the quickstart", () => {
    expect(fs.existsSync(path.join(stateDir, ".pulumi-cli"))).toBe(false);
    const r = succeeded(demo(["--state-dir", stateDir]));
    const out = r.stdout;
    // The CLI is missing: how to install it, and the explicit flag.
    expect(out).toContain("The Pulumi CLI is not installed");
    expect(out).toContain("https://www.pulumi.com/docs/install/");
    expect(out).toContain("npm run demo -- --install-cli");
    // Honest about what runs.
    expect(out).toContain("=== BUNDLED HARNESS, NOT `pulumi up` ===");
    expect(out).toContain("The Pulumi engine is stood in for by this project's engine emulation");
    // The five resources, created in dependency order.
    const created = [...out.matchAll(/^\s+\+\s+create\s+(\S+)/gm)].map((m) => m[1]);
    expect(created).toEqual(["quickstart-ls", "quickstart-users-ea", "quickstart-users-open", "quickstart-sh01", "quickstart-sh02"]);
    expect(out).toContain("Resources: 5 created");
    // The stated outputs.
    expect(out).toMatch(/^\s+activationStatus\s+: "activated"$/m);
    const cals = Number(/^\s+calsAvailable\s+: (\d+)$/m.exec(out)?.[1]);
    expect(cals).toBe(75);
    expect(out).toMatch(/^\s+productId\s+: "\d{5}-\d{5}-\d{5}-[A-Z]{2}\d{3}"$/m);
    expect(out).toContain("Findings: 13 pass, 0 fail");
    expect(r.stderr).not.toMatch(/error/i);
    // The provider's progress lines, as the demo prints them: the role install (the demo makes the
    // simulated one take a few seconds and ticks every second), the Clearinghouse call, the pack installs.
    const progress = [...out.matchAll(/^\s+\[rds\] (.*)$/gm)].map((m) => m[1]);
    const role = progress.filter((l) => l.startsWith("ls01.contoso.com: installing the RDS-Licensing role: "));
    expect(role[0]).toMatch(/: started \(Install-WindowsFeature RDS-Licensing/);
    expect(role.slice(1, -1).length).toBeGreaterThan(0);
    for (const tick of role.slice(1, -1)) expect(tick).toMatch(/: still running \(/);
    expect(role[role.length - 1]).toMatch(/: done in /);
    const afterRole = progress.slice(progress.indexOf(role[role.length - 1]) + 1);
    expect(afterRole[0]).toBe("ls01.contoso.com: activating license server: calling the Microsoft Clearinghouse (ActivateServerAutomatic)");
    expect(
      progress.filter((l) => /installing 2022 Per User CAL pack \((enterpriseAgreement|openLicense)\): calling /.test(l)),
    ).toHaveLength(2);
  }, 300_000);

  test("the simulated farm is really there (rds-sim): server activated, two packs, both hosts Per User", () => {
    const hosts = rdsSim(["hosts"]) as {
      hostName: string;
      activated: boolean | null;
      keyPacks: number | null;
      licensingType: number | null;
    }[];
    const byName = Object.fromEntries(hosts.map((h) => [h.hostName, h]));
    expect(Object.keys(byName).sort()).toEqual(["ls01.contoso.com", "sh01.contoso.com", "sh02.contoso.com"]);
    expect(byName["ls01.contoso.com"]).toMatchObject({ activated: true, keyPacks: 2 });
    for (const h of ["sh01.contoso.com", "sh02.contoso.com"]) expect(byName[h].licensingType).toBe(4);
  }, 120_000);

  test("second run (--harness --json): no changes, the same outputs, every finding passing", () => {
    const r = succeeded(demo(["--harness", "--json", "--state-dir", stateDir]));
    const result = JSON.parse(r.stdout) as {
      noChanges: boolean;
      counts: Record<string, number>;
      outputs: { activationStatus: string; calsAvailable: number; productId: string; findings: Finding[] };
      errors: string[];
    };
    expect(result.errors).toEqual([]);
    expect(result.noChanges).toBe(true);
    expect(result.counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0, same: 5 });
    expect(result.outputs.activationStatus).toBe("activated");
    expect(result.outputs.calsAvailable).toBeGreaterThan(0);
    expect(result.outputs.findings).toHaveLength(13);
    expect(result.outputs.findings.filter((f) => f.status !== "pass")).toEqual([]);
    // The report still goes to stderr, and says it.
    expect(r.stderr).toContain("--harness: using the bundled harness.");
    expect(r.stderr).toContain("No changes: the simulated farm already matches the program.");
  }, 300_000);

  test("--destroy deletes the five resources (dependents first); the packs leave the license server", () => {
    const r = succeeded(demo(["--destroy", "--state-dir", stateDir]));
    const deleted = [...r.stdout.matchAll(/^\s+-\s+delete\s+(\S+)/gm)].map((m) => m[1]);
    expect(deleted).toEqual(["quickstart-sh02", "quickstart-sh01", "quickstart-users-open", "quickstart-users-ea", "quickstart-ls"]);
    expect(r.stdout).toContain("Resources: 5 deleted");
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, ".pulumi", "harness", "dev.json"), "utf8"));
    expect(state.resources).toEqual([]);
    const ls = rdsSim(["show", "ls01.contoso.com"]) as { licenseServer: { activated: boolean; keyPacks: { KeyPackId: number }[] } };
    expect(ls.licenseServer.keyPacks.map((p) => p.KeyPackId)).toEqual([2]); // only the built-in pack is left
    // By default the activation stays (deactivateOnDelete: false): destroying a stack must not cost an activation.
    expect(ls.licenseServer.activated).toBe(true);
  }, 300_000);
});

describe("with a Pulumi CLI (a recording stand-in)", () => {
  const fakeBin = path.join(tmp, "fake-bin");
  const record = path.join(tmp, "pulumi-calls.jsonl");
  beforeAll(() => {
    fs.mkdirSync(fakeBin, { recursive: true });
    const script = `#!/usr/bin/env node
require("fs").appendFileSync(${JSON.stringify(record)}, JSON.stringify({ args: process.argv.slice(2), cwd: process.cwd(),
  backend: process.env.PULUMI_BACKEND_URL, passphrase: process.env.PULUMI_CONFIG_PASSPHRASE, sim: process.env.RDS_SIM_STATE_DIR }) + "\\n");
`;
    fs.writeFileSync(path.join(fakeBin, "pulumi"), script, { mode: 0o755 });
  });
  const calls = () =>
    fs
      .readFileSync(record, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { args: string[]; cwd: string; backend: string; passphrase?: string; sim: string });

  test("selects or creates the stack and runs `pulumi up --yes` in the project, on a local file backend, empty passphrase", () => {
    const cliState = path.join(tmp, "cli-state");
    const env = {
      PATH: `${fakeBin}${path.delimiter}${pathWithout("pulumi")}`,
      PULUMI_CONFIG_PASSPHRASE: undefined,
      PULUMI_CONFIG_PASSPHRASE_FILE: undefined,
    };
    const r = succeeded(demo(["--state-dir", cliState], env));
    expect(r.stdout).not.toContain("BUNDLED HARNESS");
    expect(calls()).toEqual([
      {
        args: ["stack", "select", "--create", "dev", "--non-interactive"],
        cwd: ROOT,
        backend: `file://${cliState}/.pulumi`,
        passphrase: "",
        sim: `${cliState}/.rds-sim`,
      },
      {
        args: ["up", "--yes", "--stack", "dev"],
        cwd: ROOT,
        backend: `file://${cliState}/.pulumi`,
        passphrase: "",
        sim: `${cliState}/.rds-sim`,
      },
    ]);
    fs.rmSync(record);
    succeeded(demo(["--destroy", "--stack", "test", "--state-dir", cliState], { ...env, PULUMI_CONFIG_PASSPHRASE: "kept" }));
    expect(calls().map((c) => [c.args, c.passphrase])).toEqual([
      [["stack", "select", "--create", "test", "--non-interactive"], "kept"],
      [["destroy", "--yes", "--stack", "test"], "kept"],
    ]);
  });
});

describe("prerequisites and arguments", () => {
  const emptyHome = path.join(tmp, "home");
  const emptyBin = path.join(tmp, "empty-bin");
  beforeAll(() => {
    fs.mkdirSync(emptyHome, { recursive: true });
    fs.mkdirSync(emptyBin, { recursive: true });
  });

  test("without pwsh and without dotnet: says how to get PowerShell 7, exit 1, nothing run", () => {
    const r = demo(["--state-dir", path.join(tmp, "no-pwsh")], { PATH: emptyBin, HOME: emptyHome, RDS_PWSH: undefined });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("PowerShell 7 (pwsh) is needed");
    expect(r.stdout).toContain("dotnet tool install --global PowerShell --version 7.6.9");
    expect(r.stdout).toContain("https://learn.microsoft.com/powershell/scripting/install/installing-powershell");
    expect(r.stdout).toContain("with it the demo installs PowerShell into .tools/pwsh itself");
    expect(r.stdout).not.toContain("BUNDLED HARNESS");
  });

  test("without pwsh, with dotnet: installs PowerShell into the local tool folder (--tool-path) without asking, says so in one line, and deploys with it", () => {
    // The stand-in `dotnet` records every call; `tool install` puts a pwsh into --tool-path that records
    // each start and runs the real pwsh (nothing is downloaded). Any other call (the PowerShell tool's
    // shim runs `dotnet pwsh.dll`) goes to the real dotnet.
    const realPwsh = findPwsh(process.env);
    const realDotnet = spawnSync("sh", ["-c", "command -v dotnet"], { encoding: "utf8" }).stdout.trim();
    if (!realPwsh.found || !realDotnet) throw new Error("this test needs the machine's pwsh and dotnet to stand behind the fakes");
    const dotnetBin = path.join(tmp, "dotnet-bin");
    const dotnetCalls = path.join(tmp, "dotnet-calls.jsonl");
    const pwshStarts = path.join(tmp, "pwsh-starts");
    fs.mkdirSync(dotnetBin, { recursive: true });
    const fakePwsh = `#!/bin/sh\necho started >> ${JSON.stringify(pwshStarts)}\nexec ${JSON.stringify(realPwsh.path)} "$@"\n`;
    // `tool …` goes to a recording installer; anything else is exec'd to the real dotnet (same process).
    const installer = path.join(tmp, "fake-dotnet-tool.js");
    fs.writeFileSync(
      installer,
      `const fs = require("fs"), path = require("path"), argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(dotnetCalls)}, JSON.stringify(argv) + "\\n");
const folder = argv[argv.indexOf("--tool-path") + 1];
fs.mkdirSync(folder, { recursive: true });
fs.writeFileSync(path.join(folder, "pwsh"), ${JSON.stringify(fakePwsh)}, { mode: 0o755 });
console.log("Tool 'powershell' (version '7.6.9') was successfully installed.");
`,
    );
    const fakeDotnet = `#!/bin/sh\n[ "$1" = tool ] && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(installer)} "$@"\nexec ${JSON.stringify(realDotnet)} "$@"\n`;
    fs.writeFileSync(path.join(dotnetBin, "dotnet"), fakeDotnet, { mode: 0o755 });
    const localState = path.join(tmp, "local-pwsh");
    const folder = path.join(localState, ".tools", "pwsh");
    const env = { PATH: `${dotnetBin}${path.delimiter}${pathWithout("pulumi", "pwsh")}`, HOME: emptyHome, RDS_PWSH: undefined };

    const r = succeeded(demo(["--state-dir", localState], env));
    const out = r.stdout.split("\n");
    // The exact command, once, into the local folder: no --global.
    const calls = () =>
      fs
        .readFileSync(dotnetCalls, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[]);
    const install = [["tool", "install", "PowerShell", "--version", "7.6.9", "--tool-path", folder]];
    expect(calls()).toEqual(install);
    // One line before (what, where, how, that nothing global changes), one after; dotnet's own output is not shown.
    const announce = out.findIndex((l) => l.startsWith("PowerShell 7 not found:"));
    expect(out[announce]).toBe(
      `PowerShell 7 not found: installing PowerShell 7.6.9 into ${folder} (dotnet tool install --tool-path; nothing global changes)`,
    );
    expect(out[announce + 1]).toBe(`Installed: ${path.join(folder, "pwsh")} (remove the folder to undo).`);
    expect(r.stdout).not.toContain("successfully installed");
    // ...and the deployment ran in it.
    expect(r.stdout).toContain("Resources: 5 created");
    expect(fs.existsSync(pwshStarts)).toBe(true);

    // The next run (a destroy: it runs the delete scripts) finds it in the folder and uses it: no second install.
    fs.rmSync(pwshStarts);
    const again = succeeded(demo(["--destroy", "--state-dir", localState], env));
    expect(again.stdout).not.toContain("PowerShell 7 not found");
    expect(again.stdout).toContain("Resources: 5 deleted");
    expect(fs.existsSync(pwshStarts)).toBe(true);
    expect(calls()).toEqual(install);
  }, 600_000);

  test("a wrong RDS_PWSH is reported, not worked around: exit 1, nothing installed", () => {
    const dotnetCalls = path.join(tmp, "dotnet-calls-rds-pwsh");
    const dotnetBin = path.join(tmp, "dotnet-bin-recording");
    fs.mkdirSync(dotnetBin, { recursive: true });
    fs.writeFileSync(path.join(dotnetBin, "dotnet"), `#!/bin/sh\necho "$@" >> ${JSON.stringify(dotnetCalls)}\n`, { mode: 0o755 });
    const r = demo(["--state-dir", path.join(tmp, "wrong-rds-pwsh")], {
      PATH: dotnetBin,
      HOME: emptyHome,
      RDS_PWSH: path.join(tmp, "no-such-pwsh"),
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`RDS_PWSH is set to ${path.join(tmp, "no-such-pwsh")}, which is not an executable file`);
    expect(fs.existsSync(dotnetCalls)).toBe(false);
  });

  test("bad arguments exit 2 with the reason; --help prints the usage", () => {
    const bad = demo(["--frobnicate"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("demo: unknown option --frobnicate");
    const help = succeeded(demo(["--help"]));
    expect(help.stdout).toContain("usage: npm run demo [-- options]");
    expect(help.stdout).toContain("--install-cli");
  });
});
