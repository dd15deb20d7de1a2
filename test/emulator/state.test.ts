/**
 * Conformance of the emulator's state and admin surface: one JSON file per host (hex of the lower-cased
 * UTF-8 host name), atomic writes under an exclusive lock with no lost update when several pwsh processes
 * call at once, the shared Clearinghouse file, the call log (names and order, never argument values), the
 * admin functions the rds-sim CLI uses, and the context defaults.
 *
 * Real: pwsh 7 (several processes at once), the emulator module provider/emulator/RdsEmulator.psm1 and the
 * file system. Stands in: the emulator stands in for Windows WMI and for Microsoft's Clearinghouse.
 */
import * as fs from "fs";
import * as path from "path";
import { liveSessionCount, PwshError, PwshSession } from "../helpers/pwshSession";
import { EmulatorFixture, makeStateDir, PS_ACTIVATED, PS_CONTACT, PS_INSTALL_AGREEMENT, PS_ROLE, uniqueHost, WBEM } from "./emulatorKit";

let fx: EmulatorFixture;

beforeAll(async () => {
  fx = await EmulatorFixture.start("state");
});

afterAll(async () => {
  await fx.close();
  expect(liveSessionCount()).toBe(0);
});

const hex = (host: string) => Buffer.from(host.toLowerCase(), "utf8").toString("hex");
const hostsDir = () => path.join(fx.stateDir, "hosts");

/**
 * PowerShell run at the start of each racing process: a barrier (every process has written its ready
 * file before any goes on), then a "begin-<pid>" file. The body ends with PS_RACE_END, which writes
 * "end-<pid>" holding how many processes had begun by then: when each says all of them, every process
 * began before any ended, so the loops overlapped. (One file per event, never a shared file appended to
 * by several processes: .NET appends at the end offset it saw when opening, so two appends can overwrite
 * each other.)
 */
const PS_RACE_BEGIN = `[System.IO.File]::WriteAllText([System.IO.Path]::Combine($data.sync, "ready-$PID"), '')
$deadline = [DateTime]::UtcNow.AddSeconds(120)
while (@([System.IO.Directory]::GetFiles($data.sync, 'ready-*')).Count -lt $data.processes) {
  if ([DateTime]::UtcNow -gt $deadline) { throw 'the other racing processes never became ready' }
  Start-Sleep -Milliseconds 5
}
[System.IO.File]::WriteAllText([System.IO.Path]::Combine($data.sync, "begin-$PID"), '')
`;
const PS_RACE_END = `$begun = @([System.IO.Directory]::GetFiles($data.sync, 'begin-*')).Count
[System.IO.File]::WriteAllText([System.IO.Path]::Combine($data.sync, "end-$PID"), [string]$begun)
`;

/** For each racing process, how many processes had begun when it ended. */
function begunAtEachEnd(sync: string): number[] {
  return fs
    .readdirSync(sync)
    .filter((name) => name.startsWith("end-"))
    .map((name) => Number(fs.readFileSync(path.join(sync, name), "utf8")));
}

/** How often consecutive entries of a sequence change value (processes run one after another: count - 1). */
function switches(values: unknown[]): number {
  return values.filter((v, i) => i > 0 && v !== values[i - 1]).length;
}

