/**
 * Sessions keyed by their trust, through the real ssh transport (issue 16): connections to ONE
 * endpoint (same user, address, port, subsystem and far-side state) that differ only in what they
 * trust or log in with never share a warm session. While connection A's session is warm, B (another
 * pinned host key) fails with the host key error and C (a wrong password) with the login error, each
 * on its own connect; A's session is untouched. (The winrm counterpart, skipCertificateChecks, is a
 * key check in trust.test.ts: this machine's pwsh has no WS-Management client.)
 *
 * Real: Debian's sshd on a free 127.0.0.1 port with its own host key (sshLab.ts), the `rdstest`
 * account, PowerShell SSH remoting from the runner's warm pwsh, the runner and its pool, the Echo
 * fixture script shipped to the far side. Stands in: Windows, by the WMI emulator on the far side.
 */
import { ErrorCode } from "../../provider/errors";
import { closeAll, poolStats } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { targetKey, type SshConnection } from "../../provider/powershell/transport";
import { echoSchema, fixture, rdsErrorOf, removeTempDirs, tempDir } from "../powershell/support";
import { SshLab } from "./sshLab";

const lab = new SshLab();

beforeAll(() => lab.start(), 60_000);

afterAll(async () => {
  await closeAll();
  await lab.stop();
  removeTempDirs();
});

const echo = (c: SshConnection, args: Record<string, unknown> = {}) =>
  runOperation(c, { name: "test.echo", script: fixture("Echo"), args, result: echoSchema });

test("three connections to one endpoint with different host keys / passwords: three sessions, never a shared one", async () => {
  const stateDir = tempDir("rds-trust");
  // A: the right password, the right pinned host key.
  const a = lab.connection("ls01.contoso.com", stateDir, "password");
  // B: the same endpoint and password, another pinned host key.
  const b: SshConnection = { ...a, hostKey: lab.otherHostKey };
  // C: the same endpoint and host key, a wrong password (the real one with a suffix).
  const c: SshConnection = { ...a, password: `${lab.password}-wrong` };
  const keys = new Set([targetKey(a), targetKey(b), targetKey(c)]);
  expect(keys.size).toBe(3);

  const loginsBefore = lab.acceptedLogins().length;
  const warm = await echo(a, { step: "warm" });
  expect(poolStats().connects[targetKey(a)]).toBe(1);

  // A's session is warm: B and C must still be checked on their own, and refused.
  const hostKeyError = await rdsErrorOf(echo(b, { step: "b" }));
  expect(hostKeyError.code).toBe(ErrorCode.HostKeyChanged);
  const authError = await rdsErrorOf(echo(c, { step: "c" }));
  expect(authError.code).toBe(ErrorCode.AuthRefused);
  expect(authError.message).not.toContain(lab.password);
  expect(poolStats().connectFailures[targetKey(b)]).toBe(1);
  expect(poolStats().connectFailures[targetKey(c)]).toBe(1);

  // A is unchanged: the same far-side pwsh, one connect, one accepted login in sshd's log.
  const again = await echo(a, { step: "again" });
  expect(again.pid).toBe(warm.pid);
  expect(poolStats().connects[targetKey(a)]).toBe(1);
  expect(lab.acceptedLogins().length - loginsBefore).toBe(1);
  // Only A has a warm session; B's and C's pwsh ended with their failed connects.
  expect(
    poolStats()
      .sessions.filter((s) => keys.has(s.key))
      .map((s) => s.key),
  ).toEqual([targetKey(a)]);
}, 120_000);
