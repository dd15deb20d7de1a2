/**
 * RdsSessionHostLicensing operations: check, diff, create, read, update, delete (see README.md).
 *
 * Flow of create and update (DSC Get/Test/Set):
 *   1. get.ps1 on the target: the whole live state (the RD Session Host role, mode, list, where each
 *      comes from, Group Policy values, grace days, OS, domain membership). A host without the role
 *      stops here (RDS_SESSION_HOST_ROLE_MISSING), unless installRole: then, after the pre-flight below,
 *      the role is installed and the host restarted and reconnected (roleInstall.ts), and read again.
 *   2. pre-flight, before anything changes: the mode-vs-CALs rule against the LIVE packs (packs.ps1 on
 *      each pack's license server) and the live host facts (RDS_MODE_MISMATCH), then Group Policy
 *      (RDS_GROUP_POLICY_CONFLICT when a policy contradicts the desired value).
 *   3. set.ps1 with only what differs (mode and/or list), then get.ps1 again for the outputs.
 *
 * The decisions are in rules.ts, the messages in messages.ts, the fields in schema.ts; the plumbing
 * (secrets, parsing, steps, partial success, codes on every error) is the resource kit's.
 */
import type * as pulumi from "@pulumi/pulumi";
import { compare } from "../../diff";
import { ErrorCode, isRdsError } from "../../errors";
import { WBEM_CODE } from "../../licensing/facts";
import { DEFAULT_TIMEOUT_MS } from "../../powershell/runner";
import type { Connection } from "../../powershell/transport";
import { resourceKit, type Props, type Step } from "../kit";
import * as msg from "./messages";
import {
  applyPlan,
  changesBetween,
  describePlan,
  diffView,
  evaluateModeAgainstCals,
  interpret,
  modeRuleFromDeclaration,
  packFactsFrom,
  packsByServer,
  planChanges,
  policyConflicts,
  policyShownFor,
  type LiveState,
  type ModeRuleInput,
  type PackFact,
  type Plan,
} from "./rules";
import { BOOT_PROBE_TIMEOUT_MS, installSessionHostRole, type RoleOp } from "./roleInstall";
import {
  argsSchema,
  DIFF_SPEC,
  getResultSchema,
  packsResultSchema,
  resetResultSchema,
  SECRET_OUTPUTS,
  setResultSchema,
  type GetResult,
  type SessionHostLicensingInputs,
  type SessionHostLicensingOutputs,
} from "./schema";

type Op = "get" | "set" | "reset" | "packs" | RoleOp;

const kit = resourceKit<Op>({
  folder: "sessionHostLicensing",
  secretFields: SECRET_OUTPUTS,
  // Each script reads or writes a few WMI values: the runner default (2 min) for each. The role install
  // (installRole) can take many minutes on Windows; one probe of a restarting host is bounded on its own.
  timeoutsMs: {
    get: DEFAULT_TIMEOUT_MS,
    set: DEFAULT_TIMEOUT_MS,
    reset: DEFAULT_TIMEOUT_MS,
    packs: DEFAULT_TIMEOUT_MS,
    role: 30 * 60_000,
    restart: DEFAULT_TIMEOUT_MS,
    boot: BOOT_PROBE_TIMEOUT_MS,
  },
});

// The steps keep the runner's wording (`running sessionHostLicensing.read on <host>: ...`): the step
// names are what logs, the README and the reliability tests quote.
const readStep = (scope: string): Step<Op, GetResult> => ({
  op: "get",
  name: "sessionHostLicensing.read",
  doing: "running sessionHostLicensing.read",
  args: { scope },
  result: getResultSchema,
});

/**
 * A WBEM_E_INVALID_OPERATION from a setter is a Group Policy conflict only when a read (before the set,
 * or right after it failed) shows a policy source for that setting; otherwise it passes through as the
 * RDS_WMI_ERROR it is, with its code and text (Windows answers this code for other reasons too).
 */
function asPolicyError(err: unknown, host: string, reads: readonly (LiveState | undefined)[]): unknown {
  const refused = isRdsError(err) && err.code === ErrorCode.Wmi && err.returnValue === WBEM_CODE.WBEM_E_INVALID_OPERATION;
  return refused && policyShownFor(err.method, reads) ? msg.policyTookSetting(host, err) : err;
}

