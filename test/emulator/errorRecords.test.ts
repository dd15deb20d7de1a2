/**
 * $Error, -ErrorVariable, -ErrorAction and $? after the CIM stand-ins, as compiled CimCmdlets leave them
 * (about_Automatic_Variables: $Error, $?; about_CommonParameters: -ErrorAction, -ErrorVariable). Real:
 * pwsh and the emulator module; the emulator stands in for WMI.
 */
import { EmulatorFixture, PS_ROLE, WBEM, uniqueHost } from "./emulatorKit";

jest.setTimeout(120_000);

let fx: EmulatorFixture;
beforeAll(async () => {
  fx = await EmulatorFixture.start("errrec");
});
afterAll(async () => {
  await fx.close();
});

describe("error records of the CIM stand-ins", () => {
  test("a return-style failure (ReturnValue != 0) adds no record and leaves $? true", async () => {
    const host = uniqueHost("rvstyle");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `${PS_ROLE}$Error.Clear()
       $res = Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServerAutomatic
       [pscustomobject]@{ ok = $?; n = $Error.Count; rv = $res.ReturnValue }`,
    );
    expect(r).toEqual({ ok: true, n: 0, rv: WBEM.INVALID_PARAMETER });
  });

  test("an infrastructure error adds exactly the record written; SilentlyContinue records it, Ignore records it nowhere (about_CommonParameters), -ErrorVariable gets it, Stop throws it", async () => {
    const host = uniqueHost("infra");
    const r = await fx.on<Record<string, unknown>>(
      host,
      `$Error.Clear()
       $x = Get-CimInstance -ClassName Win32_TSLicenseServer -ErrorAction SilentlyContinue -ErrorVariable ev
       $silent = [pscustomobject]@{ ok = $?; n = $Error.Count; id = $Error[0].FullyQualifiedErrorId; ev = $ev.Count; same = [object]::ReferenceEquals($ev[0], $Error[0]) }
       $Error.Clear()
       $x = Get-CimInstance -ClassName Win32_TSLicenseServer -ErrorAction Ignore -ErrorVariable ev2
       $ignore = [pscustomobject]@{ n = $Error.Count; ev = $ev2.Count }
       $Error.Clear()
       $caught = try { Get-CimInstance -ClassName Win32_TSLicenseServer -ErrorAction Stop; 'no' } catch { $_.FullyQualifiedErrorId }
       $stop = [pscustomobject]@{ caught = $caught; n = $Error.Count; id = $Error[0].FullyQualifiedErrorId }
       $Error.Clear()
       $ok = Get-CimInstance -ClassName Win32_OperatingSystem
       [pscustomobject]@{ silent = $silent; ignore = $ignore; stop = $stop; successLeavesNone = $Error.Count }`,
    );
    const id = `HRESULT 0x${WBEM.INVALID_CLASS.toString(16).toUpperCase()},Get-CimInstance`;
    expect(r).toEqual({
      silent: { ok: false, n: 1, id, ev: 1, same: true },
      ignore: { n: 0, ev: 0 },
      stop: { caught: id, n: 1, id },
      successLeavesNone: 0,
    });
  });
});
