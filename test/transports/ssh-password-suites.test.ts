/**
 * The license server script suite (test/resources/licenseServer/scripts.test.ts) over the ssh
 * transport with password authentication: the cases it marks `test.remote` (per operation script a
 * success, a typed script error and a WMI error; its header says which), so a password session carries
 * every script end to end. Every other case runs on the simulator in the suite's own file: what ssh
 * adds is the crossing (the scripts and modules shipped, the envelope, results and typed errors through
 * Invoke-Command), not the scripts' logic. The last test checks that every operation script of the
 * resource crossed with both kinds of outcome, so a new script cannot miss its remote run.
 * Once authenticated, a session is the same whatever the method, so the CAL pack and session host
 * suites run over ssh with key authentication only (ssh-key-suites.test.ts); what is particular to each
 * method (askpass, a wrong password or key refused with RDS_AUTH_REFUSED) is in ssh.test.ts.
 *
 * Real: a Debian sshd started here on a free 127.0.0.1 port (sshLab.ts), PowerShell SSH remoting
 * from the warm pwsh (one persistent session, shared by every emulated host: the pool keys ssh targets
 * by user, address, port and emulator state directory), the scripts shipped to the far side by the
 * transport and run there by Invoke-Command, logging in with the lab account's password (through
 * SSH_ASKPASS, from the warm pwsh's own environment), the host key pinned.
 * Stands in: Windows, by the WMI emulator imported on the far side (the lab option `emulator: { stateDir }`).
 */
import { closeAll } from "../../provider/powershell/pool";
import { operationScripts, remoteOutcomes, useScriptTransport } from "../helpers/scriptConnection";
import { SshLab } from "./sshLab";

const lab = new SshLab();
useScriptTransport("ssh-password", (host, stateDir) => lab.connection(host, stateDir, "password"));

// Registered before the suite's own hooks: sshd answers before its first operation.
beforeAll(() => lab.start(), 60_000);

/* eslint-disable @typescript-eslint/no-require-imports */
require("../resources/licenseServer/scripts.test");

// In a describe block so that jest's verbose report lists it after the suites (it runs after them either way).
describe("remote coverage", () => {
  test("every operation script of RdsLicenseServer ran over ssh: with a result, and with a typed error", () => {
    const expected = Object.fromEntries(operationScripts(["licenseServer"]).map((script) => [script, ["error", "ok"]]));
    expect(remoteOutcomes()).toEqual(expected);
  });
});

afterAll(async () => {
  await closeAll();
  await lab.stop();
});