function connectionKey(c: Connection): string {
  return JSON.stringify(c, Object.keys(c).sort());
}

/** The packs as they are on their license servers (one packs.ps1 per license server). */
async function livePacks(args: SessionHostLicensingInputs): Promise<PackFact[] | undefined> {
  if (args.calPacks === undefined) return undefined;
  const facts: PackFact[] = [];
  for (const group of packsByServer(args.calPacks, connectionKey)) {
    const result = await kit.run(group.connection, {
      op: "packs",
      doing: "running sessionHostLicensing.packs",
      args: { keyPackIds: group.ids },
      result: packsResultSchema,
    });
    facts.push(...packFactsFrom(group.ids, result.packs, group.name || result.serverName || group.connection.host));
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
  if (!verdict.ok) throw msg.modeMismatch(input, verdict);
  const conflicts = policyConflicts(args, live);
  if (conflicts.length > 0) throw msg.groupPolicyConflict(host, conflicts);
}

async function readLive(args: Pick<SessionHostLicensingInputs, "connection" | "scope">): Promise<LiveState> {
  return interpret(await kit.run(args.connection, readStep(args.scope)));
}

function setChanges(args: SessionHostLicensingInputs, plan: Plan): Promise<unknown> {
  return kit.run(args.connection, {
    op: "set",
    doing: "running sessionHostLicensing.set",
    args: { scope: args.scope, mode: plan.mode, licenseServers: plan.licenseServers },
    result: setResultSchema,
  });
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
    sessionHostRole: live.sessionHostRole,
    connectivity: live.connectivity,
  };
}

function resourceId(args: Pick<SessionHostLicensingInputs, "connection" | "scope">): string {
  return `${args.scope}:${args.connection.host}`;
}

/**
 * Reads (a host without the RD Session Host role stops here, or gets it first with installRole), checks,
 * sets only what differs, reads again. A failure after set.ps1 changed something is a partial success
 * carrying the id and what is live, so the engine keeps the resource.
 */
async function converge(
  id: string,
  args: SessionHostLicensingInputs,
  mustCheck: boolean,
  providerCode: unknown,
): Promise<SessionHostLicensingOutputs> {
  const host = args.connection.host;
  let before = await readLive(args);
  let checked = false;
  if (before.sessionHostRole === false) {
    if (!args.installRole) throw msg.sessionHostRoleMissing(before.serverName || host);
    // Checked before the restart: a mode the CALs cannot serve must not cost the host a restart.
    await preflight(args, before);
    checked = true;
    // Returns only once the host is back from a new boot WITH the role (else it throws): read it afresh.
    await installSessionHostRole({ kit }, args.connection);
    before = await readLive(args);
  }
  const plan = planChanges(args, before);
  const changes = plan.mode !== null || plan.licenseServers !== null;
  // Conflicts with Group Policy are checked even when nothing else would change: the policy is
  // what makes the live value differ from the declared one.
  const conflicts = policyConflicts(args, before);
  if (checked && conflicts.length > 0) throw msg.groupPolicyConflict(before.serverName || host, conflicts);
  if (!checked && (mustCheck || changes || conflicts.length > 0)) await preflight(args, before);
  if (!changes) return toOutputs(args, before);
  try {
    await setChanges(args, plan);
  } catch (err) {
    const after = await readLive(args).catch(() => undefined);
    const error = asPolicyError(err, host, [before, after]);
    const done = after === undefined ? [] : changesBetween(before, after);
    if (done.length === 0) throw error;
    throw kit.partial(id, toOutputs(args, after!), providerCode, error, done, host);
  }
  try {
    return toOutputs(args, await readLive(args));
  } catch (err) {
    // set.ps1 changed the host: record what was just set; the next up reads the live state again.
    throw kit.partial(id, toOutputs(args, applyPlan(before, plan)), providerCode, err, describePlan(plan), host);
  }
}

