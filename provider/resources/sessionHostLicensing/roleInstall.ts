/**
 * installRole: give a session host the RD Session Host role in the middle of one create or update, so
 * that its licensing settings mean something (README.md, "The RD Session Host role").
 *
 *   1. role.ps1: Install-WindowsFeature RDS-RD-Server (unless already installed and waiting for a
 *      restart); it returns the host's LastBootUpTime, the boot the restart must end.
 *   2. restart.ps1: Restart-Computer -Force. Windows may take the session down before the answer is
 *      back: a lost or unreachable session here is the restart under way, not a failure.
 *   3. The warm session is dropped (the restart ended it; runner.ts reconnectSession): the next
 *      operation opens a new one.
 *   4. boot.ps1, polled every few seconds within a bound: the host is back once it answers from a NEW
 *      boot (a host still shutting down answers from the old one), and the role must be there then.
 *
 * Progress lines (`[rds] <host>: ...`): the install's start and end, then the restart's wait: one line
 * per attempt that found the host down, and the line that says it is back and reconnected.
 */
import { ErrorCode, isRdsError, type RdsError } from "../../errors";
import { trackStep } from "../../progress";
import { delay } from "../../powershell/pool/processes";
import { reconnectSession } from "../../powershell/runner";
import type { Connection } from "../../powershell/transport";
import type { ResourceKit } from "../kit";
import { operationTimeout } from "../timeouts";
import * as msg from "./messages";
import { bootResultSchema, restartResultSchema, roleResultSchema, type BootResult } from "./schema";

/** The operations of the role install (the scripts role.ps1, restart.ps1, boot.ps1). */
export type RoleOp = "role" | "restart" | "boot";

/** How long a host may take to come back from its restart: a Windows Server restart takes minutes. */
export const RESTART_WAIT_MS = 20 * 60_000;

/** How long one boot.ps1 attempt may take (a host half up can hang a connect). */
export const BOOT_PROBE_TIMEOUT_MS = 60_000;

/** Seconds between two attempts to reach the restarting host: `$RDS_RESTART_POLL_SECONDS`, else 5. */
export function restartPollMs(): number {
  const raw = process.env.RDS_RESTART_POLL_SECONDS;
  const seconds = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(50, Math.round(seconds * 1000)) : 5_000;
}

/**
 * Codes that mean "the host is not (fully) up yet" while it restarts: it does not answer, the session
 * dropped, a service of the connect or the Terminal Services WMI provider is not running yet.
 */
const NOT_BACK_YET: ReadonlySet<string> = new Set([
  ErrorCode.HostUnreachable,
  ErrorCode.ConnectionLost,
  ErrorCode.PortClosed,
  ErrorCode.ConnectTimeout,
  ErrorCode.Timeout,
  ErrorCode.RemotingNotEnabled,
  ErrorCode.ClassNotReady,
  ErrorCode.NotFound,
]);

/**
 * Codes of restart.ps1 that still mean "the restart is under way": Windows took the session down mid-call
 * (a script error too: the shutdown may stop the pipeline under the script), unless the script said that
 * Restart-Computer itself failed (RESTART_FAILED).
 */
const RESTART_UNDER_WAY: ReadonlySet<string> = new Set([...NOT_BACK_YET, ErrorCode.ScriptError]);
const RESTART_FAILED = "RESTART_FAILED";

function notBackYet(err: unknown): err is RdsError {
  return isRdsError(err) && NOT_BACK_YET.has(err.code);
}

/** What the role install needs of the resource: its kit (steps, messages, progress). */
export interface RoleInstallDeps {
  readonly kit: ResourceKit<RoleOp>;
}

/**
 * Installs the RD Session Host role, restarts the host, reconnects and waits for it to be back with the
 * role. Throws (nothing about licensing has changed) when the install fails, the host does not come
 * back in time, or the role is still missing after the restart.
 */
export async function installSessionHostRole(deps: RoleInstallDeps, connection: Connection): Promise<void> {
  const { kit } = deps;
  const host = connection.host;
  const installed = await kit.run(connection, {
    op: "role",
    name: msg.ROLE_OPERATION,
    doing: "installing the RD Session Host role",
    args: {},
    result: roleResultSchema,
    progress: { done: (r) => (r.installedNow ? (r.restartNeeded ? "done (Windows asks for a restart)" : "done") : undefined) },
  });
  await restart(kit, connection);
  const back = await waitUntilBack(connection, installed.lastBootUpTime, (c) =>
    kit.run(c, { op: "boot", doing: "checking the host after its restart", args: {}, result: bootResultSchema }),
  );
  if (back.terminalServerMode !== 1) throw msg.sessionHostRoleStillMissing(host);
}

async function restart(kit: ResourceKit<RoleOp>, connection: Connection): Promise<void> {
  try {
    await kit.run(connection, {
      op: "restart",
      doing: "restarting the host to finish the RD Session Host role install",
      args: {},
      result: restartResultSchema,
    });
  } catch (err) {
    if (!(isRdsError(err) && RESTART_UNDER_WAY.has(err.code) && err.scriptCode !== RESTART_FAILED)) throw err;
  }
}

/**
 * Polls until the host answers from a boot other than `bootBefore`; drops the warm session first (the
 * restart ended it), and again when an attempt finds a session lost. Bounded by
 * RESTART_WAIT_MS (`$RDS_OPERATION_TIMEOUT_MS` replaces it, as it does every operation timeout).
 */
export async function waitUntilBack(
  connection: Connection,
  bootBefore: string | null,
  probe: (connection: Connection) => Promise<BootResult>,
  clock: { now: () => number; sleep: (ms: number) => Promise<void> } = { now: Date.now, sleep: delay },
): Promise<BootResult> {
  const host = connection.host;
  const progress = trackStep(host, "restarting to finish the RD Session Host role install", { announce: true });
  const bound = operationTimeout(RESTART_WAIT_MS);
  const started = clock.now();
  let lastCause = "no answer yet";
  await reconnectSession(connection);
  for (let attempt = 1; ; attempt++) {
    try {
      const boot = await probe({ ...connection });
      if (bootBefore === null || boot.lastBootUpTime !== bootBefore) {
        progress.done(`back after ${attempt} attempt${attempt > 1 ? "s" : ""}, reconnected (a new session)`);
        return boot;
      }
      lastCause = "the host still answers from before the restart";
      progress.note(`attempt ${attempt}: not restarted yet`);
    } catch (err) {
      if (!notBackYet(err)) {
        progress.failed();
        throw err;
      }
      lastCause = err.code;
      progress.note(`attempt ${attempt}: not back yet (${err.code})`);
      // A session that was still open from before the restart is dead: the next attempt opens a new one.
      if (err.code === ErrorCode.ConnectionLost) await reconnectSession(connection);
    }
    const waited = clock.now() - started;
    if (waited >= bound) {
      progress.failed();
      throw msg.restartTimedOut(host, waited, lastCause);
    }
    await clock.sleep(Math.min(restartPollMs(), Math.max(bound - waited, 1)));
  }
}
