/**
 * The emulator's README lists every WBEM code the emulator can answer ("Error codes used"), per method or
 * cmdlet stand-in, each with a Microsoft source or the words "emulator's choice". This test derives the
 * codes from the emulator's code and compares both ways: a code answered but not listed fails, and so does a
 * listed row the code no longer answers.
 *
 * How the codes are derived: pwsh parses every RdsEmulator/*.ps1 file (the PowerShell AST). A code is raised
 * only as `New-RdsWmiError $script:WBEM_E_X` or `Stop-RdsMethod $script:WBEM_E_X` (any other form fails the
 * test, so the scan cannot miss one). Each function's codes are closed over the emulator functions it calls;
 * a method's codes are those of its implementation (the method table, read from the loaded module), a
 * cmdlet stand-in's those of its function (for Invoke-CimMethod: the dispatch every method shares).
 *
 * Real: pwsh 7, the emulator module and its README. Stands in: nothing (no host is called).
 */
import fs from "fs";
import path from "path";
import { liveSessionCount } from "../helpers/pwshSession";
import { EmulatorFixture, uniqueHost, WBEM } from "./emulatorKit";

const README = path.join(__dirname, "..", "..", "provider", "emulator", "README.md");

interface Scan {
  functions: Record<string, { file: string; calls: string[]; codes: string[] }>;
  sites: Array<{ file: string; line: number; function: string | null; code: string | null }>;
  methods: Array<{ className: string; name: string; impl: string | null; notEmulated: boolean }>;
  cmdlets: string[];
}

/** pwsh: every function (its file, the commands it calls, the codes it raises), every raise site, the method table, the stand-ins. */
const SCAN = String.raw`
$module = Get-Module RdsEmulator
$root = Join-Path (Split-Path $module.Path) 'RdsEmulator'
$functions = @{}
$sites = [System.Collections.Generic.List[object]]::new()
$isFunction = { param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }
$isRaise = { param($n) $n -is [System.Management.Automation.Language.CommandAst] -and $n.GetCommandName() -in 'New-RdsWmiError', 'Stop-RdsMethod' }
foreach ($file in Get-ChildItem $root -Recurse -Filter *.ps1) {
    $tokens = $null; $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($file.FullName, [ref]$tokens, [ref]$errors)
    $rel = [System.IO.Path]::GetRelativePath($root, $file.FullName).Replace('\', '/')
    foreach ($def in $ast.FindAll($isFunction, $true)) {
        $calls = @($def.Body.FindAll({ param($n) $n -is [System.Management.Automation.Language.CommandAst] }, $true) | ForEach-Object { $_.GetCommandName() } | Where-Object { $_ } | Select-Object -Unique)
        $functions[$def.Name] = [ordered]@{ file = $rel; calls = $calls; codes = [System.Collections.Generic.List[string]]::new() }
    }
    foreach ($raise in $ast.FindAll($isRaise, $true)) {
        $fn = $raise.Parent
        while ($null -ne $fn -and $fn -isnot [System.Management.Automation.Language.FunctionDefinitionAst]) { $fn = $fn.Parent }
        $fnName = if ($null -ne $fn) { $fn.Name } else { $null }
        # The two raising helpers pass their own parameter on: not a raise site.
        if ($fnName -in 'New-RdsWmiError', 'Stop-RdsMethod') { continue }
        $arg = if ($raise.CommandElements.Count -gt 1) { $raise.CommandElements[1] } else { $null }
        $code = $null
        if ($arg -is [System.Management.Automation.Language.VariableExpressionAst] -and $arg.VariablePath.UserPath -match '^script:(WBEM_E_\w+)$') { $code = $Matches[1] }
        $sites.Add([ordered]@{ file = $rel; line = $raise.Extent.StartLineNumber; function = $fnName; code = $code })
    }
}
foreach ($s in $sites) { if ($s.function -and $s.code) { $functions[$s.function].codes.Add($s.code) } }
$methods = & $module { foreach ($class in $script:Methods.Keys) { foreach ($spec in $script:Methods[$class].Values) { [ordered]@{ className = $class; name = $spec.Name; impl = $spec.Impl; notEmulated = [bool]$spec.NotEmulated } } } }
[ordered]@{
    functions = $functions
    sites = @($sites)
    methods = @($methods)
    cmdlets = @($module.ExportedFunctions.Keys | Where-Object { $functions.ContainsKey($_) -and $functions[$_].file -like 'Cmdlets/*' } | Sort-Object)
}`;

interface Row {
  scopes: string[];
  code: string;
  symbol: string;
  source: string;
  line: string;
}

