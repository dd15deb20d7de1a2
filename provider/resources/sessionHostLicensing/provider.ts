/**
 * RdsSessionHostLicensing operations: check, diff, create, read, update, delete (see README.md).
 *
 * Flow of create and update (DSC Get/Test/Set):
 *   1. get.ps1 on the target: the whole live state (mode, list, where each comes from, Group Policy
 *      values, grace days, OS, domain membership).
 *   2. pre-flight, before anything changes: the mode-vs-CALs rule against the LIVE packs (packs.ps1 on
 *      each pack's license server) and the live host facts (RDS_MODE_MISMATCH), then Group Policy
 *      (RDS_GROUP_POLICY_CONFLICT when a policy contradicts the desired value).
 *   3. set.ps1 with only what differs (mode and/or list), then get.ps1 again for the outputs.
 */
import type * as pulumi from "@pulumi/pulumi";
import { checkWithSchema, containsUnknown, UNKNOWN } from "../../check";
import { compare } from "../../diff";
import { ErrorCode, RdsError, isRdsError } from "../../errors";
import { providerFile } from "../../paths";
import { runOperation } from "../../powershell/runner";
import { DEFAULT_TIMEOUT_MS } from "../../powershell/runner";
import type { Connection } from "../../powershell/transport";
import { unwrapSecrets, wrapSecrets } from "../secrets";
import { operationTimeout } from "../timeouts";
import {
  calTypeFromProductType,
  calVersionFromProductVersionId,
  evaluateModeAgainstCals,
  isCalVersion,
  isMode,
  licensingTypeFor,
  modeFromLicensingType,
  modeFromRdmsMode,
  modeLabel,
  modeMismatchMessage,
  osVersionFromWindows,
  parsePolicyServerList,
  sameServerList,
  type Mode,
  type ModeRuleInput,
  type PackFact,
} from "./rules";
import {
  argsSchema,
  DIFF_SPEC,
  getResultSchema,
  packsResultSchema,
  resetResultSchema,
  setResultSchema,
  type GetResult,
  SECRET_OUTPUTS,
  type SessionHostLicensingInputs,
  type SessionHostLicensingOutputs,
  type Source,
} from "./schema";

const OP = "sessionHostLicensing";
const script = (name: string) => providerFile(`resources/sessionHostLicensing/${name}.ps1`);

/** Where the GPO lives, for messages (reference 7.1). */
export const POLICY_REGISTRY_KEY = "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services";
export const POLICY_GPO_PATH =
  "Computer Configuration > Administrative Templates > Windows Components > Remote Desktop Services > Remote Desktop Session Host > Licensing";

/** WBEM_E_INVALID_OPERATION: what the WMI setters return for a setting Group Policy controls (reference 5.4). */
const WBEM_E_INVALID_OPERATION = 0x80041016;

/** The live state, interpreted. */
export interface LiveState {
  raw: GetResult;
  serverName: string;
  effectiveMode: string;
  effectiveLicenseServers: string[];
  modeSource: Source;
  licenseServersSource: Source;
  /** The policy's own values, when a policy sets them. */
  policyMode: number | null;
  policyLicenseServers: string[] | null;
  gracePeriodDaysLeft: number | null;
  osVersion: string;
  domainJoined: boolean | null;
}

/** get.ps1's result as the outputs see it: Group Policy wins over the local (WMI) values. */
export function interpret(raw: GetResult): LiveState {
  const osVersion = osVersionFromWindows(raw.os) ?? "";
  if (raw.scope === "deployment") {
    return {
      raw,
      serverName: raw.serverName,
      effectiveMode: modeFromRdmsMode(raw.rdmsMode),
      effectiveLicenseServers: raw.licenseServers,
      modeSource: "deployment",
      licenseServersSource: "deployment",
      policyMode: null,
      policyLicenseServers: null,
      gracePeriodDaysLeft: raw.gracePeriodDaysLeft,
      osVersion,
      domainJoined: raw.partOfDomain,
    };
  }
  const policyMode = raw.policy.licensingMode;
  const policyList = raw.policy.licenseServers === null ? null : parsePolicyServerList(raw.policy.licenseServers);
  const modeByPolicy = policyMode !== null || raw.policySourceLicensingType === 1;
  const listByPolicy = policyList !== null || raw.policySourceConfiguredLicenseServers === 1;
  return {
    raw,
    serverName: raw.serverName,
    effectiveMode: modeFromLicensingType(policyMode ?? raw.licensingType),
    effectiveLicenseServers: policyList ?? raw.licenseServers,
    modeSource: modeByPolicy ? "groupPolicy" : "local",
    licenseServersSource: listByPolicy ? "groupPolicy" : "local",
    policyMode,
    policyLicenseServers: policyList,
    gracePeriodDaysLeft: raw.gracePeriodDaysLeft,
    osVersion,
    domainJoined: raw.partOfDomain,
  };
}

