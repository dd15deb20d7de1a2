/**
 * The winrm transport: the New-PSSession parameters, session options and credential it builds for
 * every authentication choice, the PowerShell text it reports for them (never a secret), and what a
 * real connection attempt gives on this machine.
 *
 * Real: pwsh 7 running transports/RdsRemoting.psm1 (Get-RdsWinRmSessionParameters,
 * Format-RdsSessionCommand) on the settings the TypeScript transport resolves (winrmSettings); the
 * runner, pool and connect step for the attempt.
 * Stands in: nothing, and nothing answers: pwsh on Linux has no WS-Management client library (the
 * dotnet tool ships none; Microsoft.PowerShell.Native 700.0.2 on NuGet holds only libpsl-native; PSWSMan
 * is not on NuGet; Debian has no OMI / libpsrpclient), so no WinRM session can be opened from here, and
 * there is no WinRM server on Linux to open one to. See provider/powershell/CONNECTIONS.md.
 */
import { ErrorCode } from "../../provider/errors";
import { onConnectLog, type ConnectLogEvent } from "../../provider/powershell/connectLog";
import { closeAll, onCommand, poolStats } from "../../provider/powershell/pool";
import { parseConnection, runOperation } from "../../provider/powershell/runner";
import { targetKey, type WinRmConnection } from "../../provider/powershell/transport";
import { winrmSettings } from "../../provider/powershell/transports/winrm";
import { PwshError } from "../helpers/pwshSession";
import { useRemotingPwsh } from "./remotingPwsh";
import { echoSchema, fixture, rdsErrorOf } from "../powershell/support";

const SECRET = "S3cr3t'pa$$\"`(word)";
const pwsh = useRemotingPwsh();

afterAll(() => closeAll());

interface Built {
  computerName: string;
  port: number;
  useSsl: boolean;
  authentication: string;
  configurationName: string;
  user: string | null;
  password: string | null;
  openTimeout: number;
  skipCA: boolean;
  skipCN: boolean;
  skipRevocation: boolean;
  text: string;
}

/** Builds the parameters in pwsh from the settings the transport resolves, and reads them back. */
function build(connection: WinRmConnection): Promise<Built> {
  return pwsh().run<Built>(
    `$spec = Get-RdsWinRmSessionParameters -Settings $data.settings
     $p = $spec.Parameters
     [ordered]@{
       computerName      = $p.ComputerName
       port              = $p.Port
       useSsl            = [bool]$p.Contains('UseSSL')
       authentication    = [string]$p.Authentication
       configurationName = $p.ConfigurationName
       user              = if ($p.Contains('Credential')) { $p.Credential.UserName } else { $null }
       password          = if ($p.Contains('Credential')) { $p.Credential.GetNetworkCredential().Password } else { $null }
       openTimeout       = [int]$p.SessionOption.OpenTimeout.TotalMilliseconds
       skipCA            = $p.SessionOption.SkipCACheck
       skipCN            = $p.SessionOption.SkipCNCheck
       skipRevocation    = $p.SessionOption.SkipRevocationCheck
       text              = Format-RdsSessionCommand -Spec $spec
     }`,
    { settings: winrmSettings(parseConnection(connection) as WinRmConnection) },
  );
}

