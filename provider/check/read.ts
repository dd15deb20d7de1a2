/**
 * Reads the farm once, read-only: license server get.ps1 (activation, the AD group, CAL usage with the
 * key pack listing) and session host get.ps1 (mode, license servers, policy, connectivity) on every host. Every
 * script runs through the runner and the process's pool: warm sessions, all hosts in parallel within
 * the pool's cap. No script that writes is ever named here (test/check asserts that a check leaves every
 * host's state as it was). Per-user CAL counts exist only in per-user reports: get.ps1 is asked to read the
 * newest one already on the server (perUserReport "existing") and to make none.
 *
 * A host that cannot be read is an outcome, not an exception: the report names it and the exit is 2.
 */
import { ErrorCode, isRdsError, withCodeSuffix } from "../errors";
import { providerFile } from "../paths";
import { DEFAULT_TIMEOUT_MS, runOperation } from "../powershell/runner";
import { licenseServerReadSchema, sessionHostReadSchema, type LicenseServerRead, type SessionHostRead } from "./facts";
import type { CheckPlan, Target } from "./inventory";

/** What went wrong reading a host: the stable code and the message (never a secret: runner errors carry none). */
export interface ReadFailure {
  code: string;
  message: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ReadFailure };

export interface FarmRead {
  licenseServer: { target: Target; outcome: Outcome<LicenseServerRead> };
  sessionHosts: { target: Target; outcome: Outcome<SessionHostRead> }[];
}

async function outcome<T>(work: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (e) {
    const code = isRdsError(e) ? e.code : ErrorCode.Internal;
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, error: { code, message: withCodeSuffix(message, code) } };
  }
}

function readLicenseServer(target: Target): Promise<LicenseServerRead> {
  return runOperation(target.connection, {
    name: "licenseServer.read",
    script: providerFile("resources/licenseServer/get.ps1"),
    // Read-only: the per-user usage from the reports already on the server; check makes none.
    args: { perUserReport: "existing" },
    result: licenseServerReadSchema,
    timeoutMs: DEFAULT_TIMEOUT_MS,
  });
}

function readSessionHost(target: Target): Promise<SessionHostRead> {
  return runOperation(target.connection, {
    name: "sessionHostLicensing.read",
    script: providerFile("resources/sessionHostLicensing/get.ps1"),
    args: { scope: "sessionHost" },
    result: sessionHostReadSchema,
    timeoutMs: DEFAULT_TIMEOUT_MS,
  });
}

/** Every host at once; the pool queues what does not fit under its cap. */
export async function readFarm(plan: CheckPlan): Promise<FarmRead> {
  const [ls, ...hosts] = await Promise.all([
    outcome(() => readLicenseServer(plan.licenseServer)),
    ...plan.sessionHosts.map((t) => outcome(() => readSessionHost(t))),
  ]);
  return {
    licenseServer: { target: plan.licenseServer, outcome: ls as Outcome<LicenseServerRead> },
    sessionHosts: plan.sessionHosts.map((target, i) => ({ target, outcome: hosts[i] as Outcome<SessionHostRead> })),
  };
}
