/**
 * Test helper (not a test file): the plumbing the RdsLicenseServer script suites (scripts.test.ts,
 * usage.scripts.test.ts) share. Each file gets its own temporary emulator state directory and fresh
 * simulated hosts on it; an operation script runs as the provider runs it (runOperation: envelope file,
 * warm pwsh pool, result validated with the script's zod schema, typed RdsErrors); a failing one hands
 * back its typed error.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { z } from "zod";
import { isRdsError, type RdsError } from "../../../provider/errors";
import { providerFile } from "../../../provider/paths";
import { closeAll } from "../../../provider/powershell/pool";
import { runOperation } from "../../../provider/powershell/runner";
import type { Connection } from "../../../provider/powershell/transport";
import {
  activateResultSchema,
  deactivateResultSchema,
  getResultSchema,
  groupResultSchema,
  setResultSchema,
  waitResultSchema,
} from "../../../provider/resources/licenseServer/schema";
import { scriptConnection } from "../../helpers/scriptConnection";
import { simAdmin } from "./simAdmin";

/**
 * Registers the file's state directory (made before its tests; removed, with every warm pwsh of this
 * process closed, after them) as beforeAll/afterAll hooks: call it at the top level of the test file,
 * where the file's own hooks used to be, so the hook order stays the same.
 */
export function useScriptHosts(dirPrefix: string) {
  let stateDir: string | undefined;

  beforeAll(() => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  });

  afterAll(async () => {
    await closeAll();
    if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  });

  /** The state directory; only inside hooks and tests (it is made in beforeAll). */
  function currentStateDir(): string {
    if (!stateDir) throw new Error("the state directory is made in beforeAll: use it in a test");
    return stateDir;
  }

  /**
   * A fresh simulated host for each test: the emulator forgets the host (Reset-RdsSim) and creates it again
   * with defaults on first use (domain contoso.com, no role). The names are reused so each keeps its warm pwsh.
   * The connection is the suite's transport (the simulator, or ssh when a test/transports suite requires the file).
   */
  async function newHost(prefix = "ls"): Promise<Connection> {
    const c: Connection = scriptConnection(`${prefix}.contoso.com`, currentStateDir());
    await simAdmin(c).reset();
    return c;
  }

  return { stateDir: currentStateDir, newHost };
}

/** provider/resources/licenseServer/<name>.ps1 on `connection`, run as the provider runs it. */
export function runScript<T>(
  connection: Connection,
  name: string,
  args: Record<string, unknown>,
  result: z.ZodType<T>,
  timeoutMs?: number,
) {
  return runOperation(connection, {
    name: `licenseServer.${name}`,
    script: providerFile(`resources/licenseServer/${name}.ps1`),
    args,
    result,
    timeoutMs,
  });
}

// The scripts the suites call alike, with the arguments the provider sends. install.ps1 is not here: each
// suite sends its own arguments (scripts.test.ts without requireDomain, as callers from before
// addToLicenseServersGroup; usage.scripts.test.ts with it).
export const wait = (c: Connection, timeoutSeconds = 30, firstPollMs = 20, maxPollMs = 200) =>
  runScript(c, "wait", { timeoutSeconds, firstPollMs, maxPollMs }, waitResultSchema, (timeoutSeconds + 30) * 1000);
export const get = (c: Connection) => runScript(c, "get", {}, getResultSchema);
export const set = (c: Connection, contact: Record<string, string> | null, serverRole: number | null = null) =>
  runScript(c, "set", { contact, serverRole }, setResultSchema);
export const activate = (c: Connection, call: string, licenseServerId: string | null = null) =>
  runScript(c, "activate", { call, licenseServerId }, activateResultSchema);
export const deactivate = (c: Connection) => runScript(c, "deactivate", {}, deactivateResultSchema);
export const group = (c: Connection) => runScript(c, "group", {}, groupResultSchema);

/** The typed error an operation that must fail ends with (anything else fails the test). */
export async function errorOf(promise: Promise<unknown>): Promise<RdsError> {
  try {
    await promise;
  } catch (e) {
    if (isRdsError(e)) return e;
    throw new Error(`expected an RdsError, got ${String(e)}`);
  }
  throw new Error("expected the operation to fail, but it succeeded");
}

/** What get.ps1 answers on a host without the RDS-Licensing role: no server, none of its facts. */
export const GET_WITHOUT_ROLE = {
  roleInstalled: false,
  serviceStatus: "",
  classReady: false,
  server: null,
  licenseServersGroup: null,
  calUsage: null,
} as const;
