/**
 * The PowerShell files shipped with the examples: each parses, and the existing-deployment example's
 * simulate-existing-farm.ps1 builds the farm the program's defaults describe (the KeyPackIds it adopts).
 *
 * What is real: pwsh 7 and its parser; simulate-existing-farm.ps1, run as a reader of the example would
 * run it; the WMI emulator module it imports; the rds-sim CLI used to look at the result.
 * What stands in: Windows (the emulator, state in a temporary directory). The Azure example's scripts are
 * only parsed here: remoting-setup.ps1 and host-trust.ps1 (run on the VMs) and trust-winrm-certificates.ps1
 * (run on a Windows controller) call cmdlets that exist on Windows only (WSMan:, New-NetFirewallRule,
 * Add-WindowsCapability, Cert:). The composed -EncodedCommand is checked in mocks.test.ts, and the
 * 5.1-compatibility walker (test/powershell/compat51.test.ts) reads all three.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findPwsh } from "../../provider/powershell/executable";
import { EXAMPLES_DIR, ROOT } from "./paths";

const pwshLookup = findPwsh();
const pwsh = (): string => {
  if (!pwshLookup.found) throw new Error(`pwsh is needed for these tests: ${pwshLookup.reason}`);
  return pwshLookup.path;
};
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-example-scripts-"));
afterAll(() => fs.rmSync(stateDir, { recursive: true, force: true }));

test("every .ps1 shipped with an example parses without errors", () => {
  const files = fs
    .readdirSync(EXAMPLES_DIR)
    .flatMap((d) =>
      fs.statSync(path.join(EXAMPLES_DIR, d)).isDirectory()
        ? fs
            .readdirSync(path.join(EXAMPLES_DIR, d))
            .filter((f) => f.endsWith(".ps1"))
            .map((f) => path.join(EXAMPLES_DIR, d, f))
        : [],
    )
    .sort();
  expect(files.map((f) => path.relative(EXAMPLES_DIR, f))).toEqual([
    "azure/host-trust.ps1",
    "azure/remoting-setup.ps1",
    "azure/trust-winrm-certificates.ps1",
    "existing-deployment/simulate-existing-farm.ps1",
  ]);
  const script = `$out = foreach ($f in $input) { $errors = $null; $null = [System.Management.Automation.Language.Parser]::ParseFile($f, [ref]$null, [ref]$errors); [pscustomobject]@{ file = $f; errors = @($errors | ForEach-Object { $_.ToString() }) } }; ConvertTo-Json -InputObject @($out) -Depth 4`;
  const r = spawnSync(pwsh(), ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", script], {
    input: files.join("\n"),
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(r.stderr).toBe("");
  const parsed = JSON.parse(r.stdout) as { file: string; errors: string[] }[];
  expect(parsed.map((p) => [path.relative(EXAMPLES_DIR, p.file), p.errors])).toEqual([
    ["azure/host-trust.ps1", []],
    ["azure/remoting-setup.ps1", []],
    ["azure/trust-winrm-certificates.ps1", []],
    ["existing-deployment/simulate-existing-farm.ps1", []],
  ]);
}, 120_000);

test("simulate-existing-farm.ps1 builds the farm existing-deployment adopts: ls01 activated, with the declared contact and packs 3 and 4", () => {
  const r = spawnSync(
    pwsh(),
    [
      "-NoLogo",
      "-NoProfile",
      "-NonInteractive",
      "-File",
      path.join(EXAMPLES_DIR, "existing-deployment", "simulate-existing-farm.ps1"),
      "-StateDir",
      stateDir,
    ],
    {
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  const printed = JSON.parse(r.stdout) as { stateDir: string; licenseServer: string; keyPackIds: Record<string, number> };
  expect(printed).toEqual({ stateDir, licenseServer: "ls01.contoso.com", keyPackIds: { "users-2019": 3, "users-2022": 4 } });
  // The program's defaults adopt exactly these (same ids, versions, types, counts).
  const program = fs.readFileSync(path.join(EXAMPLES_DIR, "existing-deployment", "index.ts"), "utf8");
  expect(program).toContain(
    '{ name: "users-2019", keyPackId: 3, program: "select", productVersion: "2019", calType: "perUser", quantity: 20 }',
  );
  expect(program).toContain(
    '{ name: "users-2022", keyPackId: 4, program: "enterpriseAgreement", productVersion: "2022", calType: "perUser", quantity: 40 }',
  );

  const show = spawnSync(
    process.execPath,
    [path.join(ROOT, "bin/provider/emulator/cli.js"), "--state-dir", stateDir, "--json", "show", "ls01.contoso.com"],
    { encoding: "utf8", timeout: 120_000 },
  );
  expect(show.status).toBe(0);
  const ls = JSON.parse(show.stdout) as {
    licenseServer: {
      activated: boolean;
      contact: Record<string, string>;
      keyPacks: { KeyPackId: number; ProductVersionID: number; ProductType: number; TotalLicenses: number }[];
    };
  };
  expect(ls.licenseServer.activated).toBe(true);
  // The contact the program declares, so adopting it rewrites nothing.
  expect(ls.licenseServer.contact).toMatchObject({
    FirstName: "Ada",
    LastName: "Lovelace",
    Company: "Contoso Ltd",
    CountryRegion: "United Kingdom",
  });
  expect(
    ls.licenseServer.keyPacks
      .filter((p) => p.KeyPackId !== 2)
      .map((p) => [p.KeyPackId, p.ProductVersionID, p.ProductType, p.TotalLicenses]),
  ).toEqual([
    [3, 6, 1, 20],
    [4, 7, 1, 40],
  ]);
}, 180_000);
