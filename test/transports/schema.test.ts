/**
 * The connection schema's local / ssh / winrm members, the settings each transport derives (every
 * default), target keys, and the classification of connect failures into typed errors. Pure: no
 * process runs here (the ssh, winrm and local test files run them).
 */
import { ErrorCode, RdsError } from "../../provider/errors";
import { parseConnection } from "../../provider/powershell/runner";
import { connectionSchema, targetKey, type SshConnection, type WinRmConnection } from "../../provider/powershell/transport";
import { classifyConnectError, connectBackoffMs, stderrGist } from "../../provider/powershell/transports/remote";
import { describeSsh, sshSettings } from "../../provider/powershell/transports/ssh";
import { describeWinRm, winrmSettings } from "../../provider/powershell/transports/winrm";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkXx5Q0u6c2fJm0Q5o6rM3c0W0x5pS0u8r3s1t2u3v4 root@ls01";

function fieldOf(connection: unknown): string {
  try {
    parseConnection(connection);
  } catch (err) {
    return (err as Error).message;
  }
  return "(accepted)";
}

describe("local", () => {
  test("accepts host, shell and the lab emulator; refuses remote fields", () => {
    expect(connectionSchema.safeParse({ transport: "local", host: "ls01" }).success).toBe(true);
    expect(connectionSchema.safeParse({ transport: "local", host: "ls01", shell: "powershell" }).success).toBe(true);
    expect(connectionSchema.safeParse({ transport: "local", host: "ls01", emulator: { stateDir: "/s" } }).success).toBe(true);
    expect(fieldOf({ transport: "local", host: "ls01", shell: "bash" })).toContain("connection.shell");
    expect(fieldOf({ transport: "local", host: "ls01", password: "x" })).toContain("connection");
    expect(fieldOf({ transport: "local" })).toContain("connection.host");
  });
});

describe("ssh", () => {
  const base = { transport: "ssh", host: "ls01", user: "rdstest" } as const;
  test.each([
    [{ ...base, password: "a", privateKey: "k" }, "connection.privateKey: privateKey cannot be combined with password"],
    [{ ...base, privateKeyPassphrase: "x" }, "connection.privateKeyPassphrase: privateKeyPassphrase needs privateKey or privateKeyFile"],
    [{ ...base, hostKey: KEY, knownHostsFile: "/k" }, "connection.knownHostsFile"],
    [{ ...base, hostKey: "not a key" }, "connection.hostKey"],
    [{ ...base, password: "line\nbreak" }, "connection.password: password must not contain line breaks"],
    [{ ...base, port: 0 }, "connection.port"],
    [{ ...base, subsystem: "power shell" }, "connection.subsystem"],
    [{ ...base, connectAttempts: 11 }, "connection.connectAttempts"],
    [{ ...base, connectTimeoutSeconds: 0 }, "connection.connectTimeoutSeconds"],
    [{ ...base, emulator: {} }, "connection.emulator.stateDir"],
    [{ transport: "ssh", host: "ls01" }, "connection.user"],
  ])("%j is refused naming %s", (connection, expected) => {
    expect(fieldOf(connection)).toContain(expected);
  });

  test("never echoes a value in a check error", () => {
    expect(fieldOf({ ...base, password: "Sup3r\nSecret" })).not.toContain("Sup3r");
  });

  test("accepts one pinned key or several, each with an optional comment", () => {
    expect(fieldOf({ ...base, hostKey: KEY })).toBe("(accepted)");
    expect(fieldOf({ ...base, hostKey: [KEY, KEY.replace(" root@ls01", "")] })).toBe("(accepted)");
  });

  test("settings resolve every default; the key is the endpoint and a digest of its trust, never a secret, never the host", () => {
    const c = parseConnection({ ...base, password: "pw" }) as SshConnection;
    expect(sshSettings(c)).toEqual({
      transport: "ssh",
      host: "ls01",
      address: "ls01",
      port: 22,
      user: "rdstest",
      subsystem: "powershell",
      connectTimeoutSeconds: 15,
      password: "pw",
      privateKey: null,
      privateKeyFile: null,
      privateKeyPassphrase: null,
      hostKeys: null,
      knownHostsFile: null,
      lab: null,
    });
    expect(describeSsh(c)).toBe("ssh rdstest@ls01:22 (password)");
    const key = targetKey(c);
    expect(key).not.toContain('pw"');
    // Another password is another session (issue 16): a wrong one must not ride on a warm session.
    expect(targetKey({ ...c, password: "other" })).not.toBe(key);
    expect(targetKey({ ...c })).toBe(key);
    expect(targetKey({ ...c, host: "other-name", address: "LS01" })).toBe(key);
    expect(targetKey({ ...c, port: 2222 })).not.toBe(key);
    expect(targetKey({ ...c, user: "admin" })).not.toBe(key);
  });
});

describe("winrm", () => {
  test("settings resolve every default (https on 5986, negotiate, the default endpoint, 15 s)", () => {
    const c = parseConnection({ transport: "winrm", host: "ls01.contoso.com" }) as WinRmConnection;
    expect(winrmSettings(c)).toEqual({
      transport: "winrm",
      host: "ls01.contoso.com",
      address: "ls01.contoso.com",
      scheme: "https",
      port: 5986,
      authentication: "negotiate",
      user: null,
      password: null,
      skipCertificateChecks: false,
      configurationName: null,
      connectTimeoutSeconds: 15,
      lab: null,
    });
    expect(describeWinRm(c)).toBe("winrm https://ls01.contoso.com:5986 (negotiate, current identity)");
    expect(winrmSettings({ ...c, scheme: "http" }).port).toBe(5985);
  });
});