/** The rows of the README's "Error codes used" table. */
function readmeRows(): Row[] {
  const text = fs.readFileSync(README, "utf8");
  const start = text.indexOf("\n## Error codes used\n");
  expect(start).toBeGreaterThan(0);
  const end = text.indexOf("\n## ", start + 5);
  const section = text.slice(start, end < 0 ? undefined : end);
  const rows: Row[] = [];
  for (const line of section.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    expect(cells).toHaveLength(5);
    const scopes = [...cells[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    rows.push({ scopes, code: cells[1], symbol: cells[2], source: cells[4], line });
  }
  return rows;
}

/** Codes per scope ("Invoke-CimMethod", "Win32_TSLicenseServer.ActivateServer", ...), and the functions reached. */
function derive(scan: Scan): { codes: Map<string, Set<string>>; reached: Set<string> } {
  const reached = new Set<string>();
  const closure = (start: string): Set<string> => {
    const codes = new Set<string>();
    const seen = new Set<string>();
    const todo = [start];
    while (todo.length > 0) {
      const name = todo.pop() as string;
      const fn = scan.functions[name];
      if (seen.has(name) || fn === undefined) continue;
      seen.add(name);
      reached.add(name);
      fn.codes.forEach((c) => codes.add(c));
      todo.push(...fn.calls);
    }
    return codes;
  };
  const codes = new Map<string, Set<string>>();
  for (const cmdlet of scan.cmdlets) codes.set(cmdlet, closure(cmdlet));
  for (const m of scan.methods) {
    if (m.impl) codes.set(`${m.className}.${m.name}`, closure(m.impl));
  }
  return { codes, reached };
}

let fx: EmulatorFixture;
let scan: Scan;
let rows: Row[];

beforeAll(async () => {
  fx = await EmulatorFixture.start("returncodes");
  scan = await fx.on<Scan>(uniqueHost("scan"), SCAN);
  rows = readmeRows();
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

describe("the README's error code list is the emulator's (provider/emulator/README.md, Error codes used)", () => {
  test("every raise site names its code literally and sits in a function a method or stand-in reaches", () => {
    expect(scan.sites.length).toBeGreaterThan(20);
    const dynamic = scan.sites.filter((s) => s.code === null).map((s) => `${s.file}:${s.line}`);
    expect(dynamic).toEqual([]);
    const { reached } = derive(scan);
    const unreachable = scan.sites
      .filter((s) => s.function === null || !reached.has(s.function))
      .map((s) => `${s.file}:${s.line} ${s.function}`);
    expect(unreachable).toEqual([]);
    // The scan sees the method table and the stand-ins.
    expect(scan.methods.some((m) => m.className === "Win32_TSLicenseServer" && m.name === "ActivateServer")).toBe(true);
    expect(scan.cmdlets).toEqual(expect.arrayContaining(["Get-CimInstance", "Set-CimInstance", "Invoke-CimMethod", "Get-ItemProperty"]));
  });

  test("every code the emulator can answer is listed for its method or cmdlet, and every listed code is still answered", () => {
    const { codes } = derive(scan);
    const answered = new Set<string>();
    codes.forEach((set, scope) => set.forEach((c) => answered.add(`${scope} ${c}`)));
    const listed = new Set<string>();
    rows.forEach((r) => r.scopes.forEach((s) => listed.add(`${s} ${r.symbol}`)));
    const notListed = [...answered].filter((a) => !listed.has(a)).sort();
    const noLongerAnswered = [...listed].filter((l) => !answered.has(l)).sort();
    expect({ notListed, noLongerAnswered }).toEqual({ notListed: [], noLongerAnswered: [] });
  });

  test("each row's code matches its symbol, and each row has a source or says emulator's choice", () => {
    expect(rows.length).toBeGreaterThan(10);
    const wbem = WBEM as Record<string, number>;
    const badCode = rows
      .filter((r) => {
        const key = r.symbol.replace(/^WBEM_E_/, "");
        return !(key in wbem) || !/^0x[0-9A-F]{8}$/.test(r.code) || Number.parseInt(r.code, 16) !== wbem[key];
      })
      .map((r) => r.line);
    expect(badCode).toEqual([]);
    // A source is a Microsoft page (a key of docs/windows-facts.md's source list, or a learn.microsoft.com address).
    const sourced = (s: string) =>
      /emulator's choice/.test(s) ||
      /\]\((\.\.\/)*docs\/windows-facts\.md#src-[a-z0-9-]+\)/.test(s) ||
      /https:\/\/learn\.microsoft\.com\//.test(s);
    expect(rows.filter((r) => !sourced(r.source)).map((r) => r.line)).toEqual([]);
    expect(rows.filter((r) => r.scopes.length === 0).map((r) => r.line)).toEqual([]);
  });
});
