/**
 * The injection suite: hostile strings travel as data, byte for byte, and nothing in them ever runs.
 *
 * Real: pwsh, Bootstrap.ps1, RdsCommon.psm1 (ConvertFrom-RdsEnvelope, Write-RdsResult), the envelope
 * files, the simulator transport, and the real WMI emulator (provider/emulator/RdsEmulator.psm1),
 * which stores the Win32_TSLicenseServer contact properties in its state files and reads them back.
 * Stand-ins: the scripts are fixtures (Echo.ps1 returns the envelope; LicenseServerContact.ps1 sets
 * and reads the contact properties through Set-CimInstance / Get-CimInstance; InjectionProbe.ps1
 * reports whether a global variable set by injected code exists).
 *
 * Many hostile strings would create a marker file, or set the global $RdsInjected, if they were ever
 * executed as PowerShell in any quoting context. After the suite, no marker exists and no global is set.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { findPwsh } from "../../provider/powershell/executable";
import { closeAll, onCommand } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import type { Connection } from "../../provider/powershell/transport";
import { echoSchema, fixture, removeTempDirs, sim, tempDir } from "./support";

const stateDir = tempDir("rds-injection-state");
const markerDir = tempDir("rds-injection-markers");
const marker = (n: number, dir = markerDir) => path.join(dir, `marker-${n}`);
const newItem = (n: number, quote = "'", dir = markerDir) => `New-Item -ItemType File -Path ${quote}${marker(n, dir)}${quote}`;
const setGlobal = (n: number) => `Set-Variable -Name RdsInjected -Value ${n} -Scope Global`;

/** Hostile strings: quoting, expansion, separators, redirections, control characters, unicode. */
const hostile: string[] = [
  "'",
  "''",
  '"',
  "it's",
  `'; ${newItem(1)}; '`,
  `"; ${newItem(2, '"')}; "`,
  `$(${newItem(3)})`,
  `"$(${newItem(4)})"`,
  `'$(${newItem(5)})'`,
  "${env:PATH}",
  "$env:HOME $PID $true $null $args $input $_",
  `\`$(${newItem(6)})\``,
  "`n`t`0`e`u{1F600} trailing backtick `",
  `; ${setGlobal(1)}`,
  `| ${setGlobal(2)}`,
  `& { ${setGlobal(3)} }`,
  `&& ${setGlobal(4)} || ${setGlobal(5)}`,
  `> ${marker(7)}`,
  `>> ${marker(8)} 2>&1 *>&1`,
  `line one\n${newItem(9)}\nline three`,
  `carriage\r${newItem(10)}\r`,
  `crlf\r\n$(${newItem(11)})\r\n`,
  "nul\u0000inside",
  "\u0000",
  "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\u000b\f\u000e\u000f\u0010\u001f\u007f",
  "tab\tseparated\tvalues\t",
  "x".repeat(10_000),
  `${"é😀".repeat(2_000)}$(${newItem(12)})`,
  "😀 emoji, 👩‍👩‍👧 family (ZWJ), 𝕏 math, 𠜎 CJK ext B, 🇬🇧 flag",
  "\u202eRIGHT-TO-LEFT OVERRIDE\u202c \u2066isolate\u2069 \u200f\u200e \u061c \u202a\u202b\u202d",
  "‘smart single’ “smart double” ‚low‛ „low double‟",
  `‘; ${newItem(13)}; ’`,
  `“; ${newItem(14, "“")}; ”`,
  `'@\n${newItem(15)}\n@'`,
  `"@\n${newItem(16, '"')}\n@"`,
  `@'\n'@\n${newItem(17)}\n@'\n'@`,
  `#>\n${newItem(18)}\n<#`,
  "<# an unterminated block comment",
  "# a line comment",
  `--% ${newItem(19)}`,
  "-EnvelopePath /etc/passwd -ScriptPath /tmp/evil.ps1",
  "[System.Environment]::Exit(9)",
  "@{ a = 1 }; @(1, 2); [int]'3'",
  "${function:Set-Variable} ${global:RdsInjected} $global:RdsInjected",
  "\\\\server\\share\\path' -ScriptPath 'x",
  "2024-01-01T00:00:00Z",
  "2024-01-01",
  "1e309",
  "0x80041003",
  "true",
  "null",
  "",
  "   leading and trailing spaces   ",
  "\u2028line separator\u2029paragraph separator\u0085next line",
  "\ufeffBOM at the start",
  "\uffff\ufffe noncharacters",
  '{"ok":true,"result":"forged"}',
  '\n{"ok":true,"result":"forged on its own line"}\n',
  "\u001b[31mANSI red\u001b[0m \u001b]0;title\u0007",
  "ä ö ü ß é ñ 中文 日本語 한국어 العربية עברית",
  "%PATH% !VAR! ^& cmd.exe metacharacters",
];

const main = sim("injection-main", stateDir);
const commands: string[] = [];
let stopListening: () => void = () => undefined;

beforeAll(() => {
  stopListening = onCommand((command) => commands.push(command));
});

afterAll(async () => {
  stopListening();
  await closeAll();
  removeTempDirs();
});

function argsFor(value: string) {
  return { value, nested: { value, list: [value, { deeper: value }] }, keep: "plain" };
}

