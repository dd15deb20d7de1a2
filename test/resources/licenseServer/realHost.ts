/**
 * Test helper (not a test file): the setup the RdsLicenseServer files through the REAL dynamic-provider host
 * share (provider.test.ts, group.provider.test.ts). A temporary emulator state directory for the file and
 * the program on it (program.ts); the host process (@pulumi/pulumi cmd/dynamic-provider loading the built
 * provider in bin/) started before the tests, after the build check, and closed after them with the warm
 * pwsh of this process; an engine over it; a fresh emulated host for a test.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../../provider/powershell/pool";
import type { Connection } from "../../../provider/powershell/transport";
import { createEngine, type Engine } from "../../helpers/engine";
import { assertBuilt, startProviderHost, type ProviderHost } from "../../helpers/providerHost";
import { LS, programFor } from "./program";
import { simAdmin } from "./simAdmin";

/** What the host loads from bin/: the resource, the shim and what it reaches, the runner. */
const BUILT = ["provider/resources/licenseServer", "provider/shim.ts", "provider/diff.ts", "provider/check.ts", "provider/powershell"];

/**
 * Registers the host's start and stop as beforeAll/afterAll hooks: call it at the top level of the test file.
 * `whileHostStarts` (given LS's connection) begins work that overlaps the host's own pwsh start; it runs
 * after the build check, before the host is awaited.
 */
export function useRealProviderHost(dirPrefix: string, whileHostStarts?: (connection: Connection) => void) {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  const declarations = programFor(stateDir);
  let host: ProviderHost | undefined;

  beforeAll(async () => {
    assertBuilt(BUILT);
    whileHostStarts?.(declarations.conn());
    host = await startProviderHost();
  });

  afterAll(async () => {
    await host?.close();
    await closeAll();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  /** An engine (empty state) over the real host; only inside tests (the host starts in beforeAll). */
  function newEngine(): Engine {
    if (!host) throw new Error("the provider host starts in beforeAll: make engines in tests");
    return createEngine(host);
  }

  /** A fresh emulated host (Reset-RdsSim): created again with defaults (no role) on first use. Its admin functions. */
  async function fresh(hostName = LS) {
    const admin = simAdmin(declarations.conn(hostName));
    await admin.reset();
    return admin;
  }

  return { stateDir, ...declarations, newEngine, fresh };
}