describe("session parameters for every authentication choice", () => {
  test("negotiate over https (the defaults), with an explicit account", async () => {
    const b = await build({ transport: "winrm", host: "ls01.contoso.com", user: "CONTOSO\\rdsadmin", password: SECRET });
    expect(b).toMatchObject({
      computerName: "ls01.contoso.com",
      port: 5986,
      useSsl: true,
      authentication: "Negotiate",
      configurationName: null,
      user: "CONTOSO\\rdsadmin",
      password: SECRET,
      openTimeout: 15000,
      skipCA: false,
      skipCN: false,
      skipRevocation: false,
    });
    expect(b.text).toBe(
      "New-PSSession -ComputerName 'ls01.contoso.com' -Port 5986 -UseSSL -Authentication 'Negotiate' " +
        "-Credential <PSCredential CONTOSO\\rdsadmin> -SessionOption (New-PSSessionOption -OpenTimeout 15000)",
    );
  });

  test("negotiate with the current identity: no credential at all", async () => {
    const b = await build({ transport: "winrm", host: "ls01.contoso.com" });
    expect(b.user).toBeNull();
    expect(b.text).not.toContain("-Credential");
  });

  test("kerberos over http on 5985 (the transport still encrypts the payload), another address and endpoint", async () => {
    const b = await build({
      transport: "winrm",
      host: "ls01",
      address: "10.1.2.3",
      scheme: "http",
      authentication: "kerberos",
      user: "rdsadmin@contoso.com",
      password: SECRET,
      configurationName: "Microsoft.PowerShell",
      connectTimeoutSeconds: 40,
    });
    expect(b).toMatchObject({
      computerName: "10.1.2.3",
      port: 5985,
      useSsl: false,
      authentication: "Kerberos",
      configurationName: "Microsoft.PowerShell",
      openTimeout: 40000,
    });
    expect(b.text).toBe(
      "New-PSSession -ComputerName '10.1.2.3' -Port 5985 -Authentication 'Kerberos' -ConfigurationName 'Microsoft.PowerShell' " +
        "-Credential <PSCredential rdsadmin@contoso.com> -SessionOption (New-PSSessionOption -OpenTimeout 40000)",
    );
  });

  test("credssp needs and gets a credential", async () => {
    const b = await build({ transport: "winrm", host: "ls01", authentication: "credssp", user: "CONTOSO\\rdsadmin", password: SECRET });
    expect(b).toMatchObject({ authentication: "Credssp", useSsl: true, user: "CONTOSO\\rdsadmin", password: SECRET });
  });

  test("basic over https with lab certificate checks skipped", async () => {
    const b = await build({
      transport: "winrm",
      host: "ls01",
      port: 15986,
      authentication: "basic",
      user: "Administrator",
      password: SECRET,
      skipCertificateChecks: true,
    });
    expect(b).toMatchObject({ authentication: "Basic", useSsl: true, port: 15986, skipCA: true, skipCN: true, skipRevocation: true });
    expect(b.text).toBe(
      "New-PSSession -ComputerName 'ls01' -Port 15986 -UseSSL -Authentication 'Basic' " +
        "-Credential <PSCredential Administrator> -SessionOption (New-PSSessionOption -OpenTimeout 15000 -SkipCACheck -SkipCNCheck -SkipRevocationCheck)",
    );
  });

  test("no text ever holds the password, however it is spelled", async () => {
    for (const authentication of ["negotiate", "kerberos", "credssp", "basic"] as const) {
      const b = await build({ transport: "winrm", host: "ls01", authentication, user: "u", password: SECRET });
      expect(b.password).toBe(SECRET); // the credential carries it ...
      expect(b.text).not.toContain(SECRET); // ... the text never does
      expect(b.text).not.toContain("S3cr3t");
    }
  });

  test("PowerShell refuses basic over http and a credential without password on its own too (defence in depth)", async () => {
    const refused = (settings: Record<string, unknown>) =>
      pwsh()
        .run("Get-RdsWinRmSessionParameters -Settings $data.settings", { settings })
        .then(
          () => {
            throw new Error("expected a refusal");
          },
          (err: unknown) => err as PwshError,
        );
    const base = winrmSettings({ transport: "winrm", host: "ls01", user: "u", password: SECRET });
    expect((await refused({ ...base, scheme: "http", port: 5985, authentication: "basic" })).message).toContain(
      'allowed only with scheme "https"',
    );
    expect((await refused({ ...base, password: null })).message).toContain("password is required with user");
    expect((await refused({ ...base, user: null, password: null, authentication: "credssp" })).message).toContain(
      "needs user and password",
    );
  });
});

describe("check errors name the field", () => {
  test.each([
    [
      { transport: "winrm", host: "ls01", scheme: "http", authentication: "basic", user: "u", password: SECRET },
      "connection.authentication",
    ],
    [{ transport: "winrm", host: "ls01", user: "u" }, "connection.password"],
    [{ transport: "winrm", host: "ls01", password: SECRET }, "connection.user"],
    [{ transport: "winrm", host: "ls01", scheme: "http", skipCertificateChecks: true }, "connection.skipCertificateChecks"],
    [{ transport: "winrm", host: "ls01", port: 70000 }, "connection.port"],
    [{ transport: "winrm", host: "ls01", authentication: "ntlm" }, "connection.authentication"],
    [{ transport: "winrm", host: "ls01", emulator: { stateDir: "/s" } }, "connection"],
  ])("%j -> %s", (connection, field) => {
    let message = "";
    try {
      parseConnection(connection);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain(field);
    expect(message).not.toContain(SECRET);
  });
});

describe("a real attempt from this machine", () => {
  test("pwsh on Linux has no WS-Management client: RDS_TRANSPORT_UNAVAILABLE, not retried, no secret anywhere", async () => {
    const commands: string[] = [];
    const logs: ConnectLogEvent[] = [];
    const stopCommands = onCommand((command) => commands.push(command));
    const stopLogs = onConnectLog((event) => logs.push(event));
    try {
      const c: WinRmConnection = {
        transport: "winrm",
        host: "ls01.contoso.com",
        address: "127.0.0.1",
        user: "CONTOSO\\rdsadmin",
        password: SECRET,
      };
      const err = await rdsErrorOf(runOperation(c, { name: "test.echo", script: fixture("Echo"), args: {}, result: echoSchema }));
      expect(err.code).toBe(ErrorCode.TransportUnavailable);
      expect(err.message).toContain("connecting to ls01.contoso.com over winrm https://127.0.0.1:5986 (negotiate, CONTOSO\\rdsadmin)");
      expect(err.message).toContain("has no WS-Management client");
      expect(err.message).toContain("no supported WSMan client library was found");
      expect(logs.map((e) => e.event)).toEqual(["attempt", "failed"]);
      expect(poolStats().connectFailures[targetKey(c)]).toBe(1);
      const everything = [...commands, ...logs.map((e) => e.message), err.message, String(err.stderr ?? "")].join("\n");
      expect(everything).not.toContain(SECRET);
    } finally {
      stopCommands();
      stopLogs();
    }
  });
});
