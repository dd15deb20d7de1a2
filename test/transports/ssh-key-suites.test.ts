/**
 * The CAL pack and session host script suites (test/resources/<name>/scripts.test.ts), every test of
 * them, run again over the ssh transport with key authentication. The license server suite runs over
 * ssh with password authentication (ssh-password-suites.test.ts): after authentication a session is the
 * same whatever the method, so each suite runs over ssh once.
 *
 * Real: a Debian sshd started here on a free 127.0.0.1 port (sshLab.ts), PowerShell SSH remoting
 * from the warm pwsh (one persistent session per suite, shared by every emulated host: the pool keys
 * ssh targets by user, address and port), the scripts shipped to the far side by the transport and run
 * there by Invoke-Command, logging in with an ed25519 key given inline (privateKey), the host key pinned.
 * Stands in: Windows, by the WMI emulator imported on the far side (the lab option `emulator: { stateDir }`).
 */
import { closeAll } from "../../provider/powershell/pool";
import { useScriptTransport } from "../helpers/scriptConnection";
import { SshLab } from "./sshLab";

const lab = new SshLab();
useScriptTransport("ssh-key", (host, stateDir) => lab.connection(host, stateDir, "key"));

// Registered before the suites' own hooks: sshd answers before their first operation.
beforeAll(() => lab.start(), 60_000);

/* eslint-disable @typescript-eslint/no-require-imports */
require("../resources/calPack/scripts.test");
require("../resources/sessionHostLicensing/scripts.test");

afterAll(async () => {
  await closeAll();
  await lab.stop();
});
