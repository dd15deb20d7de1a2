/**
 * A simulated host that restarts, through the real runner and pool: after Restart-Computer the host does
 * not answer (RDS_HOST_UNREACHABLE, as a restarting Windows host) for its restartSeconds, then answers
 * from a new boot; a session of its own opened before the restart is dead after it (RDS_CONNECTION_LOST)
 * until the pool drops it (runner.ts reconnectSession, counted in poolStats().reconnects) and opens a new
 * one. Attempts are counted, never timed.
 *
 * Real: pwsh 7, the runner and the pool, the simulator transport (SimulatorInit.ps1 and its operation
 * invokers), the emulator (Restart-Computer, the restart state), RdsSessionHostLicensing's restart.ps1
 * and boot.ps1.
 * Stands in: Windows (the emulator; restartSeconds 2), the administrator who sets it
 * (../resources/sessionHostLicensing/fixtures/SimAdmin.ps1 through the runner).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { ErrorCode, isRdsError, type RdsError } from "../../provider/errors";
import { providerFile } from "../../provider/paths";
import { closeAll, configurePool, poolOptions, poolStats } from "../../provider/powershell/pool";
import { reconnectSession, runOperation } from "../../provider/powershell/runner";
import { transportFor, type Connection } from "../../provider/powershell/transport";
import { setHostConfig } from "../resources/sessionHostLicensing/simAdmin";

jest.setTimeout(300_000);

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-restart-"));
const workersBefore = poolOptions().simulatorWorkers;

afterAll(async () => {
  configurePool({ simulatorWorkers: workersBefore });
  await closeAll();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const conn = (host: string): Connection => ({ transport: "simulator", host, stateDir });
const bootSchema = z.object({ lastBootUpTime: z.string().nullable(), terminalServerMode: z.number().nullable() });

const boot = (host: string) =>
  runOperation(conn(host), {
    name: "test.boot",
    script: providerFile("resources/sessionHostLicensing/boot.ps1"),
    args: {},
    result: bootSchema,
  });
const restart = (host: string) =>
  runOperation(conn(host), {
    name: "test.restart",
    script: providerFile("resources/sessionHostLicensing/restart.ps1"),
    args: {},
    result: z.object({ requested: z.boolean() }),
  });

async function failureOf(p: Promise<unknown>): Promise<RdsError | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => {
      if (!isRdsError(e)) throw e;
      return e;
    },
  );
}

/** Tries `attempt` every 0.3 s until it stops failing with `code`; returns the attempts made and the last outcome. */
async function until<T>(attempt: () => Promise<T>, code: string): Promise<{ attempts: number; error?: RdsError; value?: T }> {
  for (let attempts = 1; attempts <= 200; attempts++) {
    try {
      return { attempts, value: await attempt() };
    } catch (e) {
      if (!isRdsError(e) || e.code !== code) return { attempts, error: isRdsError(e) ? e : undefined };
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`still ${code} after 200 attempts`);
}

test("shared workers: the restarting host is unreachable, then answers from a new boot", async () => {
  const host = "sh-restart-shared.contoso.com";
  await setHostConfig(stateDir, host, { restartSeconds: 2 });
  const before = await boot(host);
  await restart(host);
  const down = await failureOf(boot(host));
  expect(down?.code).toBe(ErrorCode.HostUnreachable);
  expect(down?.message).toContain(`${host} does not answer: it is restarting`);
  const back = await until(() => boot(host), ErrorCode.HostUnreachable);
  expect(back.value?.lastBootUpTime).not.toBe(before.lastBootUpTime);
});

test("a session of its own: dead after the restart until the pool drops it; the new one reaches the host", async () => {
  configurePool({ simulatorWorkers: 0 });
  const host = "sh-restart-own.contoso.com";
  const key = transportFor(conn(host)).targetKey(conn(host));
  await setHostConfig(stateDir, host, { restartSeconds: 2 });
  const before = await boot(host); // opens the host's own session
  await restart(host);
  // While the host is away, and once it is back: the old session never reaches it again.
  const stale = await until(() => boot(host), ErrorCode.HostUnreachable);
  expect(stale.error?.code).toBe(ErrorCode.ConnectionLost);
  expect(stale.error?.message).toContain(`the session to ${host} was closed by the host's restart`);
  const startedBefore = poolStats().started;
  await reconnectSession(conn(host));
  const after = await boot(host);
  expect(after.lastBootUpTime).not.toBe(before.lastBootUpTime);
  expect(poolStats().reconnects[key]).toBe(1);
  expect(poolStats().started).toBeGreaterThan(startedBefore);
});