describe("state files", () => {
  test("one JSON file per host, named by the hex of the lower-cased UTF-8 host name; ASCII only; no temp files left", async () => {
    const upper = `LS${process.pid}STATE`;
    const unicode = `s\u00E9rveur-${process.pid}`;
    await fx.on(
      upper,
      `${PS_ROLE}Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ FirstName = $data.name }`,
      { name: "Zo\u00EB \u{1F600} \uD800" },
    );
    await fx.on(upper.toLowerCase(), "$null = Get-CimInstance -ClassName Win32_OperatingSystem");
    await fx.on(unicode, "$null = Get-CimInstance -ClassName Win32_OperatingSystem");
    const files = fs.readdirSync(hostsDir());
    expect(files).toContain(`${hex(upper)}.json`);
    expect(files).toContain(`${hex(unicode)}.json`);
    expect(hex(unicode)).toBe(Buffer.from(`s\u00E9rveur-${process.pid}`, "utf8").toString("hex"));
    expect(files.filter((f) => f.startsWith(hex(upper)) && f.endsWith(".json"))).toHaveLength(1); // LS.. and ls.. are one host
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const text = fs.readFileSync(path.join(hostsDir(), `${hex(upper)}.json`), "utf8");
    expect([...text].every((c) => c.charCodeAt(0) < 128)).toBe(true);
    const state = JSON.parse(text);
    expect(state.schema).toBe(1);
    expect(state.hostName).toBe(upper); // the first spelling used is kept
    expect(await fx.on<string>(upper.toLowerCase(), "(Get-CimInstance -ClassName Win32_TSLicenseServer).FirstName")).toBe(
      "Zo\u00EB \u{1F600} \uD800",
    );
  });

  test("host names are data: a hostile name is just a file name in hex and comes back exactly", async () => {
    const host = `a"; Remove-Item -Recurse / # $(x) ${process.pid}`;
    const r = await fx.on<{ view: string; list: string[] }>(
      host,
      "[pscustomobject]@{ view = (Get-RdsSimHost).hostName; list = @(Get-RdsSimHostList | ForEach-Object hostName) }",
    );
    expect(r.view).toBe(host);
    expect(r.list).toContain(host);
    expect(fs.existsSync(path.join(hostsDir(), `${hex(host)}.json`))).toBe(true);
  });

  test("a corrupt state file is reported with its path, not silently replaced", async () => {
    const host = uniqueHost("corrupt");
    await fx.on(host, "$null = Get-CimInstance -ClassName Win32_OperatingSystem");
    const file = path.join(hostsDir(), `${hex(host)}.json`);
    fs.writeFileSync(file, "{ not json");
    await expect(fx.on(host, "Get-CimInstance -ClassName Win32_OperatingSystem")).rejects.toThrow(/is not valid JSON/);
    await expect(fx.on(host, "Get-CimInstance -ClassName Win32_OperatingSystem")).rejects.toThrow(file);
    expect(fs.readFileSync(file, "utf8")).toBe("{ not json");
    // The host list shows the broken file instead of failing or hiding it.
    const row = await fx.on<Record<string, unknown>>(host, "Get-RdsSimHostList | Where-Object stateFile -eq $data.file", { file });
    expect(row).toMatchObject({ hostName: null, stateFile: file });
    expect(row.error).toContain("is not valid JSON");
    fs.rmSync(file);
  });
});

describe("the policy key's unrelated values in the state file", () => {
  test("a new host stores them (policyKeyOtherValues); a file written before they existed reads with the defaults", async () => {
    const host = uniqueHost("policyfile");
    await fx.on(host, "$null = Get-CimInstance -ClassName Win32_OperatingSystem");
    const file = path.join(hostsDir(), `${hex(host)}.json`);
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(state.policyKeyOtherValues).toEqual({ fDenyTSConnections: 0 });
    delete state.policyKeyOtherValues;
    fs.writeFileSync(file, JSON.stringify(state));
    const key = "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services";
    const r = await fx.on<Record<string, unknown>>(
      host,
      `Get-ItemProperty -Path '${key}' | Select-Object fDenyTSConnections, LicensingMode`,
    );
    expect(r).toEqual({ fDenyTSConnections: 0, LicensingMode: null });
  });
});