/** What set.ps1 must change: only what differs and is not controlled by Group Policy. */
export interface Plan {
  mode: Mode | null;
  licenseServers: string[] | null;
}

export function planChanges(args: SessionHostLicensingInputs, live: LiveState): Plan {
  const mode = live.effectiveMode === args.mode || live.modeSource === "groupPolicy" ? null : args.mode;
  const list =
    sameServerList(live.effectiveLicenseServers, args.licenseServers) || live.licenseServersSource === "groupPolicy"
      ? null
      : args.licenseServers;
  return { mode, licenseServers: list };
}

/** RDS_GROUP_POLICY_CONFLICT when a policy sets a value that contradicts the desired one; null otherwise. */
export function groupPolicyConflict(args: SessionHostLicensingInputs, live: LiveState): RdsError | null {
  if (args.scope === "deployment") return null;
  const host = live.serverName || args.connection.host;
  const parts: string[] = [];
  const fixes: string[] = [];
  if (live.modeSource === "groupPolicy" && live.effectiveMode !== args.mode) {
    const value = live.policyMode ?? live.raw.licensingType;
    parts.push(
      `a Group Policy controls the licensing mode and sets ${live.effectiveMode} (LicensingMode = ${value}) while mode ${args.mode} is declared`,
    );
    fixes.push(
      `change or remove the policy "Set the Remote Desktop licensing mode" (${POLICY_GPO_PATH}; registry ${POLICY_REGISTRY_KEY}, value LicensingMode = ${licensingTypeFor(args.mode)} for ${modeLabel(args.mode)})` +
        (isMode(live.effectiveMode) ? `, or declare mode "${live.effectiveMode}" to match it` : ""),
    );
  }
  if (live.licenseServersSource === "groupPolicy" && !sameServerList(live.effectiveLicenseServers, args.licenseServers)) {
    parts.push(
      `a Group Policy controls the license server list and sets [${live.effectiveLicenseServers.join(", ")}] while [${args.licenseServers.join(", ")}] is declared`,
    );
    fixes.push(
      `change or remove the policy "Use the specified Remote Desktop license servers" (${POLICY_GPO_PATH}; registry ${POLICY_REGISTRY_KEY}, value LicenseServers = "${args.licenseServers.join(",")}"), or declare licenseServers to match it`,
    );
  }
  if (parts.length === 0) return null;
  return new RdsError(
    ErrorCode.GroupPolicyConflict,
    `configuring licensing on ${host}: ${parts.join("; ")}; Group Policy wins over WMI, so nothing was changed (this provider never writes policy keys); to fix: ${fixes.join("; ")}`,
    // Found by the pre-flight check, before any set: the operation that refused is the check.
    { host, operation: `${OP}.check` },
  );
}

function connectionKey(c: Connection): string {
  return JSON.stringify(c, Object.keys(c).sort());
}

