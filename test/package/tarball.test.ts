/**
 * The package a user installs: `npm pack` of the project, its file list, then a user's program in a
 * fresh temporary folder outside the repository that `npm install`s the tarball beside an
 * `@pulumi/pulumi` of its own (from the registry), once with the lowest version the package supports
 * and once with the newest one served. Each install is type-checked and deployed on the simulator
 * twice (the second `up` changes nothing).
 *
 * What is real: npm (pack, and install from the registry or its cache), the tarball and everything in
 * it, the installed @pulumi/pulumi of each version (the program's resources, the component, closure
 * serialization, its dynamic-provider host started with the program folder as cwd, so the host loads
 * the INSTALLED package: nothing of the repository resolves from that folder), the TypeScript compiler
 * (its API, the folder's tsconfig.json), pwsh and every operation script shipped in the tarball, the
 * installed `rds-sim` bin.
 * What stands in: the Pulumi CLI engine and resource monitor (engine/program.ts `runProgram`, given
 * the program folder's own SDK copy), the language host (test/package/deploy.ts runs the program
 * function inside the root Stack as it does), Windows (the WMI emulator, state in the temp folder).
 *
 * Needs the build (`npm test` makes it first; alone: `npx tsc -p tsconfig.json`) and the npm registry
 * (or a cache holding both @pulumi/pulumi versions).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createEngine, type Engine } from "../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../helpers/providerHost";
import { pwshExecutable } from "../helpers/pwshSession";
import { deployProgram, type DeployOptions } from "./deploy";
import {
  danglingSourceMaps,
  fileWithoutSource,
  packed,
  packedDocLinks,
  packProject,
  pointsIntoPackage,
  ROOT,
  type PackedPackage,
} from "./pack";
import { compileProgram, createProgramFolder, installedCopies } from "./userProgram";

/** The lowest @pulumi/pulumi the package supports (its peer dependency's floor) and the newest served. */
const PULUMI_VERSIONS = [
  { version: "3.248.0", which: "the lowest supported" },
  { version: "3.276.0", which: "the newest served" },
];
const PROJECT = "rds-user-program";
const STACK = "dev";
/** The program's secret config: none of them may show in an output or a log. */
const SECRETS = {
  adminPassword: "Pa55-never-logged",
  agreementNumber: "7654321",
  openLicenseNumber: "87654321",
  openLicenseAuthorization: "ZYXWV54321UTSRQ",
};

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rds-package-"));
let pack: PackedPackage;
/** Where the tarball is unpacked (its `package/` folder). */
let unpacked: string;
const readPacked = (file: string) => fs.readFileSync(path.join(unpacked, file), "utf8");

