/**
 * The ssh exec channel's client launch (transports/sshExec.ts), its connection fields (transport.ts
 * `channel`, `shell`), and its script bundles (transports/scriptBundle.ts), whose hash the target
 * checks.
 *
 * Real: the files the launch writes and their modes, the askpass helper run as ssh runs it (/bin/sh),
 * pwsh 7 computing the subsystem channel's bundle hash (RdsRemoting.psm1 Get-RdsScriptBundle) for the
 * parity check. Stands in: nothing; no connection is made here (ssh.test.ts connects to a real sshd).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { providerFile } from "../../provider/paths";
import { parseConnection } from "../../provider/powershell/runner";
import type { SshConnection } from "../../provider/powershell/transport";
import { scriptBundle } from "../../provider/powershell/transports/scriptBundle";
import { PINNED_HOST_ALIAS, remoteShellCommand, sshExecLaunch } from "../../provider/powershell/transports/sshExec";
import { removeTempDirs, tempDir } from "../powershell/support";
import { useRemotingPwsh } from "./remotingPwsh";

const SECRET = "pa$$'w\"ord `(x) ; rm -rf";
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkXx5Q0u6c2fJm0Q5o6rM3c0W0x5pS0u8r3s1t2u3v4 root@ls01";

afterAll(() => removeTempDirs());

function launch(connection: Record<string, unknown>) {
  const dir = tempDir("rds-ssh-exec");
  fs.chmodSync(dir, 0o700);
  const c = parseConnection({ transport: "ssh", host: "ls01", user: "rdstest", ...connection }) as SshConnection;
  return { dir, ...sshExecLaunch(c, dir) };
}

/** The value of `-o Name=value` in an argument vector. */
function option(args: string[], name: string): string | undefined {
  const found = args.find((arg, i) => args[i - 1] === "-o" && arg.startsWith(`${name}=`));
  return found?.slice(name.length + 1);
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe("the client's arguments", () => {
  test("an inline key and a pinned host key: a 0600 key copy, a private known_hosts under the alias, no prompt possible", () => {
    const l = launch({ privateKey: KEY, hostKey: HOST_KEY, port: 2222, address: "10.0.0.5" });
    // Through the watchdog, which runs the real client found on PATH and ends it with this process.
    expect(l.file).toBe("/bin/sh");
    expect(l.args[0]).toBe(providerFile("powershell/transports/RdsRemoting/ssh-watchdog.sh"));
    expect(l.env.RDS_SSH_CLIENT).toMatch(/\/ssh$/);
    expect(l.args[1]).toBe("-T");
    expect(option(l.args, "StrictHostKeyChecking")).toBe("yes");
    expect(option(l.args, "BatchMode")).toBe("yes");
    expect(option(l.args, "IdentitiesOnly")).toBe("yes");
    expect(option(l.args, "HostKeyAlias")).toBe(PINNED_HOST_ALIAS);
    const keyFile = l.args[l.args.indexOf("-i") + 1];
    expect(keyFile).toBe(path.join(l.dir, "identity"));
    expect(mode(keyFile)).toBe(0o600);
    expect(fs.readFileSync(keyFile, "utf8")).toBe(`${KEY}\n`);
    const knownHosts = option(l.args, "UserKnownHostsFile")!;
    expect(fs.readFileSync(knownHosts, "utf8")).toBe(`${PINNED_HOST_ALIAS} ${HOST_KEY}\n`);
    expect(mode(knownHosts)).toBe(0o600);
    // The destination after `--`, then the remote command: the target's pwsh reading commands on stdin.
    expect(l.args.at(-1)).toBe("pwsh -NoLogo -NoProfile -NonInteractive -Command -");
    expect(l.args.slice(-7, -1)).toEqual(["-p", "2222", "-l", "rdstest", "--", "10.0.0.5"]);
    expect(Object.keys(l.env)).toEqual(["RDS_SSH_CLIENT"]);
    expect(l.args.join(" ")).not.toContain("BEGIN OPENSSH");
  });

  test("a password: ssh asks the askpass helper, which hands over a 0600 file once; no secret in the arguments or environment", () => {
    const l = launch({ password: SECRET });
    expect(option(l.args, "PreferredAuthentications")).toBe("password,keyboard-interactive");
    expect(option(l.args, "NumberOfPasswordPrompts")).toBe("1");
    expect(option(l.args, "BatchMode")).toBeUndefined();
    expect(l.env).toMatchObject({ SSH_ASKPASS_REQUIRE: "force", RDS_SSH_ASKPASS_FILE: path.join(l.dir, "askpass-secret") });
    expect([...l.args, ...Object.values(l.env)].join("\n")).not.toContain(SECRET);
    expect(mode(l.env.SSH_ASKPASS)).toBe(0o700);
    expect(mode(l.env.RDS_SSH_ASKPASS_FILE)).toBe(0o600);
    const env = { RDS_SSH_ASKPASS_FILE: l.env.RDS_SSH_ASKPASS_FILE, PATH: process.env.PATH };
    expect(execFileSync(l.env.SSH_ASKPASS, [], { env, encoding: "utf8" })).toBe(`${SECRET}\n`);
    const again = spawnSync(l.env.SSH_ASKPASS, [], { env, encoding: "utf8" });
    expect(again.status).toBe(1);
    expect(again.stdout).toBe("");
    expect(fs.readdirSync(l.dir)).toEqual(["askpass"]);
  });

  test("a key file with a passphrase: the passphrase through askpass (so no BatchMode), the key file used where it is", () => {
    const keyFile = path.join(tempDir("rds-ssh-exec-key"), "id_ed25519");
    fs.writeFileSync(keyFile, KEY, { mode: 0o600 });
    const l = launch({ privateKeyFile: keyFile, privateKeyPassphrase: SECRET, knownHostsFile: "/etc/ssh/known hosts" });
    expect(l.args[l.args.indexOf("-i") + 1]).toBe(keyFile);
    expect(option(l.args, "BatchMode")).toBeUndefined();
    expect(option(l.args, "UserKnownHostsFile")).toBe('"/etc/ssh/known hosts"');
    expect(l.env.SSH_ASKPASS).toBe(path.join(l.dir, "askpass"));
    expect(fs.readFileSync(l.env.RDS_SSH_ASKPASS_FILE, "utf8")).toBe(`${SECRET}\n`);
  });

  test("the shell: a path with spaces is quoted for the target's shell; Windows PowerShell by name", () => {
    expect(remoteShellCommand("C:/Program Files/PowerShell/7/pwsh.exe")).toBe(
      '"C:/Program Files/PowerShell/7/pwsh.exe" -NoLogo -NoProfile -NonInteractive -Command -',
    );
    expect(launch({ shell: "powershell" }).args.at(-1)).toBe("powershell -NoLogo -NoProfile -NonInteractive -Command -");
  });
});

describe("the connection fields", () => {
  const parse = (fields: Record<string, unknown>) => () => parseConnection({ transport: "ssh", host: "ls01", user: "u", ...fields });

  test("shell accepts command names and paths only: nothing the target's shell would interpret", () => {
    for (const bad of ["pwsh; rm -rf /", "pwsh && x", "$(x)", "`x`", "a|b", '"pwsh"', "-oProxyCommand=x", "pwsh\nx", "%COMSPEC%"]) {
      expect(parse({ shell: bad })).toThrow(/shell must be 1\.\.260 letters, digits, spaces or/);
    }
    expect(parse({ shell: "C:\\Program Files (x86)\\PowerShell\\7\\pwsh.exe" })).not.toThrow();
  });

  test("channel: subsystem is implied by a subsystem; the fields of one channel are refused on the other, with the fix", () => {
    expect((parseConnection({ transport: "ssh", host: "h", user: "u", subsystem: "powershell" }) as SshConnection).subsystem).toBe(
      "powershell",
    );
    expect(parse({ channel: "exec", subsystem: "powershell" })).toThrow(/subsystem applies to channel "subsystem" only/);
    expect(parse({ subsystem: "powershell", shell: "pwsh" })).toThrow(/shell applies to channel "exec" only/);
    expect(parse({ channel: "telnet" })).toThrow(/channel/);
  });
});

describe("script bundles", () => {
  const pwsh = useRemotingPwsh();

  test("the hash is the one the subsystem channel computes in PowerShell, for a flat and a recursive folder", async () => {
    for (const [dir, recurse] of [
      [providerFile("powershell"), false],
      [providerFile("emulator"), true],
    ] as const) {
      const fromPowerShell = await pwsh().run<{ hash: string; names: string[] }>(
        `$b = Get-RdsScriptBundle -Directory $data.dir -Recurse:$data.recurse; [ordered]@{ hash = $b.Hash; names = @($b.Files.Keys | Sort-Object) }`,
        { dir, recurse },
      );
      const bundle = scriptBundle(dir, recurse);
      expect(bundle.hash).toBe(fromPowerShell.hash);
      expect(Object.keys(bundle.files).sort()).toEqual(fromPowerShell.names.sort());
    }
  });

  test("a changed file gives a new hash (a changed script is shipped again, never served stale)", () => {
    const dir = tempDir("rds-bundle");
    fs.writeFileSync(path.join(dir, "a.ps1"), "1");
    fs.writeFileSync(path.join(dir, "notes.txt"), "not shipped");
    const before = scriptBundle(dir);
    expect(Object.keys(before.files)).toEqual(["a.ps1"]);
    fs.writeFileSync(path.join(dir, "a.ps1"), "22");
    expect(scriptBundle(dir).hash).not.toBe(before.hash);
  });
});
