/**
 * The license server script suite (test/resources/licenseServer/scripts.test.ts), every test of it, run
 * again over the ssh transport with password authentication: a password session carries the scripts
 * end to end. Once authenticated, a session is the same whatever the method, so the CAL pack and
 * session host suites run over ssh once, with key authentication (ssh-key-suites.test.ts); what is
 * particular to each method (askpass, a wrong password or key refused with RDS_AUTH_REFUSED) is in
 * ssh.test.ts.
 *
 * Real: a Debian sshd started here on a free 127.0.0.1 port (sshLab.ts), PowerShell SSH remoting
 * from the warm pwsh (one persistent session per suite, shared by every emulated host: the pool keys
 * ssh targets by user, address and port), the scripts shipped to the far side by the transport and run
 * there by Invoke-Command, logging in with the lab account's password (through SSH_ASKPASS, from the warm pwsh's own environment), the host key pinned.
 * Stands in: Windows, by the WMI emulator imported on the far side (the lab option `emulator: { stateDir }`).
 */
import { closeAll } from "../../provider/powershell/pool";
import { useScriptTransport } from "../helpers/scriptConnection";
import { SshLab } from "./sshLab";

const lab = new SshLab();
useScriptTransport("ssh-password", (host, stateDir) => lab.connection(host, stateDir, "password"));

// Registered before the suites' own hooks: sshd answers before their first operation.
beforeAll(() => lab.start(), 60_000);

/* eslint-disable @typescript-eslint/no-require-imports */
require("../resources/licenseServer/scripts.test");

afterAll(async () => {
  await closeAll();
  await lab.stop();
});