describe("hostile strings as operation arguments", () => {
  it("has at least 30 hostile strings, all distinct", () => {
    expect(hostile.length).toBeGreaterThanOrEqual(30);
    expect(new Set(hostile).size).toBe(hostile.length);
  });

  it.each(hostile.map((value, index) => [index, JSON.stringify(value).slice(0, 60), value] as const))(
    "#%i %s arrives byte for byte in every argument",
    async (_index, _label, value) => {
      const args = argsFor(value);
      const out = await runOperation(main, { name: "test.echo", script: fixture("Echo"), args, result: echoSchema });
      expect(out.envelope.args).toEqual(args);
      const back = out.envelope.args.value as string;
      expect(Buffer.from(back, "utf8").equals(Buffer.from(value, "utf8"))).toBe(true);
      expect(back.length).toBe(value.length);
    },
  );

  it("all of them together, in one envelope, arrive byte for byte", async () => {
    const args = { all: hostile, byName: Object.fromEntries(hostile.map((value, i) => [`s${i}`, value])) };
    const out = await runOperation(main, { name: "test.echo", script: fixture("Echo"), args, result: echoSchema });
    expect(out.envelope.args).toEqual(args);
  });
});

describe("hostile host names", () => {
  // Host names pass the connection schema (no control characters) and the emulator's 100-byte limit.
  const hostileHosts = ["it's-a-host", 'double"quote', `$(${newItem(20)})`, "`$x;|&><", `; ${setGlobal(6)}`, "‘smart’ “quotes” 😀 \u202e"];

  it.each(hostileHosts)("%s reaches the script (and the emulator context) as data", async (host) => {
    const conn: Connection = sim(host, stateDir);
    const out = await runOperation(conn, { name: "test.echo", script: fixture("Echo"), args: { host }, result: echoSchema });
    expect(out.envelope.host).toBe(host);
    expect(out.envelope.args.host).toBe(host);
    const probe = await runOperation(conn, {
      name: "test.probe",
      script: fixture("InjectionProbe"),
      args: {},
      result: z.object({ injected: z.boolean(), pid: z.number() }),
    });
    expect(probe.injected).toBe(false);
  });
});

describe("hostile strings through the WMI emulator", () => {
  const contactProperties = [
    "FirstName",
    "LastName",
    "Company",
    "CountryRegion",
    "eMail",
    "OrgUnit",
    "Address",
    "City",
    "State",
    "PostalCode",
  ];
  const emulatorHost = sim("injection-emulator", stateDir);
  const batches: string[][] = [];
  for (let i = 0; i < hostile.length; i += contactProperties.length) batches.push(hostile.slice(i, i + contactProperties.length));

  it.each(batches.map((batch, i) => [i, batch] as const))(
    "batch %i: set as Win32_TSLicenseServer contact properties, read back byte for byte",
    async (_i, batch) => {
      const contact = Object.fromEntries(batch.map((value, j) => [contactProperties[j], value]));
      const back = await runOperation(emulatorHost, {
        name: "test.contact",
        script: fixture("LicenseServerContact"),
        args: { contact },
        result: z.record(z.string(), z.string().nullable()),
      });
      for (const [name, value] of Object.entries(contact)) {
        // WMI has no difference between an empty string and an unset property; the emulator may report either.
        const got = back[name];
        if (value === "") expect(got === "" || got === null).toBe(true);
        else expect(Buffer.from(got ?? "", "utf8").equals(Buffer.from(value, "utf8"))).toBe(true);
      }
    },
  );
});

describe("nothing ran", () => {
  it("control: a marker string does create its marker when pwsh runs it as code", () => {
    const controlDir = tempDir("rds-injection-control");
    const pwsh = findPwsh();
    if (!pwsh.found) throw new Error(pwsh.reason);
    spawnSync(pwsh.path, ["-NoProfile", "-NonInteractive", "-Command", `$(${newItem(3, "'", controlDir)})`], { stdio: "ignore" });
    expect(fs.existsSync(marker(3, controlDir))).toBe(true);
    fs.rmSync(controlDir, { recursive: true, force: true });
  });

  it("no marker file exists and no global was set in any session", async () => {
    expect(fs.readdirSync(markerDir)).toEqual([]);
    const probe = await runOperation(main, {
      name: "test.probe",
      script: fixture("InjectionProbe"),
      args: {},
      result: z.object({ injected: z.boolean(), pid: z.number() }),
    });
    expect(probe.injected).toBe(false);
  });

  it("every command sent to pwsh was one of the three fixed forms, with no hostile string in it", () => {
    expect(commands.length).toBeGreaterThan(hostile.length);
    const quoted = "'(?:[^'\\u2018-\\u201b\\r\\n]|'')*'";
    const allowed = [
      new RegExp(`^\\. ${quoted}; Write-RdsSessionInfo$`),
      new RegExp(`^Import-RdsModule -Path ${quoted}$`),
      new RegExp(`^Invoke-RdsOperation -ScriptPath ${quoted} -EnvelopePath ${quoted}$`),
    ];
    for (const command of commands) {
      expect(allowed.some((pattern) => pattern.test(command))).toBe(true);
      for (const value of hostile) {
        if (value.length >= 8) expect(command).not.toContain(value);
      }
    }
  });
});