beforeAll(() => {
  assertBuilt(["provider"]);
  pack = packProject(work);
  execFileSync("tar", ["-xzf", pack.tarball, "-C", work]);
  unpacked = path.join(work, "package");
  console.log(
    `npm pack: ${pack.entryCount} files, ${pack.unpackedSize} bytes unpacked (${(pack.unpackedSize / 1024 / 1024).toFixed(2)} MB), tarball ${pack.size} bytes`,
  );
}, 120_000);

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe("the packed tarball", () => {
  test("holds the runtime only: the built provider and its typings, the PowerShell scripts, the emulator, the docs, LICENSE", () => {
    const outside = pack.files.filter((f) => /^(test|bench|scripts|engine|examples|docs)\//.test(f) || /^bin\/(?!provider\/)/.test(f));
    expect(outside).toEqual([]);
    // Besides those: the ssh client's watchdog (sh), which the ssh transport runs.
    const watchdog = "provider/powershell/transports/RdsRemoting/ssh-watchdog.sh";
    expect(pack.files.filter((f) => !/\.(js|d\.ts|ps1|psm1|md)$/.test(f) && !["LICENSE", "package.json", watchdog].includes(f))).toEqual(
      [],
    );
    expect(pack.files).toContain(watchdog);
    expect(pack.files).toEqual(
      expect.arrayContaining(["LICENSE", "README.md", "package.json", "bin/provider/index.js", "bin/provider/index.d.ts"]),
    );
    // The simulator is a feature: the emulator module, its CLI and the CLI's driver ship.
    expect(pack.files).toEqual(
      expect.arrayContaining(["provider/emulator/RdsEmulator.psm1", "provider/emulator/cli-driver.ps1", "bin/provider/emulator/cli.js"]),
    );
    // ... with the Windows modules by name and `rds-sim run`'s host script; and the `rds-licensing check` command.
    expect(pack.files).toEqual(
      expect.arrayContaining([
        "provider/emulator/modules/RemoteDesktop/RemoteDesktop.psm1",
        "provider/emulator/modules/RemoteDesktopServices/RemoteDesktopServices.psm1",
        "provider/emulator/cli/run-host.ps1",
        "bin/provider/check/cli.js",
      ]),
    );
    expect(pack.entryCount).toBe(pack.files.length);

    const license = readPacked("LICENSE");
    expect(license).toContain("Apache License\n                           Version 2.0, January 2004");
    expect(license).toContain("END OF TERMS AND CONDITIONS");
    expect(license).toContain("Copyright 2026 The pulumi-rds-licensing authors");
  });

  test("no source map without its source, and no built file without its TypeScript source (a stale build)", () => {
    expect(danglingSourceMaps(pack.files, readPacked)).toEqual([]);
    expect(fileWithoutSource(pack.files, (source) => fs.existsSync(path.join(ROOT, source)))).toEqual([]);
  });

  test("every relative link of the packed docs that points into the package resolves inside the tarball", () => {
    const links = packedDocLinks(pack.files, readPacked);
    expect(links.map((l) => l.from)).toContain("README.md");
    const intoPackage = links.filter((l) => pointsIntoPackage(l.target, pack.files));
    expect(intoPackage.map((l) => l.target)).toEqual(
      expect.arrayContaining(["provider/powershell/CONNECTIONS.md", "provider/emulator/CLI.md"]),
    );
    expect(intoPackage.filter((l) => !packed(l.target, pack.files))).toEqual([]);
    // The others lead to the repository (examples, docs, tests): they resolve there, and npmjs.com
    // resolves them against `repository`. Listed so a reader of the output sees them.
    const toRepository = links.filter((l) => !pointsIntoPackage(l.target, pack.files));
    expect(toRepository.filter((l) => !fs.existsSync(path.join(ROOT, l.target)))).toEqual([]);
    console.log(
      `links of the packed docs to the repository only (${toRepository.length}):\n${toRepository.map((l) => `  ${l.from} -> ${l.target}`).join("\n")}`,
    );
  });

  test("package.json: @pulumi/pulumi is a peer dependency from the lowest supported version; repository, homepage and bugs are set", () => {
    const manifest = JSON.parse(readPacked("package.json"));
    expect(manifest.peerDependencies).toEqual({ "@pulumi/pulumi": `^${PULUMI_VERSIONS[0].version}` });
    expect(manifest.dependencies["@pulumi/pulumi"]).toBeUndefined();
    expect(manifest.license).toBe("Apache-2.0");
    expect(manifest.repository.url).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.bugs.url).toMatch(/^https:\/\/.+\/issues$/);
    // The repository's own tests run on the pinned lowest version.
    const own = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(own.devDependencies["@pulumi/pulumi"]).toBe(PULUMI_VERSIONS[0].version);
  });
});