describe("concurrency", () => {
  // Three pwsh processes (the fixture's and two more) shared by both races; each race selects its own
  // hosts. Lost updates and double installs need processes that really overlap, not many of them: a
  // barrier makes them start their loops together, and each race checks from its own records that they
  // did overlap (and, for the installs, that their calls interleave in the call log). A few processes
  // and a few operations each are enough once that is shown.
  const PROCESSES = 3;
  let racers: PwshSession[];
  let started: PwshSession[];

  beforeAll(async () => {
    started = await Promise.all(Array.from({ length: PROCESSES - 1 }, () => PwshSession.start()));
    await Promise.all(started.map((s) => s.importEmulator(fx.stateDir, "bootstrap-host")));
    racers = [fx.session, ...started];
    // Warm every racer up with the calls the races make (a pwsh compiles a code path on its first call,
    // which takes far longer than the call): a cold racer would still be compiling while a warm one ran
    // its whole loop, and the processes would not overlap where it matters.
    await Promise.all(
      racers.map((s) =>
        s.run(
          `Set-RdsEmulatorContext -StateDir $data.dir -HostName $data.host
           ${PS_ACTIVATED}$id = (${PS_INSTALL_AGREEMENT}).KeyPackId
           $null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 1 -Computer 'warm'
           $null = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallRetailPurchaseLicenseKeyPack -Arguments @{ sLicenseCode = 'WARMUPCODEABCDEFGHIJ14255' }
           $null = Get-RdsSimClearinghouseKeyPackId -ProductId (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId -Program spla -ProductVersion 2019 -CalType perUser -Quantity 1`,
          { dir: fx.stateDir, host: uniqueHost("warm") },
        ),
      ),
    );
  });

  const syncDirs: string[] = [];

  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
    for (const dir of syncDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `code` in every racing process at once, each on its own host, between the barrier and the end mark. */
  function race<T>(hosts: string[], code: string, data: Record<string, unknown> = {}): Promise<T[]> {
    const sync = makeStateDir("race-sync");
    syncDirs.push(sync);
    return Promise.all(
      racers.map((s, i) =>
        s.run<T>(
          `Set-RdsEmulatorContext -StateDir $data.dir -HostName $data.host\n${PS_RACE_BEGIN}${code}\n${PS_RACE_END}`,
          { ...data, dir: fx.stateDir, host: hosts[i % hosts.length], sync, processes: PROCESSES },
          600_000,
        ),
      ),
    ).then((results) => {
      // Every process began before any ended: the loops overlapped.
      expect(begunAtEachEnd(sync)).toEqual(Array.from({ length: PROCESSES }, () => PROCESSES));
      return results;
    });
  }

  test("3 pwsh processes x 11 install/issue operations on one host: no lost update", async () => {
    const OPERATIONS = 11;
    const installs = Math.ceil(OPERATIONS / 2); // per process; the issues are the other operations
    const issues = Math.floor(OPERATIONS / 2);
    const host = uniqueHost("busy");
    await fx.on(host, PS_ACTIVATED);
    // Each process: installs and issues alternating, starting and ending with an install (each issue
    // takes a CAL from its own last pack).
    const perProcess = await race<{ pid: number; ids: number[] }>(
      [host],
      `$id = 0
       $ids = @(foreach ($i in 1..$data.operations) {
         if ($i % 2 -eq 1) {
           $id = (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{
             AgreementType = [uint32]0; sAgreementNumber = '1234567'; ProductVersion = [uint32]7; ProductType = [uint32]0; LicenseCount = [uint32]4 }).KeyPackId
           $id
         } else { $null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 1 -Computer "PC$PID-$i" }
         # A pause outside the lock: without it the process holding the lock takes it again at once, while
         # the others sleep in their back-off, and one process could run its whole loop alone.
         Start-Sleep -Milliseconds 20 })
       [pscustomobject]@{ pid = $PID; ids = $ids }`,
      { operations: OPERATIONS },
    );
    const packCount = PROCESSES * installs;
    const licenseCount = PROCESSES * issues;
    const all = perProcess.flatMap((p) => p.ids).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: packCount }, (_, i) => i + 3));
    const r = await fx.on<{
      packs: Array<[number, number, number, number]>;
      licenses: Array<[number, number, string]>;
      installPids: number[];
    }>(
      host,
      `$log = @(Get-RdsSimCallLog | Where-Object method -eq 'InstallAgreementLicenseKeyPack')
       [pscustomobject]@{
         packs = @(Get-CimInstance -ClassName Win32_TSLicenseKeyPack | Where-Object KeyPackId -ne 2 | ForEach-Object { ,@($_.KeyPackId, $_.TotalLicenses, $_.IssuedLicenses, $_.AvailableLicenses) })
         licenses = @(Get-CimInstance -ClassName Win32_TSIssuedLicense | ForEach-Object { ,@($_.LicenseId, $_.KeyPackId, $_.sIssuedToComputer) })
         installPids = @($log | ForEach-Object pid) }`,
    );
    // Every pack is there once; each lost exactly one CAL to an issue, but the last one of each process none.
    const lastOfEach = new Set(perProcess.map((p) => Math.max(...p.ids)));
    expect(r.packs).toEqual(all.map((id) => (lastOfEach.has(id) ? [id, 4, 0, 4] : [id, 4, 1, 3])));
    // The licenses have ids 1..n, each from a pack its own process installed.
    expect(r.licenses.map((l) => l[0]).sort((a, b) => a - b)).toEqual(Array.from({ length: licenseCount }, (_, i) => i + 1));
    for (const [, keyPackId, computer] of r.licenses) {
      const pid = Number(/^PC(\d+)-/.exec(computer)![1]);
      expect(perProcess.find((p) => p.pid === pid)!.ids).toContain(keyPackId);
    }
    expect(new Set(r.licenses.map((l) => l[2])).size).toBe(licenseCount);
    expect(r.installPids).toHaveLength(packCount);
    expect([...new Set(r.installPids)].sort()).toEqual(perProcess.map((p) => p.pid).sort());
    // The installs interleave in the call log (one process after another would switch PROCESSES - 1 times):
    // the processes really contended for the host's lock.
    expect(switches(r.installPids)).toBeGreaterThan(PROCESSES - 1);
  }, 900_000);

  test("3 processes on 3 hosts racing for the same retail codes: each code installs exactly once; Clearinghouse ids stay unique", async () => {
    const hosts = Array.from({ length: PROCESSES }, () => uniqueHost("race"));
    for (const h of hosts) await fx.on(h, PS_ACTIVATED);
    const codes = await fx.on<string[]>(
      hosts[0],
      ",@(1..5 | ForEach-Object { New-RdsSimRetailLicenseCode -ProductVersion 2019 -CalType perUser -Quantity 5 })",
    );
    const results = await race<{ wins: string[]; ids: string[] }>(
      hosts,
      `$pid_ = (Get-CimInstance -ClassName Win32_TSLicenseServer).ProductId
       $wins = @(foreach ($c in $data.codes) {
         $rv = (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallRetailPurchaseLicenseKeyPack -Arguments @{ sLicenseCode = $c }).ReturnValue
         if ($rv -eq 0) { $c } elseif ($rv -ne ${WBEM.INVALID_PARAMETER}) { throw "unexpected $rv" } })
       $ids = @(1..5 | ForEach-Object { Get-RdsSimClearinghouseKeyPackId -ProductId $pid_ -Program spla -ProductVersion 2019 -CalType perUser -Quantity 1 })
       [pscustomobject]@{ wins = $wins; ids = $ids }`,
      { codes },
    );
    expect(results.flatMap((x) => x.wins).sort()).toEqual([...codes].sort());
    const ids = results.flatMap((x) => x.ids);
    expect(new Set(ids).size).toBe(5 * PROCESSES);
    const ch = JSON.parse(fs.readFileSync(path.join(fx.stateDir, "clearinghouse.json"), "utf8"));
    for (const id of ids)
      expect(ch.keyPackIds[id]).toMatchObject({ program: "spla", productVersion: "2019", calType: "perUser", quantity: 1, usedBy: null });
  }, 900_000);
});

