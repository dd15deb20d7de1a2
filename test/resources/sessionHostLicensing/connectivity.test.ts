/**
 * get.ps1's `connectivity` field (the contract B3's `check` and the RdsSessionHostLicensing output read):
 * one entry per license server in effect, in order, `{ licenseServer, status, name, meaning, ok }` from
 * Win32_TerminalServiceSetting.GetTStoLSConnectivityStatus; the Group Policy list wins over the local one;
 * [] for a host without a list and for scope deployment; a network cut and its repair show on the next
 * read; a call that fails (or an undocumented value) becomes an entry, never a failed read.
 *
 * Real: pwsh 7, Bootstrap.ps1 and RdsCommon.psm1, the runner and its warm pool, the simulator transport,
 * get.ps1 / set.ps1 / Connectivity.Common.ps1. Stands in: Windows, through the WMI emulator (session hosts,
 * license servers, the network between them); the administrator who prepares the license servers, sets
 * Group Policy and cuts the network (simAdmin.ts); for the failure path, Invoke-RdsWmiMethod is replaced
 * by a stub in a plain pwsh (no emulator method fails only this call).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import { runOperation } from "../../../provider/powershell/runner";
import { providerFile } from "../../../provider/paths";
import { interpret } from "../../../provider/resources/sessionHostLicensing/rules";
import { getResultSchema, setResultSchema } from "../../../provider/resources/sessionHostLicensing/schema";
import { liveSessionCount, PwshSession } from "../../helpers/pwshSession";
import { scriptConnection } from "../../helpers/scriptConnection";
import { prepareLicenseServer, setFault, setGroupPolicy, setHostConfig } from "./simAdmin";

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-shl-connectivity-"));
const script = (name: string) => providerFile(`resources/sessionHostLicensing/${name}.ps1`);
const get = (host: string, scope: "sessionHost" | "deployment" = "sessionHost") =>
  runOperation(scriptConnection(host, stateDir), {
    name: "sessionHostLicensing.read",
    script: script("get"),
    args: { scope },
    result: getResultSchema,
  });
const set = (host: string, mode: string, licenseServers: string[]) =>
  runOperation(scriptConnection(host, stateDir), {
    name: "sessionHostLicensing.set",
    script: script("set"),
    args: { scope: "sessionHost", mode, licenseServers },
    result: setResultSchema,
  });

const LS = "ls-conn.contoso.com";
const LS_OLD = "ls-old.contoso.com";
const NOWHERE = "ls-nowhere.contoso.com";

const VALID = {
  status: 11,
  name: "LS_CONNECTABLE_VALID_LS",
  meaning: "The license server is valid.",
  ok: true,
};
const NOT_CONNECTABLE = {
  status: 6,
  name: "LS_NOT_CONNECTABLE",
  meaning: "Remote Desktop Services cannot connect to the license server.",
  ok: false,
};

beforeAll(async () => {
  await prepareLicenseServer(stateDir, LS, [{ productVersion: "2022", calType: "perUser", count: 20 }], "2022");
  await prepareLicenseServer(stateDir, LS_OLD, [{ productVersion: "2019", calType: "perUser", count: 20 }], "2019");
  await setHostConfig(stateDir, "cb-conn.contoso.com", { isConnectionBroker: true });
}, 300_000);

afterAll(async () => {
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

test("one entry per license server in effect, in order, each with Microsoft's name and meaning; interpret carries it", async () => {
  const sh = "sh-conn1.contoso.com";
  await set(sh, "perUser", [LS, LS_OLD, NOWHERE]);
  const raw = await get(sh);
  expect(raw.connectivity).toEqual([
    { licenseServer: LS, ...VALID },
    {
      licenseServer: LS_OLD,
      status: 4,
      name: "LS_CONNECTABLE_LOWER_VERSION",
      meaning:
        "Remote Desktop Services can connect to the license server, but the license server and this session host are incompatible (the license server is older).",
      ok: false,
    },
    { licenseServer: NOWHERE, ...NOT_CONNECTABLE },
  ]);
  expect(interpret(raw).connectivity).toEqual(raw.connectivity);
});

test("a host with no license server has no entry; scope deployment reads none", async () => {
  expect((await get("sh-conn-empty.contoso.com")).connectivity).toEqual([]);
  expect((await get("cb-conn.contoso.com", "deployment")).connectivity).toEqual([]);
});

test("the Group Policy list is the one checked (comma or semicolon separated), in its order", async () => {
  const sh = "sh-conn-gpo.contoso.com";
  await set(sh, "perUser", [LS]);
  await setGroupPolicy(stateDir, sh, { licenseServers: `${NOWHERE};${LS}` });
  const raw = await get(sh);
  expect(raw.connectivity.map((e) => [e.licenseServer, e.status])).toEqual([
    [NOWHERE, 6],
    [LS, 11],
  ]);
});

test("a network cut shows on the next read as LS_NOT_CONNECTABLE, and its repair as valid again", async () => {
  const sh = "sh-conn-cut.contoso.com";
  await set(sh, "perUser", [LS]);
  expect((await get(sh)).connectivity).toEqual([{ licenseServer: LS, ...VALID }]);
  await setFault(stateDir, sh, "networkCut", LS);
  expect((await get(sh)).connectivity).toEqual([{ licenseServer: LS, ...NOT_CONNECTABLE }]);
  await setFault(stateDir, sh, "networkCut", { to: LS, cut: false });
  expect((await get(sh)).connectivity).toEqual([{ licenseServer: LS, ...VALID }]);
});

describe("Connectivity.Common.ps1 on its own (Invoke-RdsWmiMethod stubbed)", () => {
  let pwsh: PwshSession;
  beforeAll(async () => {
    pwsh = await PwshSession.start();
  });
  afterAll(async () => {
    await pwsh.close();
    expect(liveSessionCount()).toBe(0);
  });

  const run = (stub: string) =>
    pwsh.run<Array<Record<string, unknown>>>(
      `Import-Module $data.common -Force -DisableNameChecking
       . $data.shared
       . $data.script
       function Invoke-RdsWmiMethod { param($InputObject, $ClassName, $MethodName, $Arguments) ${stub} }
       Get-ShlConnectivity -Setting $null -Servers @('ls-a', '', 'ls-b')`,
      { common: providerFile("powershell/RdsCommon.psm1"), shared: script("SessionHost.Common"), script: script("Connectivity.Common") },
    );

  test("a failing call is status 0 LS_CONNECTABLE_UNKNOWN with why; the read goes on to the next server; blank names are skipped", async () => {
    const r = await run(
      `if ($Arguments.ServerName -eq 'ls-a') { throw 'RPC server unavailable' } [pscustomobject]@{ ReturnValue = 0; TStoLSConnectivityStatus = [uint32]11 }`,
    );
    expect(r).toEqual([
      {
        licenseServer: "ls-a",
        status: 0,
        name: "LS_CONNECTABLE_UNKNOWN",
        meaning: "The connectivity status cannot be determined. (GetTStoLSConnectivityStatus failed: RPC server unavailable)",
        ok: false,
      },
      { licenseServer: "ls-b", ...VALID },
    ]);
  });

  test("a value Microsoft does not document is named unknown(<n>) and not ok; a missing out value is status 0", async () => {
    const r = await run(
      `if ($Arguments.ServerName -eq 'ls-a') { [pscustomobject]@{ ReturnValue = 0; TStoLSConnectivityStatus = [uint32]4294967295 } } else { [pscustomobject]@{ ReturnValue = 0 } }`,
    );
    expect(r).toEqual([
      {
        licenseServer: "ls-a",
        status: 4294967295,
        name: "unknown(4294967295)",
        meaning: "A value Microsoft does not document.",
        ok: false,
      },
      {
        licenseServer: "ls-b",
        status: 0,
        name: "LS_CONNECTABLE_UNKNOWN",
        meaning: "The connectivity status cannot be determined. (GetTStoLSConnectivityStatus returned no status)",
        ok: false,
      },
    ]);
  });
});