describe.each(PULUMI_VERSIONS)("a user's program with @pulumi/pulumi $version ($which)", ({ version }) => {
  const dir = path.join(work, `program-${version}`);
  const stateDir = path.join(dir, ".rds-sim");
  const deployOptions = (): DeployOptions => ({
    project: PROJECT,
    stack: STACK,
    config: { simStateDir: stateDir, ...SECRETS },
    secretKeys: Object.keys(SECRETS),
  });
  let host: ProviderHost | undefined;
  let engine: Engine;

  afterAll(async () => {
    await host?.close();
  });

  test("npm install of the tarball beside it leaves one copy of @pulumi/pulumi: that version", () => {
    createProgramFolder(dir, pack.tarball, version);
    expect(installedCopies(dir, "@pulumi/pulumi")).toEqual([{ where: path.join("node_modules", "@pulumi", "pulumi"), version }]);
    // The package the program (and the host started in its folder) resolves is the installed one: the
    // repository is not reachable from a folder in the temp directory.
    const resolved = fs.realpathSync(require.resolve("pulumi-rds-licensing/package.json", { paths: [dir] }));
    expect(resolved).toBe(path.join(fs.realpathSync(dir), "node_modules", "pulumi-rds-licensing", "package.json"));
  }, 600_000);

  test("the program, using every resource with secrets from config in connections and packs, type-checks against the installed typings", () => {
    const compiled = compileProgram(dir);
    expect(compiled.errors).toBe("");
    expect(compiled.packageTypings).toContain(path.join("node_modules", "pulumi-rds-licensing", "bin", "provider", "index.d.ts"));
    expect(fs.existsSync(path.join(dir, "index.js"))).toBe(true);
  }, 120_000);

  test("deploys on the simulator through the real dynamic-provider host started in the program folder", async () => {
    // The installed package looks for pwsh from the program folder (RDS_PWSH, PATH, ~/.dotnet/tools,
    // .tools/pwsh there). On a machine whose only pwsh is this checkout's .tools/pwsh (what npm test
    // installs), the user would point RDS_PWSH at it: so does the test, with the suite's own lookup.
    host = await startProviderHost({
      cwd: dir,
      project: PROJECT,
      stack: STACK,
      startTimeoutMs: 60_000,
      env: { RDS_PWSH: pwshExecutable() },
    });
    engine = createEngine(host);
    const up = await deployProgram(engine, dir, deployOptions());
    expect(up.programError).toBeUndefined();
    expect(up.run.errors).toEqual([]);
    const names = up.run.steps.map((s) => [s.urn.split("::").pop(), s.op]);
    expect(names).toEqual(
      expect.arrayContaining([
        ["ls01", "create"],
        ["ls01-users", "create"],
        ["sh01", "create"],
        ["farm-ls", "create"],
        ["farm-devices", "create"],
        ["farm-sh02", "create"],
      ]),
    );
    expect(names).toHaveLength(6);

    const { farmFindings, ...outputs } = up.outputs;
    expect(outputs).toEqual({
      activationStatus: "activated",
      userCalsInstalled: 25,
      sessionHostMode: "perUser",
      sessionHostLicenseServers: ["ls01.contoso.com"],
      farmActivationStatus: "activated",
      farmCalsInstalled: [10],
      farmSessionHostModes: ["perDevice"],
    });
    expect((farmFindings as { id: string; status: string }[]).filter((f) => f.status === "fail")).toEqual([]);

    // No secret of the config in an output, nor in anything the host printed.
    const printed = JSON.stringify(up.outputs) + host.stderr();
    for (const secret of Object.values(SECRETS)) expect(printed).not.toContain(secret);

    // The installed `rds-sim` bin sees what was deployed.
    const hosts = execFileSync(path.join(dir, "node_modules", ".bin", "rds-sim"), ["hosts", "--json", "--state-dir", stateDir], {
      cwd: dir,
      env: { ...process.env, RDS_PWSH: pwshExecutable() },
      encoding: "utf8",
    });
    expect(hosts).toContain("ls01.contoso.com");
    expect(hosts).toContain("sh02.contoso.com");

    // The installed `rds-licensing` bin checks the component's farm (ls02, sh02), read-only: healthy, as its findings said.
    const checkRun = spawnSync(
      path.join(dir, "node_modules", ".bin", "rds-licensing"),
      [
        "check",
        "--license-server",
        "ls02.contoso.com",
        "--session-host",
        "sh02.contoso.com",
        "--mode",
        "perDevice",
        "--transport",
        "simulator",
        "--state-dir",
        stateDir,
        "--json",
      ],
      { cwd: dir, env: { ...process.env, RDS_PWSH: pwshExecutable() }, encoding: "utf8" },
    );
    expect(checkRun.stderr).toBe("");
    const check = JSON.parse(checkRun.stdout) as {
      exitCode: number;
      findings: { id: string; severity: string; status: string; detail: string }[];
    };
    expect(check.findings.filter((f) => f.status === "fail" && f.severity === "error")).toEqual([]);
    expect(check.exitCode).toBe(0);
    expect(checkRun.status).toBe(0);
  }, 900_000);

  test("a second up changes nothing", async () => {
    expect(host).toBeDefined();
    const again = await deployProgram(engine, dir, deployOptions());
    expect(again.programError).toBeUndefined();
    expect(again.run.errors).toEqual([]);
    expect(again.run.steps.map((s) => s.op)).toEqual(Array(6).fill("same"));
  }, 600_000);
});