describe("call log", () => {
  test("records cmdlet, class, method and result in order with timestamps, and never argument values", async () => {
    const host = uniqueHost("log");
    const secretName = `SECRET-FIRST-${process.pid}`;
    const r = await fx.on<{ log: Array<Record<string, unknown>>; pid: number }>(
      host,
      `${PS_ROLE}Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ FirstName = $data.secret; LastName = 'L'; Company = 'C'; CountryRegion = 'R' }
       $null = Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServerAutomatic
       $null = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{ AgreementType = [uint32]3; sAgreementNumber = '7777777'; ProductVersion = [uint32]7; ProductType = [uint32]0; LicenseCount = [uint32]9 }
       $null = Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallRetailPurchaseLicenseKeyPack -Arguments @{ sLicenseCode = $data.code }
       $null = Invoke-Captured { Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName NoSuchMethod }
       [pscustomobject]@{ log = @(Get-RdsSimCallLog); pid = $PID }`,
      { secret: secretName, code: "LOGCODEABCDEFGHIJKLM14255" },
    );
    const rows = r.log.map((e) => [e.seq, e.cmdlet, e.className, e.method, e.result]);
    expect(rows).toEqual([
      [1, "Get-CimInstance", "Win32_TSLicenseServer", null, 0],
      [2, "Set-CimInstance", "Win32_TSLicenseServer", null, 0],
      [3, "Invoke-CimMethod", "Win32_TSLicenseServer", "ActivateServerAutomatic", 0],
      [4, "Invoke-CimMethod", "Win32_TSLicenseKeyPack", "InstallAgreementLicenseKeyPack", 0],
      [5, "Invoke-CimMethod", "Win32_TSLicenseKeyPack", "InstallRetailPurchaseLicenseKeyPack", 0],
      [6, "Invoke-CimMethod", "Win32_TSLicenseServer", "NoSuchMethod", WBEM.INVALID_METHOD],
    ]);
    expect((r.log[1].properties as string[]).sort()).toEqual(["Company", "CountryRegion", "FirstName", "LastName"]);
    const times = r.log.map((e) => Date.parse(e.at as string));
    for (const t of times) expect(Number.isNaN(t)).toBe(false);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    for (const e of r.log) expect(e.pid).toBe(r.pid);
    const raw = fs.readFileSync(path.join(hostsDir(), `${hex(host)}.calls.jsonl`), "utf8");
    expect(raw).not.toContain(secretName);
    expect(raw).not.toContain("7777777");
    expect(raw).not.toContain("LOGCODEABCDEFGHIJKLM14255");
  });
});

