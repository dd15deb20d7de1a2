/**
 * Target-side PowerShell stays runnable on Windows PowerShell 5.1 (and pwsh 7.2+): every script and
 * module that runs on the Windows side is parsed and its AST walked for 7-only syntax, cmdlets,
 * parameters and .NET APIs (rules and their sources: compat51/Find-Pwsh7Only.ps1). Also the envelope
 * decoder's two paths (System.Text.Json on pwsh 7, ConvertFrom-Json + hashtable conversion on 5.1)
 * and the remote version check.
 *
 * Target-side files (what runs inside the Windows session):
 *   - provider/powershell/*.ps1 and *.psm1 (Bootstrap.ps1, RdsCommon.psm1: loaded on the far side);
 *   - provider/powershell/transports/RdsRemoting/FarSide.ps1 (its script blocks run on the far side);
 *   - provider/resources/** /*.ps1 (every operation script and its .Common.ps1);
 *   - examples/azure/remoting-setup.ps1 and host-trust.ps1 (run by powershell.exe 5.1 on the Azure VMs;
 *     trust-winrm-certificates.ps1 runs on the controller, next to the provider's own pwsh 7).
 * Not target-side: RemoteConnect.ps1, RdsRemoting.psm1, RdsRemoting/SessionParameters.ps1 and
 * Shipping.ps1, SimulatorInit.ps1 (they run in OUR pwsh 7.6), and provider/emulator/** (our machine).
 *
 * Real: pwsh 7.6 and its parser; the walker; RdsCommon.psm1 and RdsRemoting.psm1 as shipped.
 * Stand-ins: no Windows PowerShell 5.1 runs here, so the 5.1 decoder path is driven on pwsh 7.6 with
 * ConvertFrom-Json's PSCustomObject output (the shape 5.1 gives), and the version check is called
 * with reported version strings instead of a real old target.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { findPwsh } from "../../provider/powershell/executable";

const root = path.resolve(__dirname, "../..");
const walker = path.join(__dirname, "compat51", "Find-Pwsh7Only.ps1");

interface Violation {
  file: string;
  line: number;
  rule: string;
  text: string;
  source: string;
}
interface WalkReport {
  files: number;
  rules: number;
  violations: Violation[];
}

function pwshPath(): string {
  const pwsh = findPwsh();
  if (!pwsh.found) throw new Error(pwsh.reason);
  return pwsh.path;
}

function runPwsh(args: string[]): string {
  const r = spawnSync(pwshPath(), ["-NoProfile", "-NonInteractive", ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`pwsh failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function walk(args: string[]): WalkReport {
  const out = runPwsh(["-File", walker, ...args])
    .trim()
    .split("\n");
  return JSON.parse(out[out.length - 1]) as WalkReport;
}

function listFiles(dir: string, pattern: RegExp): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), pattern) : pattern.test(e.name) ? [path.join(dir, e.name)] : []));
}

/** Every target-side file (see the header). */
function targetSideFiles(): string[] {
  const packageDir = path.join(root, "provider", "powershell");
  const own = fs
    .readdirSync(packageDir)
    .filter((f) => /\.(ps1|psm1)$/.test(f))
    .map((f) => path.join(packageDir, f));
  return [
    ...own,
    path.join(packageDir, "transports", "RdsRemoting", "FarSide.ps1"),
    ...listFiles(path.join(root, "provider", "resources"), /\.ps1$/),
    path.join(root, "examples", "azure", "remoting-setup.ps1"),
    path.join(root, "examples", "azure", "host-trust.ps1"),
  ].map((f) => path.relative(root, f));
}