/** Mode-vs-CAL failures from the declared packs (calType/productVersion when known; unknowns tolerated). */
function checkModeAgainstDeclaredPacks(props: Props): pulumi.dynamic.CheckFailure[] {
  const input = modeRuleFromDeclaration(props);
  if (input === undefined) return [];
  const verdict = evaluateModeAgainstCals(input);
  return verdict.ok ? [] : [{ property: "mode", reason: msg.modeMismatchReason(input, verdict) }];
}

/** installRole is about a session host: on scope deployment (the broker) it would restart the wrong machine. */
function checkInstallRoleScope(props: Props): pulumi.dynamic.CheckFailure[] {
  if (props.installRole !== true || props.scope !== "deployment") return [];
  return [
    {
      property: "installRole",
      reason: `${ErrorCode.Validation}: installRole installs the RD Session Host role on the host of scope "sessionHost"; with scope "deployment" the connection is the RD Connection Broker: install the role on each session host (its own RdsSessionHostLicensing with installRole), or remove installRole`,
    },
  ];
}

/** The inputs of create/update: validated (RDS_VALIDATION naming each field), `__provider` kept apart. */
function parseArgs(raw: Props): { args: SessionHostLicensingInputs; providerCode: unknown } {
  const { props, providerCode } = kit.decode(raw);
  return { args: kit.parse(argsSchema, props, "configuring licensing"), providerCode };
}

export const provider: pulumi.dynamic.ResourceProvider = {
  check: kit.guard(async (_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> => {
    // The connection (credentials) and the packs (their license server's connection) stay secret.
    return kit.check(argsSchema, news, (props) => [...checkModeAgainstDeclaredPacks(props), ...checkInstallRoleScope(props)]);
  }),

  diff: kit.guard(async (_id: string, rawOlds: Props, rawNews: Props): Promise<pulumi.dynamic.DiffResult> => {
    const olds = kit.decode(rawOlds).props;
    const news = kit.decode(rawNews).props;
    const { result } = compare(DIFF_SPEC, diffView(news, false), diffView(olds, true));
    // Replacing with resetOnDelete on the same host: delete (reset) first, or the reset would undo the new one.
    const deleteBeforeReplace = result.replaces.length > 0 && olds.resetOnDelete === true;
    return { changes: result.changes, replaces: result.replaces, deleteBeforeReplace };
  }),

  create: kit.guard(async (inputs: Props): Promise<pulumi.dynamic.CreateResult> => {
    const { args, providerCode } = parseArgs(inputs);
    const id = resourceId(args);
    const outs = await converge(id, args, true, providerCode);
    return { id, outs: kit.encode(outs) };
  }),

  read: kit.guard(async (id: string, rawProps?: Props): Promise<pulumi.dynamic.ReadResult> => {
    const state = kit.decode(rawProps).props as unknown as SessionHostLicensingOutputs;
    const args: SessionHostLicensingInputs = {
      connection: state.connection,
      scope: state.scope ?? "sessionHost",
      mode: state.mode,
      licenseServers: state.licenseServers,
      calPacks: state.calPacks,
      installRole: state.installRole ?? false,
      resetOnDelete: state.resetOnDelete ?? false,
    };
    const live = await readLive(args);
    return { id, props: kit.encode(toOutputs(args, live)) };
  }),

  update: kit.guard(async (id: string, rawOlds: Props, rawNews: Props): Promise<pulumi.dynamic.UpdateResult> => {
    const olds = kit.decode(rawOlds).props;
    const { args, providerCode } = parseArgs(rawNews);
    // The declaration is re-validated when the mode or the packs changed; otherwise only when the
    // host is about to change (converge decides).
    const declarationChanged = olds.mode !== args.mode || JSON.stringify(olds.calPacks ?? null) !== JSON.stringify(args.calPacks ?? null);
    const outs = await converge(id, args, declarationChanged, providerCode);
    return { outs: kit.encode(outs) };
  }),

  delete: kit.guard(async (_id: string, props: Props): Promise<void> => {
    const state = kit.decode(props).props as unknown as SessionHostLicensingOutputs;
    if (state.resetOnDelete !== true) return; // default: the host stays configured
    await kit.run(state.connection, {
      op: "reset",
      doing: "running sessionHostLicensing.reset",
      args: { scope: state.scope ?? "sessionHost" },
      result: resetResultSchema,
    });
  }),
};