/** The packs as they are on their license servers (one packs.ps1 per license server). */
async function livePacks(args: SessionHostLicensingInputs): Promise<PackFact[] | undefined> {
  if (args.calPacks === undefined) return undefined;
  const byServer = new Map<string, { connection: Connection; ids: number[]; name: string }>();
  for (const ref of args.calPacks) {
    const key = connectionKey(ref.licenseServerConnection);
    const group = byServer.get(key) ?? { connection: ref.licenseServerConnection, ids: [], name: ref.licenseServerName };
    group.ids.push(ref.keyPackId);
    byServer.set(key, group);
  }
  const facts: PackFact[] = [];
  for (const group of byServer.values()) {
    const result = await runOperation(group.connection, {
      name: `${OP}.packs`,
      script: script("packs"),
      args: { keyPackIds: group.ids },
      result: packsResultSchema,
      timeoutMs: operationTimeout(DEFAULT_TIMEOUT_MS),
    });
    const where = group.name || result.serverName || group.connection.host;
    for (const id of group.ids) {
      const pack = result.packs.find((p) => p.keyPackId === id);
      if (!pack) {
        facts.push({ keyPackId: id, found: false, licenseServer: where });
        continue;
      }
      facts.push({
        keyPackId: id,
        found: true,
        calType: calTypeFromProductType(pack.productType),
        productVersion: calVersionFromProductVersionId(pack.productVersionId),
        availableLicenses: pack.availableLicenses,
        licenseServer: where,
      });
    }
  }
  return facts;
}

/** The pre-flight: the mode rule against the live packs and host, then Group Policy. Throws; changes nothing. */
async function preflight(args: SessionHostLicensingInputs, live: LiveState): Promise<void> {
  const host = live.serverName || args.connection.host;
  const input: ModeRuleInput = {
    host,
    mode: args.mode,
    osVersion: live.osVersion === "" ? null : (live.osVersion as ModeRuleInput["osVersion"]),
    domainJoined: live.domainJoined,
    packs: await livePacks(args),
  };
  const verdict = evaluateModeAgainstCals(input);
  if (!verdict.ok) {
    throw new RdsError(ErrorCode.ModeMismatch, modeMismatchMessage(input, verdict), { host, operation: `${OP}.check` });
  }
  const conflict = groupPolicyConflict(args, live);
  if (conflict) throw conflict;
}

async function readLive(args: Pick<SessionHostLicensingInputs, "connection" | "scope">): Promise<LiveState> {
  const raw = await runOperation(args.connection, {
    name: `${OP}.read`,
    script: script("get"),
    args: { scope: args.scope },
    result: getResultSchema,
    timeoutMs: operationTimeout(DEFAULT_TIMEOUT_MS),
  });
  return interpret(raw);
}

function toOutputs(args: SessionHostLicensingInputs, live: LiveState): SessionHostLicensingOutputs {
  return {
    ...args,
    serverName: live.serverName,
    effectiveMode: live.effectiveMode,
    effectiveLicenseServers: live.effectiveLicenseServers,
    modeSource: live.modeSource,
    licenseServersSource: live.licenseServersSource,
    gracePeriodDaysLeft: live.gracePeriodDaysLeft,
    osVersion: live.osVersion,
    domainJoined: live.domainJoined,
  };
}

function resourceId(args: Pick<SessionHostLicensingInputs, "connection" | "scope">): string {
  return `${args.scope}:${args.connection.host}`;
}

function parseInputs(news: Record<string, unknown>): SessionHostLicensingInputs {
  const { __provider, ...rest } = news as Record<string, unknown> & { __provider?: unknown };
  void __provider;
  return argsSchema.parse(rest);
}

/**
 * Reads, checks, sets only what differs, reads again. On a failure after set.ps1 may have changed
 * something, throws the partial-success shape `{id, properties, reasons, message}` with what is live.
 */