describe("admin functions", () => {
  test("Get-RdsSimHost gives the whole host as plain data that ConvertTo-Json renders cleanly", async () => {
    const host = uniqueHost("view");
    const json = await fx.on<string>(
      host,
      `${PS_ACTIVATED}$id = (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{ AgreementType = [uint32]4; sAgreementNumber = '1234567'; ProductVersion = [uint32]6; ProductType = [uint32]0; LicenseCount = [uint32]3 }).KeyPackId
       $null = Add-RdsSimIssuedLicense -KeyPackId $id -Count 1 -Computer 'PC1'
       Get-RdsSimHost | ConvertTo-Json -Depth 10`,
    );
    const view = JSON.parse(json);
    expect(view).toMatchObject({
      hostName: host,
      computerName: host.toUpperCase(),
      config: { osVersion: "2022", domain: "contoso.com", workgroup: null, partOfDomain: true, isConnectionBroker: false, productId: null },
      os: { caption: "Microsoft Windows Server 2022 Standard", version: "10.0.20348", buildNumber: "20348" },
      roleInstalled: true,
      serviceStatus: "Running",
      faults: { failureStyle: "return", latencyMs: 0 },
      licenseServer: {
        activationStatus: 0,
        activated: true,
        activationMethod: "automatic",
        contact: { FirstName: "Ada", LastName: "Lovelace", Company: "Contoso", CountryRegion: "United Kingdom" },
      },
      sessionHost: { licensingType: 5, effectiveLicensingType: 5, specifiedLicenseServers: [], graceDaysLeft: 120 },
      deployment: { useCentralLicensingSettings: true, licenseServers: [], licensingType: 5, mode: "NotConfigured" },
    });
    expect(view.stateFile).toBe(path.join(hostsDir(), `${hex(host)}.json`));
    expect(view.licenseServer.licenseServerId).toMatch(/^[A-Z0-9]{35}$/);
    expect(view.licenseServer.keyPacks.map((p: { KeyPackId: number; program: string }) => [p.KeyPackId, p.program])).toEqual([
      [2, "builtIn"],
      [3, "spla"],
    ]);
    expect(view.licenseServer.keyPacks[1]).toMatchObject({
      ExpirationDate: "2038-01-01T01:00:00.0000000Z",
      IssuedLicenses: 1,
      AvailableLicenses: 2,
      installMethod: "InstallAgreementLicenseKeyPack",
    });
    expect(view.licenseServer.issuedLicenses).toEqual([
      expect.objectContaining({ LicenseId: 1, KeyPackId: 3, sIssuedToComputer: "PC1", LicenseStatus: 2 }),
    ]);
  });

  test("the other admin functions' output converts to JSON as arrays and objects", async () => {
    const host = uniqueHost("json");
    const r = await fx.on<Record<string, string>>(
      host,
      `${PS_ACTIVATED}$id = (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{ AgreementType = [uint32]4; sAgreementNumber = '1234567'; ProductVersion = [uint32]6; ProductType = [uint32]0; LicenseCount = [uint32]3 }).KeyPackId
       [pscustomobject]@{
         issued = (Add-RdsSimIssuedLicense -KeyPackId $id -Count 2 | ConvertTo-Json -Depth 5 -Compress)
         fault = (Set-RdsSimFault -Fault latencyMs -Value 0 | ConvertTo-Json -Depth 5 -Compress)
         policy = (Set-RdsSimGroupPolicy -LicensingMode 2 | ConvertTo-Json -Compress)
         list = (ConvertTo-Json -InputObject @(Get-RdsSimHostList) -Depth 5 -Compress)
         log = (ConvertTo-Json -InputObject @(Get-RdsSimCallLog) -Depth 5 -Compress)
         lsid = (Get-RdsSimClearinghouseLicenseServerId -ProductId 'x' | ConvertTo-Json -Compress)
         config = (Set-RdsSimHostConfig -Settings @{ osVersion = '2019' } | ConvertTo-Json -Depth 10 -Compress) }`,
    );
    const issued = JSON.parse(r.issued);
    expect(issued).toMatchObject({ hostName: host, KeyPackId: 3, count: 2, IssuedLicenses: 2, AvailableLicenses: 1 });
    expect(issued.licenses).toHaveLength(2);
    expect(JSON.parse(r.fault)).toMatchObject({ latencyMs: 0, groupPolicy: { LicensingMode: null } });
    expect(JSON.parse(r.policy)).toEqual({ LicensingMode: 2, LicenseServers: null });
    const list = JSON.parse(r.list);
    expect(Array.isArray(list)).toBe(true);
    expect(list.find((x: { hostName: string }) => x.hostName === host)).toMatchObject({
      osVersion: "2022",
      roleInstalled: true,
      activated: true,
      keyPacks: 1,
      licensingType: 2,
    });
    expect(JSON.parse(r.log).length).toBeGreaterThan(3);
    expect(JSON.parse(r.lsid)).toMatch(/^[A-Z0-9]{35}$/);
    expect(JSON.parse(r.config)).toMatchObject({ config: { osVersion: "2019" } });
  });

  test("Get-RdsSimHostList lists hosts sorted by name", async () => {
    const dir = makeStateDir("list");
    try {
      // The fixture's warm pwsh on a state dir of its own (fx.on selects the fixture's dir again).
      const names = await fx.session.run<string[]>(
        `Set-RdsEmulatorContext -StateDir $data.dir -HostName zeta
         foreach ($h in 'zeta', 'Alpha', 'mid') { $null = Get-RdsSimHost -HostName $h }
         ,@(Get-RdsSimHostList | ForEach-Object hostName)`,
        { dir },
      );
      expect(names).toEqual(["Alpha", "mid", "zeta"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Set-RdsSimHostConfig validates names and values; roleInstalled false removes the role again", async () => {
    const host = uniqueHost("config");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ROLE}[pscustomobject]@{
        unknown = (Invoke-Captured { Set-RdsSimHostConfig -Settings @{ osVerzion = '2022' } }).message
        badOs = (Invoke-Captured { Set-RdsSimHostConfig -Settings @{ osVersion = '2023' } }).ok
        badBool = (Invoke-Captured { Set-RdsSimHostConfig -Settings @{ isConnectionBroker = 'perhaps' } }).ok
        badGrace = (Invoke-Captured { Set-RdsSimHostConfig -Settings @{ gracePeriodDaysLeft = 121 } }).ok
        badStatus = (Invoke-Captured { Set-RdsSimHostConfig -Settings @{ serviceStatus = 'Paused' } }).ok
        removed = $(Set-RdsSimHostConfig -Settings @{ roleInstalled = $false } | Out-Null; (Invoke-Captured { Get-CimInstance -ClassName Win32_TSLicenseServer }).hresult)
        statusWithoutRole = (Invoke-Captured { Set-RdsSimHostConfig -Settings @{ serviceStatus = 'Running' } }).ok
        view = (Get-RdsSimHost | Select-Object roleInstalled, serviceStatus) }`,
    );
    expect(r.unknown).toContain("unknown host setting 'osVerzion'");
    expect(r).toMatchObject({
      badOs: false,
      badBool: false,
      badGrace: false,
      badStatus: false,
      removed: WBEM.INVALID_CLASS,
      statusWithoutRole: false,
    });
    expect(r.view).toEqual({ roleInstalled: false, serviceStatus: null });
  });

  test("Reset-RdsSim forgets one host, or every host and the Clearinghouse", async () => {
    const dir = makeStateDir("reset");
    try {
      // The fixture's warm pwsh on a state dir of its own: Reset-RdsSim without a host empties that dir only.
      const r = await fx.session.run<Record<string, unknown>>(
        `Set-RdsEmulatorContext -StateDir $data.dir -HostName r1
           ${PS_ACTIVATED}$code = New-RdsSimRetailLicenseCode -ProductVersion 2022 -CalType perUser -Quantity 3
           $first = (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallRetailPurchaseLicenseKeyPack -Arguments @{ sLicenseCode = $code }).ReturnValue
           $null = Get-RdsSimHost -HostName r2
           Reset-RdsSim -HostName r1
           $afterOne = @(Get-RdsSimHostList | ForEach-Object hostName)
           $logAfterOne = @(Get-RdsSimCallLog -HostName r1).Count
           $fresh = (Get-RdsSimHost -HostName r1).licenseServer.activated
           ${PS_ACTIVATED}$reused = (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallRetailPurchaseLicenseKeyPack -Arguments @{ sLicenseCode = $code }).ReturnValue
           Reset-RdsSim
           $afterAll = @(Get-RdsSimHostList).Count
           ${PS_ACTIVATED}$again = (Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallRetailPurchaseLicenseKeyPack -Arguments @{ sLicenseCode = $code }).ReturnValue
           [pscustomobject]@{ first = $first; afterOne = $afterOne; logAfterOne = $logAfterOne; fresh = $fresh; reused = $reused; afterAll = $afterAll; again = $again }`,
        { dir },
      );
      expect(r).toEqual({
        first: 0,
        afterOne: ["r2"],
        logAfterOne: 0,
        fresh: false,
        reused: WBEM.INVALID_PARAMETER,
        afterAll: 0,
        again: 0,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("context", () => {
  // In the fixture's pwsh: the environment is set from inside it and the module imported afresh (-Force),
  // so no Set-RdsEmulatorContext has run in that module; both are put back afterwards (fx.on selects
  // the fixture's dir and host on every call anyway).
  const MODULE = path.join(__dirname, "..", "..", "provider", "emulator", "RdsEmulator.psm1");
  const withEnvironment = (code: string) => `$saved = @($env:RDS_SIM_STATE_DIR, $env:RDS_SIM_HOST)
try {
  $env:RDS_SIM_STATE_DIR = $data.dir
  $env:RDS_SIM_HOST = $data.host
  Import-Module -Name $data.module -Force -Global
  ${code}
} finally {
  $env:RDS_SIM_STATE_DIR, $env:RDS_SIM_HOST = $saved
  Import-Module -Name $data.module -Force -Global
}`;
  let envDir: string;

  beforeAll(() => {
    envDir = makeStateDir("env");
  });

  afterAll(() => {
    fs.rmSync(envDir, { recursive: true, force: true });
  });

  test("without Set-RdsEmulatorContext the module uses RDS_SIM_STATE_DIR and RDS_SIM_HOST", async () => {
    const r = await fx.session.run<{ os: string; ctx: Record<string, unknown> }>(
      withEnvironment("[pscustomobject]@{ os = (Get-CimInstance -ClassName Win32_OperatingSystem).Version; ctx = Get-RdsEmulatorContext }"),
      { module: MODULE, dir: envDir, host: "envhost" },
    );
    expect(r.os).toBe("10.0.20348");
    expect(r.ctx).toEqual({ StateDir: envDir, HostName: null });
    expect(fs.existsSync(path.join(envDir, "hosts", `${hex("envhost")}.json`))).toBe(true);
  });

  test("without any host the cmdlet stand-ins fail loudly, even with -ErrorAction SilentlyContinue", async () => {
    const err = await fx.session
      .run(withEnvironment("Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction SilentlyContinue"), {
        module: MODULE,
        dir: envDir,
        host: "",
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(PwshError);
    expect((err as PwshError).message).toContain("no host selected");
  });

  test("Set-RdsEmulatorContext switches hosts within one session", async () => {
    const a = uniqueHost("ctx");
    const b = uniqueHost("ctx");
    await fx.on(a, `${PS_ROLE}${PS_CONTACT}`);
    const r = await fx.on<string[]>(
      a,
      `$x = (Get-CimInstance -ClassName Win32_TSLicenseServer).FirstName
       Set-RdsEmulatorContext -StateDir $data.__dir -HostName $data.b
       ,@($x, (Get-CimInstance -ClassName Win32_ComputerSystem).Name, (Get-RdsEmulatorContext).HostName)`,
      { b },
    );
    expect(r).toEqual(["Ada", b.toUpperCase(), b]);
  });
});
