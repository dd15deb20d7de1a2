/**
 * The CAL pack and session host script suites (test/resources/<name>/scripts.test.ts) over the ssh
 * transport with key authentication: the cases each suite marks `it.remote` (per operation script a
 * success and a typed error; the suites' headers say which). Every other case runs on the simulator in
 * the suite's own file: what ssh adds is the crossing (the scripts and modules shipped, the envelope,
 * results and typed errors through Invoke-Command), not the scripts' logic. The last test checks that
 * every operation script of the two resources crossed, so a new script cannot miss its remote run.
 * The license server suite runs over ssh with password authentication (ssh-password-suites.test.ts):
 * after authentication a session is the same whatever the method; what is particular to each method
 * (askpass, a wrong password or key refused with RDS_AUTH_REFUSED) is in ssh.test.ts.
 *
 * Real: a Debian sshd started here on a free 127.0.0.1 port (sshLab.ts), PowerShell SSH remoting
 * from the warm pwsh (one persistent session per suite, shared by every emulated host: the pool keys
 * ssh targets by user, address, port and emulator state directory), the scripts shipped to the far
 * side by the transport and run there by Invoke-Command, logging in with an ed25519 key given inline
 * (privateKey), the host key pinned.
 * Stands in: Windows, by the WMI emulator imported on the far side (the lab option `emulator: { stateDir }`).
 */
import { closeAll } from "../../provider/powershell/pool";
import { operationScripts, remoteOutcomes, useScriptTransport } from "../helpers/scriptConnection";
import { SshLab } from "./sshLab";

const lab = new SshLab();
useScriptTransport("ssh-key", (host, stateDir) => lab.connection(host, stateDir, "key"));

// Registered before the suites' own hooks: sshd answers before their first operation.
beforeAll(() => lab.start(), 60_000);

/* eslint-disable @typescript-eslint/no-require-imports */
require("../resources/calPack/scripts.test");
require("../resources/sessionHostLicensing/scripts.test");

/** Scripts that have no error case in their suite: over ssh they only return a result. */
const RESULT_ONLY = ["calPack/get.ps1", "sessionHostLicensing/packs.ps1", "sessionHostLicensing/reset.ps1"];

// In a describe block so that jest's verbose report lists it after the suites (it runs after them either way).
describe("remote coverage", () => {
  test("every operation script of RdsCalPack and RdsSessionHostLicensing ran over ssh: with a result, and with a typed error", () => {
    const expected = Object.fromEntries(
      operationScripts(["calPack", "sessionHostLicensing"]).map((script) => [
        script,
        RESULT_ONLY.includes(script) ? ["ok"] : ["error", "ok"],
      ]),
    );
    expect(remoteOutcomes()).toEqual(expected);
  });
});

afterAll(async () => {
  await closeAll();
  await lab.stop();
});
