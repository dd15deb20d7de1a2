/**
 * Sessions keyed by their trust (issue 16): every trust and credential setting of a remote
 * connection changes its pool key, the key never shows a secret, CredSSP is refused over http at
 * check, and the connect folders (where key material lives while ssh logs in) are the provider's:
 * private, named with its pid, and swept when their provider is gone.
 *
 * Real: the connection schema and the transports' key functions, the connect-folder module on this
 * machine's file system (a temporary root), processes this file starts and ends itself (a dead owner).
 * Stands in: nothing; no connection is made (trust-sessions.test.ts connects for real over ssh).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ErrorCode, isRdsError } from "../../provider/errors";
import { parseConnection } from "../../provider/powershell/runner";
import { targetKey, type SshConnection, type WinRmConnection } from "../../provider/powershell/transport";
import {
  CONNECT_DIR_PREFIX,
  createConnectDir,
  liveConnectDirs,
  removeConnectDir,
  sweepStaleConnectDirs,
} from "../../provider/powershell/transports/connectDir";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkXx5Q0u6c2fJm0Q5o6rM3c0W0x5pS0u8r3s1t2u3v4 root@ls01";
const OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBkXx5Q0u6c2fJm0Q5o6rM3c0W0x5pS0u8r3s1t2u3v4 root@ls01";
const SECRET = "S3cr3t-pa55";

describe("pool keys include a digest of every trust and credential setting", () => {
  const ssh: SshConnection = { transport: "ssh", host: "ls01", address: "10.0.0.5", user: "rdsadmin", password: SECRET, hostKey: HOST_KEY };

  test.each<[string, Partial<SshConnection>]>([
    ["another pinned host key", { hostKey: OTHER_KEY }],
    ["two pinned host keys", { hostKey: [HOST_KEY, OTHER_KEY] }],
    ["a known_hosts file instead of a pinned key", { hostKey: undefined, knownHostsFile: "/home/ci/.ssh/known_hosts" }],
    ["another password", { password: `${SECRET}-wrong` }],
    [
      "an inline key instead of the password",
      { password: undefined, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----" },
    ],
    ["a key file", { password: undefined, privateKeyFile: "/keys/id_ed25519" }],
    ["no credential (the agent)", { password: undefined }],
  ])("ssh: %s is another session", (_why, change) => {
    expect(targetKey({ ...ssh, ...change } as SshConnection)).not.toBe(targetKey(ssh));
  });

  test("ssh: the same trust spelled differently is the same session; the host name is not part of it", () => {
    const key = targetKey(ssh);
    expect(targetKey({ ...ssh, hostKey: [` ${HOST_KEY} `] })).toBe(key);
    expect(targetKey({ ...ssh, host: "LS01-alias" })).toBe(key);
    expect(targetKey({ ...ssh, connectTimeoutSeconds: 40 })).toBe(key);
  });

  test("ssh: a passphrase of the same key file is another session", () => {
    const withKey: SshConnection = { ...ssh, password: undefined, privateKeyFile: "/keys/id_ed25519" };
    expect(targetKey({ ...withKey, privateKeyPassphrase: "one" })).not.toBe(targetKey({ ...withKey, privateKeyPassphrase: "two" }));
  });

  const winrm: WinRmConnection = { transport: "winrm", host: "ls01", user: "CONTOSO\\rdsadmin", password: SECRET };

  test("winrm: skipCertificateChecks, another password or another user is another session", () => {
    const key = targetKey(winrm);
    expect(targetKey({ ...winrm, skipCertificateChecks: true })).not.toBe(key);
    expect(targetKey({ ...winrm, skipCertificateChecks: false })).toBe(key); // the default, spelled out
    expect(targetKey({ ...winrm, password: `${SECRET}-wrong` })).not.toBe(key);
    expect(targetKey({ ...winrm, user: "CONTOSO\\other" })).not.toBe(key);
    expect(targetKey({ ...winrm, user: undefined, password: undefined })).not.toBe(key);
  });

  test("no key shows a secret, and no key is a plain hash of one (keyed with bytes of this process only)", () => {
    const keys = [targetKey(ssh), targetKey(winrm), targetKey({ ...ssh, password: undefined, privateKey: `key-${SECRET}` })];
    for (const key of keys) {
      expect(key).not.toContain(SECRET);
      expect(key).toMatch(/"[0-9a-f]{32}"\]$/);
    }
    // A fresh process (other random bytes) computes another digest for the same connection.
    const program = `const { targetKey } = require(${JSON.stringify(path.join(__dirname, "../../bin/provider/powershell/transport.js"))}); process.stdout.write(targetKey(${JSON.stringify(ssh)}));`;
    const other = spawnSync(process.execPath, ["-e", program], { encoding: "utf8" });
    if (other.status === 0) expect(other.stdout).not.toBe(targetKey(ssh));
  });
});

describe("winrm: CredSSP only over https", () => {
  test("credssp with scheme http is refused at check with RDS_VALIDATION naming the fields and the fix", () => {
    let error: unknown;
    try {
      parseConnection({
        transport: "winrm",
        host: "ls01",
        scheme: "http",
        authentication: "credssp",
        user: "CONTOSO\\u",
        password: SECRET,
      });
    } catch (err) {
      error = err;
    }
    expect(isRdsError(error) && error.code).toBe(ErrorCode.Validation);
    const message = (error as Error).message;
    expect(message).toContain("connection.authentication");
    expect(message).toContain('authentication "credssp"');
    expect(message).toContain('scheme "https"');
    expect(message).toContain('set scheme: "https"');
    expect(message).not.toContain(SECRET);
  });

  test("credssp over https (the default scheme) is accepted", () => {
    expect(() =>
      parseConnection({ transport: "winrm", host: "ls01", authentication: "credssp", user: "CONTOSO\\u", password: SECRET }),
    ).not.toThrow();
  });
});

describe("connect folders", () => {
  const tmpBefore = process.env.TMPDIR;
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "rds-connect-dir-test-"));
    process.env.TMPDIR = root;
  });
  afterEach(() => {
    if (tmpBefore === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmpBefore;
    fs.rmSync(root, { recursive: true, force: true });
  });

  test("made private (0700) and named with this process's pid; removed with what is in it", () => {
    const dir = createConnectDir();
    expect(path.dirname(dir)).toBe(root);
    expect(path.basename(dir)).toMatch(new RegExp(`^${CONNECT_DIR_PREFIX}${process.pid}-[A-Za-z0-9]+$`));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(liveConnectDirs()).toContain(dir);
    fs.mkdirSync(path.join(dir, "attempt-1"));
    fs.writeFileSync(path.join(dir, "attempt-1", "identity"), "key", { mode: 0o600 });
    removeConnectDir(dir);
    expect(fs.existsSync(dir)).toBe(false);
    expect(liveConnectDirs()).not.toContain(dir);
  });

  test("the sweep removes the folders of a provider that is gone, never a live one's, never another name", () => {
    // A process this test starts and waits for: its pid is certainly gone afterwards.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout);
    const stale = path.join(root, `${CONNECT_DIR_PREFIX}${deadPid}-abc123`);
    fs.mkdirSync(path.join(stale, "attempt-1"), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(stale, "attempt-1", "identity"), "key");
    const mine = createConnectDir();
    const parentOfJest = path.join(root, `${CONNECT_DIR_PREFIX}${process.ppid}-def456`);
    fs.mkdirSync(parentOfJest, { mode: 0o700 });
    const unrelated = path.join(root, "rds-remote-notapid");
    fs.mkdirSync(unrelated);

    expect(sweepStaleConnectDirs(root)).toEqual([stale]);
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(mine)).toBe(true);
    expect(fs.existsSync(parentOfJest)).toBe(true);
    expect(fs.existsSync(unrelated)).toBe(true);
    removeConnectDir(mine);
  });
});
