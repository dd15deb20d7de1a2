/**
 * A pwsh (test/helpers/pwshSession.ts) with RdsCommon.psm1 and transports/RdsRemoting.psm1 loaded: the
 * functions that build the ssh and winrm session parameters run in it as the warm pwsh runs them.
 */
import { providerFile } from "../../provider/paths";
import { PwshSession } from "../helpers/pwshSession";

export async function startRemotingPwsh(): Promise<PwshSession> {
  const pwsh = await PwshSession.start();
  await pwsh.run("Import-Module -Name $data.common -Global -Force; Import-Module -Name $data.remoting -Global -Force", {
    common: providerFile("powershell/RdsCommon.psm1"),
    remoting: providerFile("powershell/transports/RdsRemoting.psm1"),
  });
  return pwsh;
}

/**
 * Starts a remoting pwsh before the tests of the calling file (or describe block) and closes it after
 * them; returns a getter for it.
 */
export function useRemotingPwsh(): () => PwshSession {
  let pwsh: PwshSession | undefined;
  beforeAll(async () => {
    pwsh = await startRemotingPwsh();
  }, 60_000);
  afterAll(async () => {
    await pwsh?.close();
  });
  return () => {
    if (pwsh === undefined) throw new Error("the remoting pwsh has not started");
    return pwsh;
  };
}
