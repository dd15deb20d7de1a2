/**
 * Starting a session for a target: find the shell, spawn it, load Bootstrap.ps1 (which reports the
 * real pwsh pid), run the transport's preamble, bind the target (connect.ts). A failure kills the
 * half-started pwsh and becomes one typed error.
 */
import { z } from "zod";
import { ErrorCode, RdsError, isRdsError } from "../../errors";
import { providerFile } from "../../paths";
import { quotePowerShellLiteral } from "../envelope";
import { PWSH_INSTALL_HINT, findPwsh } from "../executable";
import { CallContext, errorFromDocument } from "../result";
import { CONNECT_OPERATION, bindTarget, hostUnreachable } from "./connect";
import { startRemoteShellSession } from "./remoteShell";
import type { Session } from "./session";
import type { Shell } from "./shell";
import { suffix } from "./startupCrash";
import type { TargetSpec } from "./target";
import type { PoolTelemetry } from "./telemetry";

/** What starting a session needs from the pool that owns it. */
export interface SessionStarter {
  readonly telemetry: PoolTelemetry;
  startupTimeoutMs(): number;
  /** Spawns a pwsh for `key` and counts it under the cap from now on. */
  spawn(key: string, executable: string): Session;
  /** Counts an already started shell (the exec channel's ssh client) under the cap, as a session of `key`. */
  adopt(key: string, shell: Shell): Session;
  /** A session that failed to start was killed: stop counting it. */
  discard(session: Session): void;
}

const sessionInfoSchema = z.object({ pid: z.number().int().positive(), psVersion: z.string() });

/**
 * Starts and binds a pwsh for `spec`. `spawned` runs once the process exists (the caller releases its
 * cap slot there). A transport whose session is the target's own PowerShell (`remoteShell`) opens
 * that instead (remoteShell.ts); `phase` says whether it replaces a session that was lost.
 */
export async function startSession(
  starter: SessionStarter,
  spec: TargetSpec,
  spawned: () => void = () => undefined,
  phase: "connect" | "reconnect" = "connect",
): Promise<Session> {
  const remote = spec.transport.remoteShell?.(spec.connection);
  if (remote !== undefined) return startRemoteShellSession(starter, spec, remote, phase, spawned);
  const lookup = spec.transport.executable ? spec.transport.executable(spec.connection) : findPwsh();
  if (!lookup.found) {
    if (lookup.unavailable) {
      throw new RdsError(ErrorCode.TransportUnavailable, `starting a shell for ${spec.host}: ${lookup.reason}`, {
        host: spec.host,
        operation: "session.start",
      });
    }
    throw hostUnreachable(spec, `${lookup.reason}; ${PWSH_INSTALL_HINT}`);
  }

  const session = starter.spawn(spec.key, lookup.path);
  spawned();
  session.ref();
  const startupTimeoutMs = starter.startupTimeoutMs();
  const deadline = Date.now() + startupTimeoutMs;
  const remaining = () => Math.max(deadline - Date.now(), 1);
  const ctx: CallContext = { host: spec.host, operation: "session.start" };

  try {
    const bootstrap = providerFile("powershell/Bootstrap.ps1");
    const hello = await session.sendForDocument(`. ${quotePowerShellLiteral(bootstrap)}; Write-RdsSessionInfo`, remaining(), ctx);
    if (!hello.document.ok) throw errorFromDocument(hello.document.error, ctx);
    const info = sessionInfoSchema.safeParse(hello.document.result);
    if (!info.success) throw hostUnreachable(spec, "pwsh did not report its process id after loading Bootstrap.ps1");
    session.pwshPid = info.data.pid;

    for (const command of spec.transport.preamble(spec.connection)) {
      const step = await session.sendForDocument(command, remaining(), ctx);
      if (!step.document.ok) throw errorFromDocument(step.document.error, ctx);
    }

    await bindTarget(session, spec, "connect", deadline, starter.telemetry);
    return session;
  } catch (err) {
    const diedOnItsOwn = session.exited;
    await session.kill();
    starter.discard(session);
    // Connect failures of remote transports are already typed and worded (connect.ts).
    if (isRdsError(err) && err.operation === CONNECT_OPERATION && !diedOnItsOwn) throw err;
    throw startupError(spec, err, session, diedOnItsOwn, startupTimeoutMs);
  }
}

/** Startup failures are RDS_HOST_UNREACHABLE unless the init reported something more specific (access denied). */
function startupError(spec: TargetSpec, err: unknown, session: Session, diedOnItsOwn: boolean, startupTimeoutMs: number): RdsError {
  const stderr = session.recentStderr() || undefined;
  if (diedOnItsOwn) {
    return hostUnreachable(spec, `pwsh exited while starting (${session.exitDescription()})${suffix(session.startupCrash())}`, {
      stderr,
      cause: err,
    });
  }
  if (isRdsError(err)) {
    if (err.code === ErrorCode.Timeout) {
      return hostUnreachable(spec, `pwsh did not start within ${startupTimeoutMs} ms`, { stderr, cause: err });
    }
    const generic: string[] = [ErrorCode.ScriptError, ErrorCode.InvalidResult, ErrorCode.HostUnreachable];
    if (!generic.includes(err.code)) return err;
    const cause = err.message.replace(/^[^:]*: /, "");
    return hostUnreachable(spec, cause, { stderr: err.stderr ?? stderr, cause: err });
  }
  return hostUnreachable(spec, (err as Error)?.message ?? String(err), { stderr, cause: err });
}
