/**
 * The real dynamic-provider host with the command tap preloaded (test/resources/calPack/fixtures/
 * commandTap.js logs every command the pool sends to pwsh into `commandLog`), on the given simulator
 * state and install journal directories. Used where a test must see what reached pwsh.
 */
import * as path from "path";
import { PROJECT_ROOT, startProviderHost, type ProviderHost } from "./providerHost";

export function startCommandTappedHost(dirs: { stateDir: string; journalDir: string; commandLog: string }): Promise<ProviderHost> {
  return startProviderHost({
    env: {
      RDS_SIM_STATE_DIR: dirs.stateDir,
      RDS_JOURNAL_DIR: dirs.journalDir,
      RDS_TEST_COMMAND_LOG: dirs.commandLog,
      NODE_OPTIONS: `--require ${path.join(PROJECT_ROOT, "test", "resources", "calPack", "fixtures", "commandTap.js")}`,
    },
  });
}