async function converge(
  id: string,
  args: SessionHostLicensingInputs,
  mustCheck: boolean,
): Promise<SessionHostLicensingOutputs> {
  const before = await readLive(args);
  const plan = planChanges(args, before);
  const changes = plan.mode !== null || plan.licenseServers !== null;
  // Conflicts with Group Policy are checked even when nothing else would change: the policy is
  // what makes the live value differ from the declared one.
  if (mustCheck || changes || groupPolicyConflict(args, before)) await preflight(args, before);
  if (!changes) return toOutputs(args, before);
  try {
    await runOperation(args.connection, {
      name: `${OP}.set`,
      script: script("set"),
      args: { scope: args.scope, mode: plan.mode, licenseServers: plan.licenseServers },
      result: setResultSchema,
      timeoutMs: operationTimeout(DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    const error = asGroupPolicyError(err, args);
    let after: LiveState | undefined;
    try {
      after = await readLive(args);
    } catch {
      after = undefined;
    }
    const changed =
      after !== undefined &&
      (after.effectiveMode !== before.effectiveMode || !sameServerList(after.effectiveLicenseServers, before.effectiveLicenseServers));
    if (!changed) throw error;
    const message = withCode(error);
    throw { id, properties: wrapSecrets(toOutputs(args, after!), SECRET_OUTPUTS), reasons: [message], message };
  }
  try {
    return toOutputs(args, await readLive(args));
  } catch (err) {
    // set.ps1 changed the host: record it (partial success) with what was just set, so the engine
    // keeps the resource; the next up reads the live state again.
    const message = withCode(err);
    const set: LiveState = {
      ...before,
      effectiveMode: plan.mode ?? before.effectiveMode,
      effectiveLicenseServers: plan.licenseServers ?? before.effectiveLicenseServers,
    };
    throw { id, properties: wrapSecrets(toOutputs(args, set), SECRET_OUTPUTS), reasons: [`${message} (already done: ${plan.mode ? `mode set to ${plan.mode}` : ""}${plan.mode && plan.licenseServers ? "; " : ""}${plan.licenseServers ? "license server list set" : ""})`], message };
  }
}

/**
 * The message of an error that ends a partial success. Only the message of an init failure reaches the
 * engine, so the stable code goes at its end (`... [RDS_ACCESS_DENIED]`), as RdsLicenseServer does.
 */
function withCode(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return isRdsError(err) && !message.endsWith(`[${err.code}]`) ? `${message} [${err.code}]` : message;
}

/** A WBEM_E_INVALID_OPERATION from a setter means Group Policy took the setting in between. */
function asGroupPolicyError(err: unknown, args: SessionHostLicensingInputs): unknown {
  if (isRdsError(err) && err.code === ErrorCode.Wmi && err.returnValue === WBEM_E_INVALID_OPERATION) {
    return new RdsError(
      ErrorCode.GroupPolicyConflict,
      `configuring licensing on ${args.connection.host}: ${err.method ?? "the WMI setter"} returned WBEM_E_INVALID_OPERATION, which means a Group Policy controls the setting (${POLICY_GPO_PATH}; registry ${POLICY_REGISTRY_KEY}): change or remove the policy, or declare its values`,
      { host: args.connection.host, operation: `${OP}.set`, returnValue: err.returnValue, method: err.method, cause: err },
    );
  }
  return err;
}

// ---- check: the mode rule with what is known before anything runs -------------------------------

/** Mode-vs-CAL failures from the declared packs (calType/productVersion when known; unknowns tolerated). */
export function checkModeAgainstDeclaredPacks(raw: Record<string, unknown>): { property: string; reason: string }[] {
  const mode = raw.mode;
  if (!isMode(mode)) return [];
  const packsRaw = raw.calPacks;
  if (packsRaw === undefined || packsRaw === null || !Array.isArray(packsRaw)) return [];
  const packs: PackFact[] = [];
  for (const entry of packsRaw) {
    if (entry === UNKNOWN) {
      packs.push({});
      continue;
    }
    if (entry === null || typeof entry !== "object") return []; // the schema reports it
    const e = entry as Record<string, unknown>;
    const fact: PackFact = {};
    if (typeof e.keyPackId === "number") fact.keyPackId = e.keyPackId;
    if (isMode(e.calType)) fact.calType = e.calType;
    else if (!containsUnknown(e.calType)) return [];
    if (isCalVersion(e.productVersion)) fact.productVersion = e.productVersion;
    else if (!containsUnknown(e.productVersion)) return [];
    if (typeof e.licenseServerName === "string" && e.licenseServerName !== "") fact.licenseServer = e.licenseServerName;
    packs.push(fact);
  }
  const conn = raw.connection as Record<string, unknown> | undefined;
  const host = conn && typeof conn.host === "string" && conn.host !== UNKNOWN ? conn.host : "the session host";
  const input: ModeRuleInput = { host, mode, packs };
  const verdict = evaluateModeAgainstCals(input);
  if (verdict.ok) return [];
  return [{ property: "mode", reason: `${ErrorCode.ModeMismatch}: ${modeMismatchMessage(input, verdict)}` }];
}

/** The flat view the comparator compares: inputs on one side, state (live values) on the other. */
function diffView(o: Record<string, unknown>, live: boolean): Record<string, unknown> {
  const conn = o.connection;
  const connObj = conn !== null && typeof conn === "object" ? (conn as Record<string, unknown>) : undefined;
  return {
    targetHost: conn === UNKNOWN ? UNKNOWN : connObj?.host,
    transport: conn === UNKNOWN ? UNKNOWN : connObj?.transport,
    scope: o.scope ?? "sessionHost",
    connection: conn,
    mode: live ? o.effectiveMode : o.mode,
    licenseServers: live ? o.effectiveLicenseServers : o.licenseServers,
    calPacks: o.calPacks,
    resetOnDelete: o.resetOnDelete ?? false,
  };
}

export const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Record<string, unknown>, rawNews: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult> {
    const news = unwrapSecrets(rawNews);
    const base = checkWithSchema(argsSchema, news);
    const { __provider, ...raw } = news as Record<string, unknown> & { __provider?: unknown };
    void __provider;
    const extra = checkModeAgainstDeclaredPacks(raw);
    const failures = [...(base.failures ?? []), ...extra];
    // The connection (credentials) and the packs (their license server's connection) stay secret.
    const inputs = wrapSecrets(base.inputs, SECRET_OUTPUTS);
    return failures.length > 0 ? { inputs, failures } : { inputs };
  },

  async diff(_id: string, rawOlds: Record<string, unknown>, rawNews: Record<string, unknown>): Promise<pulumi.dynamic.DiffResult> {
    const olds = unwrapSecrets(rawOlds);
    const news = unwrapSecrets(rawNews);
    const { result } = compare(DIFF_SPEC, diffView(news, false), diffView(olds, true));
    // Replacing with resetOnDelete on the same host: delete (reset) first, or the reset would undo the new one.
    const deleteBeforeReplace = result.replaces.length > 0 && olds.resetOnDelete === true;
    return { changes: result.changes, replaces: result.replaces, deleteBeforeReplace };
  },

  async create(inputs: Record<string, unknown>): Promise<pulumi.dynamic.CreateResult> {
    const args = parseInputs(unwrapSecrets(inputs));
    const id = resourceId(args);
    const outs = await converge(id, args, true);
    return { id, outs: wrapSecrets(outs, SECRET_OUTPUTS) };
  },

  async read(id: string, rawProps?: Record<string, unknown>): Promise<pulumi.dynamic.ReadResult> {
    const state = unwrapSecrets(rawProps ?? {}) as unknown as SessionHostLicensingOutputs;
    const args: SessionHostLicensingInputs = {
      connection: state.connection,
      scope: state.scope ?? "sessionHost",
      mode: state.mode,
      licenseServers: state.licenseServers,
      calPacks: state.calPacks,
      resetOnDelete: state.resetOnDelete ?? false,
    };
    const live = await readLive(args);
    return { id, props: wrapSecrets(toOutputs(args, live), SECRET_OUTPUTS) };
  },

  async update(id: string, rawOlds: Record<string, unknown>, rawNews: Record<string, unknown>): Promise<pulumi.dynamic.UpdateResult> {
    const olds = unwrapSecrets(rawOlds);
    const args = parseInputs(unwrapSecrets(rawNews));
    // The declaration is re-validated when the mode or the packs changed; otherwise only when the
    // host is about to change (converge decides).
    const declarationChanged =
      olds.mode !== args.mode || JSON.stringify(olds.calPacks ?? null) !== JSON.stringify(args.calPacks ?? null);
    const outs = await converge(id, args, declarationChanged);
    return { outs: wrapSecrets(outs, SECRET_OUTPUTS) };
  },

  async delete(_id: string, props: Record<string, unknown>): Promise<void> {
    const state = unwrapSecrets(props) as unknown as SessionHostLicensingOutputs;
    if (state.resetOnDelete !== true) return; // default: the host stays configured
    await runOperation(state.connection, {
      name: `${OP}.reset`,
      script: script("reset"),
      args: { scope: state.scope ?? "sessionHost" },
      result: resetResultSchema,
      timeoutMs: operationTimeout(DEFAULT_TIMEOUT_MS),
    });
  },
};