describe("target-side PowerShell is 5.1-clean", () => {
  test("every target-side file walks without a 7-only construct", () => {
    const files = targetSideFiles();
    expect(files.length).toBeGreaterThan(15);
    const report = walk(["-PathList", files.join("|")]);
    // The numbers the issue asks for.
    console.log(
      `compat51: ${report.files} target-side files walked, ${report.rules} rules checked, ${report.violations.length} violations`,
    );
    expect(report.files).toBe(files.length);
    expect(report.violations).toEqual([]);
  });

  const scratch: Array<[string, string]> = [
    ["ternary ?:", "$a = $true ? 1 : 2"],
    ["null-coalescing ??", "$a = $b ?? 'x'"],
    ["null-coalescing assignment ??=", "$a ??= 1"],
    ["null-conditional ?. / ?[]", "${a}?.Name"],
    ["pipeline chain && / ||", "Get-Item x && Get-Item y"],
    ["clean {} block", "function f { process { 1 } clean { 2 } }"],
    ["ConvertFrom-Json -DateKind", "ConvertFrom-Json -InputObject $j -DateKind String"],
    ["ConvertFrom-Json -AsHashtable", "ConvertFrom-Json $j -AsHash"],
    ["ConvertTo-Json -EscapeHandling", "ConvertTo-Json $x -EscapeHandling EscapeNonAscii"],
    ["ForEach-Object -Parallel", "1..2 | ForEach-Object -Parallel { $_ }"],
    ["Test-Json (cmdlet)", "Test-Json -Json '{}'"],
    ["-Encoding utf8NoBOM", "Out-File -FilePath x -Encoding utf8NoBOM"],
    ["[System.IO.Path::Join] (.NET Core 2.1)", "[System.IO.Path]::Join('a', 'b')"],
    ["[System.Convert::ToHexString] (.NET 5)", "[Convert]::ToHexString($b)"],
    ["$IsWindows without a PSEdition check", "if ($IsWindows) { 1 }"],
    ["$PSStyle without a Get-Variable guard", "$PSStyle.OutputRendering = 'PlainText'"],
    ["#Requires -Version above 5.1", "#Requires -Version 7.2"],
  ];
  test("a scratch script with one 7-only line per rule fails the walk on each line, with its source", () => {
    const report = walk(["-Text", scratch.map(([, line]) => line).join("\n")]);
    const found = report.violations.map((v) => `${v.line}: ${v.rule}`);
    // #Requires belongs to the whole script: reported at its line 1.
    scratch.forEach(([rule], i) => expect(found).toContain(`${rule.startsWith("#Requires") ? 1 : i + 1}: ${rule}`));
    for (const v of report.violations) expect(v.source).toMatch(/^https:\/\/learn\.microsoft\.com\//);
  });

  test("5.1-safe forms pass: guarded $IsWindows / $PSStyle, Unix-only branches, -Leaf", () => {
    const report = walk([
      "-Text",
      [
        "if ($PSVersionTable.PSEdition -eq 'Desktop' -or $IsWindows) { 1 }",
        "if ($null -ne (Get-Variable -Name PSStyle -ValueOnly -ErrorAction SilentlyContinue)) { $PSStyle.OutputRendering = 'PlainText' }",
        "if ($IsLinux -or $IsMacOS) { [System.IO.UnixFileMode]'UserRead' }",
        "Split-Path -Leaf 'a/b'",
        "ConvertTo-Json -InputObject 1 -Compress",
      ].join("\n"),
    ]);
    expect(report.violations).toEqual([]);
  });
});

describe("ConvertFrom-RdsEnvelope on both paths", () => {
  const common = path.join(root, "provider", "powershell", "RdsCommon.psm1");
  // One probe: decodes the same JSON through the pwsh 7 path (JsonDocument) and through the 5.1 path
  // (ConvertFrom-Json's PSCustomObject tree -> hashtables), and reports types and values.
  const probe = `
$ErrorActionPreference = 'Stop'
$m = Import-Module -Name '${common.replace(/'/g, "''")}' -PassThru -Force
$json = '{"a":1,"big":99999999999999999999,"f":1.5,"d":"2024-01-01T00:00:00Z","u":"\\u00e9\\u0000$()","arr":[1,"x",[]],"one":[5],"o":{"K":null,"k2":true}}'
$core = & $m { param($j) ConvertFrom-RdsJson -Json $j } $json
$desktop = & $m { param($j) ConvertFrom-RdsJsonObject -Value (ConvertFrom-Json -InputObject $j) -Depth 0 } $json.Replace('"d":"2024-01-01T00:00:00Z",', '')
function Describe($t) { [ordered]@{
  type = $t.GetType().Name; a = $t.a.GetType().Name; arr = $t.arr.GetType().Name; arrCount = $t.arr.Count
  one = $t.one.GetType().Name; oneCount = $t.one.Count; inner = $t.arr[2].GetType().Name; o = ($t.o -is [System.Collections.IDictionary])
  caseSensitive = -not $t.o.ContainsKey('k'); u = $t.u; d = if ($t.ContainsKey('d')) { $t.d.GetType().Name } else { $null } } }
$deep = ('{"a":' * 51) + '1' + ('}' * 51)
$ok50 = ('{"a":' * 50) + '1' + ('}' * 50)
$depth = [ordered]@{
  core50 = [bool](& $m { param($j) ConvertFrom-RdsJson -Json $j } $ok50)
  desktop50 = [bool](& $m { param($j) ConvertFrom-RdsJsonObject -Value (ConvertFrom-Json -InputObject $j -Depth 100) -Depth 0 } $ok50)
  core51 = $(try { & $m { param($j) $null = ConvertFrom-RdsJson -Json $j } $deep; 'accepted' } catch { 'refused' })
  desktop51 = $(try { & $m { param($j) $null = ConvertFrom-RdsJsonObject -Value (ConvertFrom-Json -InputObject $j -Depth 100) -Depth 0 } $deep; 'accepted' } catch { 'refused' })
  invalid = $(try { $null = ConvertFrom-RdsEnvelope ([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('{"a":'))); 'accepted' } catch { 'refused' })
}
[Console]::Out.WriteLine((ConvertTo-Json -Compress -Depth 5 ([ordered]@{ core = (Describe $core); desktop = (Describe $desktop); depth = $depth; ascii = (ConvertTo-RdsAsciiJson 'é€<') })))
`;

  test("same shapes as ConvertFrom-Json -AsHashtable; dates stay strings; depth 50; invalid JSON throws; ASCII out", () => {
    const out = runPwsh(["-Command", probe]).trim().split("\n");
    const r = JSON.parse(out[out.length - 1]);
    const shape = {
      a: "Int64",
      arr: "Object[]",
      arrCount: 3,
      one: "Object[]",
      oneCount: 1,
      inner: "Object[]",
      o: true,
      caseSensitive: true,
      u: "é\u0000$()",
    };
    expect(r.core).toMatchObject({ ...shape, type: "OrderedHashtable", d: "String" });
    expect(r.desktop).toMatchObject(shape);
    expect(r.depth).toEqual({ core50: true, desktop50: true, core51: "refused", desktop51: "refused", invalid: "refused" });
    expect(r.ascii).toBe('"\\u00e9\\u20ac<"');
  });
});

describe("Assert-RdsRemoteVersion (connect)", () => {
  const remoting = path.join(root, "provider", "powershell", "transports", "RdsRemoting.psm1");
  const bootstrap = path.join(root, "provider", "powershell", "Bootstrap.ps1");
  test("5.1 and 7.2+ pass; 4.0, 6.2 and 7.1 are refused with TRANSPORT_UNAVAILABLE", () => {
    const script = `
. '${bootstrap.replace(/'/g, "''")}'
Import-Module -Name '${remoting.replace(/'/g, "''")}' -Force
$out = foreach ($v in @('5.1.17763.1', '7.2.0', '7.6.9', '4.0', '6.2.7', '7.1.3', '')) {
  try { Assert-RdsRemoteVersion -PSVersion $v -Edition 'Desktop'; "$v ok" } catch { "$v " + (Get-RdsScriptErrorDetails $_.Exception).code + ' ' + $_.Exception.Message }
}
[Console]::Out.WriteLine((ConvertTo-Json -Compress @($out)))
`;
    const out = runPwsh(["-Command", script]).trim().split("\n");
    const lines: string[] = JSON.parse(out[out.length - 1]);
    expect(lines.slice(0, 3)).toEqual(["5.1.17763.1 ok", "7.2.0 ok", "7.6.9 ok"]);
    for (const line of lines.slice(3)) expect(line).toMatch(/ TRANSPORT_UNAVAILABLE .*Windows PowerShell 5\.1 or PowerShell 7\.2/);
    expect(lines[3]).toContain("the target runs Windows PowerShell 4.0");
  });
});