describe("connect failures become typed errors", () => {
  const ssh = parseConnection({
    transport: "ssh",
    host: "ls01",
    address: "127.0.0.1",
    port: 2222,
    user: "rdstest",
    password: "pw",
  }) as SshConnection;
  const winrm = parseConnection({ transport: "winrm", host: "ls01" }) as WinRmConnection;
  const raw = (text: string) =>
    new RdsError(ErrorCode.ScriptError, `running session.connect on ls01: CONNECT_FAILED: ${text} (at RdsRemoting.psm1:590)`, {
      scriptCode: "CONNECT_FAILED",
    });
  const classify = (text: string, c: SshConnection | WinRmConnection = ssh) =>
    classifyConnectError(raw(text), "", c, c.transport === "ssh" ? describeSsh(c as SshConnection) : describeWinRm(c as WinRmConnection));

  // The texts are what ssh 9.2 and pwsh 7.6 printed for each case on this machine.
  test.each([
    ["ssh: rdstest@127.0.0.1: Permission denied (publickey,password).", ErrorCode.AuthRefused],
    [
      "ssh: No ED25519 host key is known for rds-pinned-host and you have requested strict checking. / Host key verification failed.",
      ErrorCode.HostKeyUnknown,
    ],
    [
      "ssh: WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! / Host key for rds-pinned-host has changed and you have requested strict checking. / Host key verification failed.",
      ErrorCode.HostKeyChanged,
    ],
    ["ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused", ErrorCode.PortClosed],
    ["ssh: ssh: Could not resolve hostname nosuch.invalid: Name or service not known", ErrorCode.NameNotResolved],
    ["ssh: subsystem request failed on channel 0", ErrorCode.RemotingNotEnabled],
    ["ssh: ssh: connect to host 10.9.9.9 port 22: Connection timed out", ErrorCode.ConnectTimeout],
    ["ssh: kex_exchange_identification: Connection closed by remote host", ErrorCode.ConnectionLost],
    [
      "The SSH client session has ended with error message: The SSH transport process has abruptly terminated causing this remote session to break.",
      ErrorCode.ConnectionLost,
    ],
  ])("%s -> %s", (text, code) => {
    const err = classify(text);
    expect(err.code).toBe(code);
    expect(err.message.startsWith("connecting to ls01 over ssh rdstest@127.0.0.1:2222 (password): ")).toBe(true);
    expect(err.message).not.toContain("(at RdsRemoting.psm1");
    expect(err.operation).toBe("session.connect");
  });

  test.each([
    [
      "This parameter set requires WSMan, and no supported WSMan client library was found. WSMan is either not installed or unavailable for this system.",
      ErrorCode.TransportUnavailable,
    ],
    [
      "Connecting to remote server ls01 failed with the following error message : WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network, and that a firewall exception for the WinRM service is enabled and allows access from this computer.",
      ErrorCode.PortClosed,
    ],
    [
      "Connecting to remote server ls01 failed with the following error message : The server certificate on the destination computer (ls01:5986) has the following errors: The SSL certificate is signed by an unknown certificate authority.",
      ErrorCode.CertificateUntrusted,
    ],
    ["Connecting to remote server ls01 failed with the following error message : Access is denied.", ErrorCode.AuthRefused],
    [
      "Connecting to remote server ls01 failed with the following error message : The WS-Management service cannot process the request. Cannot find the PowerShell.7 session configuration in the WSMan: drive on the ls01 computer.",
      ErrorCode.RemotingNotEnabled,
    ],
    [
      "Connecting to remote server ls01 failed with the following error message : The WinRM client cannot process the request because the server name cannot be resolved.",
      ErrorCode.NameNotResolved,
    ],
  ])("winrm: %s -> %s", (text, code) => {
    expect(classify(text, winrm).code).toBe(code);
  });

  test("specific errors pass through; unknown ones stay RDS_HOST_UNREACHABLE with the reason", () => {
    const typed = new RdsError(ErrorCode.AccessDenied, "x");
    expect(classifyConnectError(typed, "", ssh, "d")).toBe(typed);
    const other = classify("something nobody expected");
    expect(other.code).toBe(ErrorCode.HostUnreachable);
    expect(other.message).toBe("connecting to ls01 over ssh rdstest@127.0.0.1:2222 (password): something nobody expected");
  });

  test("stderr wins over the generic exception text; banners are dropped from messages", () => {
    const err = classifyConnectError(
      raw("The SSH transport process has abruptly terminated"),
      "@@@@@@@@\nrdstest@127.0.0.1: Permission denied (publickey).\n",
      ssh,
      "ssh x",
    );
    expect(err.code).toBe(ErrorCode.AuthRefused);
    expect(stderrGist("@@@@\n\nline one\nline two\n")).toBe("line one / line two");
  });

  test("backoff: 1, 2, 4, 8, 8 seconds", () => {
    expect([1, 2, 3, 4, 5].map(connectBackoffMs)).toEqual([1000, 2000, 4000, 8000, 8000]);
  });
});
