/**
 * The ssh transport's New-PSSession parameters: options, key and password handling, the files it
 * writes while ssh starts (pinned known_hosts, inline key, askpass helper and the secret it hands over
 * once) and the text it reports.
 *
 * Real: pwsh 7 running transports/RdsRemoting.psm1 (Get-RdsSshSessionParameters,
 * Format-RdsSessionCommand) on the settings the TypeScript transport resolves (sshSettings), in a
 * private directory. Stands in: nothing (no connection is made here: ssh.test.ts connects for real).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseConnection } from "../../provider/powershell/runner";
import type { SshConnection } from "../../provider/powershell/transport";
import { sshSettings } from "../../provider/powershell/transports/ssh";
import { useRemotingPwsh } from "./remotingPwsh";
import { removeTempDirs, tempDir } from "../powershell/support";

const SECRET = "pa$$'w\"ord `(x)";
const KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkXx5Q0u6c2fJm0Q5o6rM3c0W0x5pS0u8r3s1t2u3v4 root@ls01";
const pwsh = useRemotingPwsh();

afterAll(() => removeTempDirs());

interface Built {
  parameters: Record<string, unknown>;
  options: Record<string, string>;
  environment: Record<string, string>;
  secretName: string | null;
  text: string;
}

async function build(connection: SshConnection): Promise<Built & { dir: string }> {
  const dir = tempDir("rds-ssh-params");
  fs.chmodSync(dir, 0o700);
  const built = await pwsh().run<Built>(
    `$spec = Get-RdsSshSessionParameters -Settings $data.settings -WorkDir $data.dir
     $p = [ordered]@{}
     foreach ($k in $spec.Parameters.Keys) { if ($k -ne 'Options') { $p[$k] = $spec.Parameters[$k] } }
     [ordered]@{ parameters = $p; options = $spec.Parameters.Options; environment = $spec.Environment; secretName = $spec.Secret; text = Format-RdsSessionCommand -Spec $spec }`,
    { settings: sshSettings(parseConnection(connection) as SshConnection), dir },
  );
  return { ...built, dir };
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe("key authentication", () => {
  test("an inline key: written 0600 for ssh, public key only, no prompt possible, host key pinned under an alias", async () => {
    const b = await build({
      transport: "ssh",
      host: "ls01",
      address: "10.0.0.5",
      user: "administrator",
      privateKey: KEY,
      hostKey: HOST_KEY,
    });
    expect(b.parameters).toMatchObject({
      HostName: "10.0.0.5",
      UserName: "administrator",
      Port: 22,
      Subsystem: "powershell",
      ConnectingTimeout: 20000,
    });
    const keyFile = b.parameters.KeyFilePath as string;
    expect(path.dirname(keyFile)).toBe(b.dir);
    expect(fs.readFileSync(keyFile, "utf8")).toBe(`${KEY}\n`);
    expect(mode(keyFile)).toBe(0o600);
    expect(b.options).toMatchObject({
      StrictHostKeyChecking: "yes",
      BatchMode: "yes",
      IdentitiesOnly: "yes",
      PreferredAuthentications: "publickey",
      PasswordAuthentication: "no",
      KbdInteractiveAuthentication: "no",
      HostKeyAlias: "rds-pinned-host",
      UpdateHostKeys: "no",
      ConnectTimeout: "15",
    });
    const knownHosts = path.join(b.dir, "known_hosts");
    expect(b.options.UserKnownHostsFile).toBe(knownHosts);
    expect(b.options.GlobalKnownHostsFile).toBe(knownHosts);
    expect(fs.readFileSync(knownHosts, "utf8")).toBe(`rds-pinned-host ${HOST_KEY}\n`);
    expect(b.environment).toEqual(watchdogOnly(b.dir));
    expect(b.text).toContain(
      "New-PSSession -HostName '10.0.0.5' -Port 22 -UserName 'administrator' -Subsystem 'powershell' -KeyFilePath '",
    );
    expect(b.text).toContain("StrictHostKeyChecking='yes'");
    expect(b.text).not.toContain("BEGIN OPENSSH");
  });

  test("a key file with a passphrase: the passphrase goes through askpass (so no BatchMode), never into text", async () => {
    const b = await build({
      transport: "ssh",
      host: "ls01",
      user: "u",
      privateKeyFile: "/keys/id_ed25519",
      privateKeyPassphrase: SECRET,
      knownHostsFile: "/etc/ssh/my known_hosts",
    });
    expect(b.parameters.KeyFilePath).toBe("/keys/id_ed25519");
    expect(b.options.BatchMode).toBeUndefined();
    expect(b.options.NumberOfPasswordPrompts).toBe("1");
    expect(b.options.UserKnownHostsFile).toBe('"/etc/ssh/my known_hosts"');
    expect(b.options.HostKeyAlias).toBeUndefined();
    // No environment variable holds it (the ssh process's environment lives as long as the session).
    expect(Object.values(b.environment).join("\n")).not.toContain(SECRET);
    expect(b.secretName).toBeNull();
    expect(b.environment.RDS_SSH_ASKPASS_FILE).toBe(path.join(b.dir, "askpass-secret"));
    expect(mode(b.environment.RDS_SSH_ASKPASS_FILE)).toBe(0o600);
    expect(b.text).not.toContain(SECRET);
  });
});

describe("password authentication", () => {
  test("ssh asks the askpass helper, which hands over a 0600 file once: no secret in the environment or any text", async () => {
    const b = await build({ transport: "ssh", host: "ls01", user: "rdstest", password: SECRET, port: 2222, connectTimeoutSeconds: 5 });
    expect(b.parameters.KeyFilePath).toBeUndefined();
    expect(b.options).toMatchObject({
      PreferredAuthentications: "password,keyboard-interactive",
      PubkeyAuthentication: "no",
      NumberOfPasswordPrompts: "1",
      StrictHostKeyChecking: "yes",
      ConnectTimeout: "5",
    });
    expect(b.options.BatchMode).toBeUndefined();
    expect(b.environment).toMatchObject({ SSH_ASKPASS_REQUIRE: "force", RDS_SSH_ASKPASS_FILE: path.join(b.dir, "askpass-secret") });
    expect(Object.values(b.environment).join("\n")).not.toContain(SECRET);
    const helper = b.environment.SSH_ASKPASS;
    expect(path.dirname(helper)).toBe(b.dir);
    expect(mode(helper)).toBe(0o700);
    expect(fs.readFileSync(helper, "utf8")).not.toContain(SECRET);
    // The one file that holds it: private, in the private folder, and only until the helper takes it.
    const files = fs.readdirSync(b.dir).filter((file) => fs.statSync(path.join(b.dir, file)).isFile());
    expect(files.filter((file) => fs.readFileSync(path.join(b.dir, file), "utf8").includes(SECRET))).toEqual(["askpass-secret"]);
    expect(mode(path.join(b.dir, "askpass-secret"))).toBe(0o600);
    expect(b.text).not.toContain(SECRET);
    expect(b.text).toContain("SSH_ASKPASS_REQUIRE='force'");
  });

  test("the helper prints exactly the password, whatever its characters, once: the second ask gets nothing and no file is left", async () => {
    const b = await build({ transport: "ssh", host: "ls01", user: "rdstest", password: SECRET });
    const env = { RDS_SSH_ASKPASS_FILE: b.environment.RDS_SSH_ASKPASS_FILE, PATH: process.env.PATH };
    const printed = execFileSync(b.environment.SSH_ASKPASS, [], { env, encoding: "utf8" });
    expect(printed).toBe(`${SECRET}\n`);
    const again = spawnSync(b.environment.SSH_ASKPASS, [], { env, encoding: "utf8" });
    expect(again.status).toBe(1);
    expect(again.stdout).toBe("");
    expect(fs.readdirSync(b.dir).sort()).toEqual(["askpass", "bin"]); // bin: the ssh watchdog
  });
});

test("no credentials: the ssh agent and default keys, never a prompt", async () => {
  const b = await build({ transport: "ssh", host: "ls01", user: "u" });
  expect(b.options.BatchMode).toBe("yes");
  expect(b.parameters.KeyFilePath).toBeUndefined();
  expect(b.environment).toEqual(watchdogOnly(b.dir));
});

/** The environment of a connect without askpass: only the ssh watchdog's two variables (no secret). */
function watchdogOnly(dir: string): Record<string, string> {
  return { RDS_SSH_CLIENT: "/usr/bin/ssh", PATH: expect.stringMatching(new RegExp(`^${path.join(dir, "bin")}:`)) as unknown as string };
}

test("pwsh starts the ssh watchdog (first on PATH while New-PSSession runs), which runs the real client with the same arguments, input and exit code", async () => {
  const b = await build({ transport: "ssh", host: "ls01", user: "u" });
  const watchdog = path.join(b.dir, "bin", "ssh");
  expect(mode(watchdog)).toBe(0o700);
  expect(b.text).toContain("PATH=<ssh watchdog folder>:$PATH");
  expect(b.text).toContain("RDS_SSH_CLIENT='/usr/bin/ssh'");
  const echoed = spawnSync(watchdog, ["-c", "cat; exit 7"], { env: { RDS_SSH_CLIENT: "/bin/sh" }, input: "from stdin", encoding: "utf8" });
  expect(echoed.stdout).toBe("from stdin");
  expect(echoed.status).toBe(7);
});
