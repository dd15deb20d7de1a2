/**
 * SetSpecifiedLicenseServerList's declared parameter is string[] SpecifiedLSList (Microsoft Learn,
 * setspecifiedlicenseserverlist-win32-terminalservicesetting). What the emulator answers for a string, a
 * string array and a comma-joined string, through the WMI adapter (which converts to the declared type:
 * a string becomes a one-element array) and through CimCmdlets -InputObject (which passes a non-array
 * value through unconverted for an array parameter: MMI CimProperty.ConvertToNativeLayer). Real: pwsh and
 * the emulator module; the emulator stands in for WMI. Sources: provider/emulator/README.md.
 */
import { EmulatorFixture, WBEM, uniqueHost } from "./emulatorKit";

jest.setTimeout(120_000);

let fx: EmulatorFixture;
beforeAll(async () => {
  fx = await EmulatorFixture.start("setlist");
});
afterAll(async () => {
  await fx.close();
});

const WMI_TS = "$ts = Get-WmiObject -Namespace root/cimv2/TerminalServices -Class Win32_TerminalServiceSetting\n";
const CIM_TS = "$ts = Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting\n";
const LIST =
  "@((Invoke-CimMethod -InputObject (Get-CimInstance -Namespace root/cimv2/TerminalServices -ClassName Win32_TerminalServiceSetting) -MethodName GetSpecifiedLicenseServerList).SpecifiedLSList)";

describe("SetSpecifiedLicenseServerList argument forms", () => {
  test.each([
    ["a string: the adapter makes it a one-element array", "'RDS01'", ["RDS01"]],
    ["a string array: each element is a server", "[string[]]@('ls1', 'ls2')", ["ls1", "ls2"]],
    ["a comma-joined string: ONE name containing a comma (the adapter does not split)", "'ls1,ls2'", ["ls1,ls2"]],
  ])("WMI adapter, %s", async (_what, arg, expected) => {
    const host = uniqueHost("wmiset");
    const r = await fx.on<{ rv: number; list: string[]; errs: number }>(
      host,
      `${WMI_TS}$Error.Clear(); $rv = $ts.SetSpecifiedLicenseServerList(${arg}).ReturnValue
       [pscustomobject]@{ rv = $rv; list = ${LIST}; errs = $Error.Count }`,
    );
    expect(r).toEqual({ rv: 0, list: expected, errs: 0 });
  });

  test("CimCmdlets -InputObject with [string[]]: each element is a server", async () => {
    const host = uniqueHost("cimarr");
    const r = await fx.on<{ rv: number; list: string[] }>(
      host,
      `${CIM_TS}$rv = (Invoke-CimMethod -InputObject $ts -MethodName SetSpecifiedLicenseServerList -Arguments @{ SpecifiedLSList = [string[]]@('ls1', 'ls2') }).ReturnValue
       [pscustomobject]@{ rv = $rv; list = ${LIST} }`,
    );
    expect(r).toEqual({ rv: 0, list: ["ls1", "ls2"] });
  });

  test.each([
    ["a string", "'RDS01'"],
    ["a comma-joined string", "'ls1,ls2'"],
  ])("CimCmdlets -InputObject with %s: a type mismatch error record, the list unchanged", async (_what, arg) => {
    const host = uniqueHost("cimstr");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${CIM_TS}$Error.Clear()
       $out = Invoke-CimMethod -InputObject $ts -MethodName SetSpecifiedLicenseServerList -Arguments @{ SpecifiedLSList = ${arg} } -ErrorAction SilentlyContinue
       [pscustomobject]@{ ok = $?; errs = $Error.Count; id = $Error[0].FullyQualifiedErrorId; list = ${LIST} }`,
    );
    expect(r).toEqual({
      ok: false,
      errs: 1,
      id: `HRESULT 0x${WBEM.TYPE_MISMATCH.toString(16).toUpperCase()},Invoke-CimMethod`,
      list: [],
    });
  });

  test("CimCmdlets -InputObject with a parameter name the method does not declare (ServerNames): the client-side ArgumentException", async () => {
    const host = uniqueHost("cimname");
    const r = await fx.capture(
      host,
      `${CIM_TS}Invoke-CimMethod -InputObject $ts -MethodName SetSpecifiedLicenseServerList -Arguments @{ ServerNames = 'RDS01' }`,
    );
    expect(r).toMatchObject({ ok: false, type: "System.ArgumentException" });
    expect(r.message).toContain("Can not find Parameter 'ServerNames'");
  });
});
