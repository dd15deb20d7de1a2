/**
 * RdsLicenseServer operations: check, diff, create, read, update, delete. Loaded at call time by the
 * serialized shim (provider/shim.ts), in the dynamic-provider host; never serialized itself.
 *
 * The decisions are in rules.ts, the messages in messages.ts, the fields in schema.ts; the kernel
 * (../kit.ts) does the plumbing (secrets, input parsing, running a step, partial success, codes).
 * Every host call is one operation script in this folder, run through the runner:
 *   install.ps1   ensure the RDS-Licensing role (Install-WindowsFeature when missing)
 *   wait.ps1      wait, bounded, until TermServLicensing runs and Win32_TSLicenseServer answers
 *   get.ps1       the whole live state (read, and the outputs after every change)
 *   set.ps1       contact properties (one Set-CimInstance, read back) and discovery scope (ChangeRole)
 *   activate.ps1  one activation call (ActivateServer[Automatic]), or none when already activated
 *   deactivate.ps1  DeactivateServerAutomatic (delete with deactivateOnDelete)
 *   group.ps1     AddLStoTSLSGroup when addToLicenseServersGroup asks for it and the server is not a member
 */
import type * as pulumi from "@pulumi/pulumi";
import { compare } from "../../diff";
import type { Connection } from "../../powershell/transport";
import { resourceKit } from "../kit";
import { wrapDerivedSecrets } from "../secrets";
import { ErrorCode } from "../../errors";
import { ACCESS_DENIED_HINT, DOING, classNotAnswering, noConnectionInState, rebuiltServer, roleNotInstalled } from "./messages";
import {
  actualView,
  activationCallFor,
  buildOutputs,
  classNotAnsweringStep,
  desiredView,
  groupAddNeeded,
  inputsFromState,
  liveServerOf,
  originOf,
  priorOrigin,
  settingsToWrite,
  type LiveServer,
  type Prior,
} from "./rules";
import {
  FIELDS,
  ROLE_WAIT,
  activateResultSchema,
  argsSchema,
  deactivateResultSchema,
  getResultSchema,
  groupResultSchema,
  installResultSchema,
  normalizeLicenseServerId,
  outputsSchema,
  setResultSchema,
  waitResultSchema,
  type GetResult,
  type LicenseServerInputs,
} from "./schema";

type Props = Record<string, unknown>;

const kit = resourceKit({
  folder: "licenseServer",
  secretFields: FIELDS.secretFields,
  secretValueFields: FIELDS.secretValueFields,
  // Timeouts of the operations (the runner replaces a pwsh that runs past one).
  timeoutsMs: {
    install: 30 * 60_000, // Install-WindowsFeature can take many minutes on real Windows
    wait: (ROLE_WAIT.timeoutSeconds + 60) * 1000,
    get: 120_000,
    set: 120_000,
    activate: 5 * 60_000, // the Clearinghouse round trip
    deactivate: 5 * 60_000,
    group: 120_000, // a domain controller round trip
  },
  hints: { [ErrorCode.AccessDenied]: ACCESS_DENIED_HINT },
});

/**
 * Every answer's props with the secret fields wrapped: the connection always, and the outputs that
 * carry the declared license server id whenever one is given (FIELDS.secretSources).
 */
function encode<T extends Props | undefined>(props: T): T {
  return kit.encode(wrapDerivedSecrets(props, FIELDS.secretSources));
}

/**
 * The declared license server id, in the forms a text may hold it: kept out of every message (the
 * scripts never print it; this is belt and braces). Read from the raw inputs, which may be invalid.
 */
function licenseServerIdForms(raw: Props | undefined): string[] {
  const activation = kit.decode(raw).props.activation as { licenseServerId?: unknown } | undefined;
  const id = activation?.licenseServerId;
  if (typeof id !== "string" || id.length < 4) return [];
  return [...new Set([id, normalizeLicenseServerId(id)])].sort((a, b) => b.length - a.length);
}

// ---- host calls ------------------------------------------------------------------------------------

function readLive(connection: Connection, doing: string): Promise<GetResult> {
  return kit.run(connection, { op: "get", args: {}, result: getResultSchema, doing });
}

/**
 * Installs the role when allowed and missing, then waits for the service and the class. Progress:
 * install.ps1 says when Install-WindowsFeature starts (only then: a role already there is quiet),
 * wait.ps1 says each attempt that found the service not ready yet; the kit adds the ticks and the close.
 */
async function ensureRole(connection: Connection, inputs: LicenseServerInputs, done: string[]): Promise<void> {
  const installed = await kit.run(connection, {
    op: "install",
    // requireDomain: a workgroup server is refused before anything is written (no domain group to join).
    args: { installRole: inputs.installRole, requireDomain: inputs.addToLicenseServersGroup },
    result: installResultSchema,
    doing: DOING.install,
    progress: { done: (r) => (r.installedNow ? (r.restartNeeded ? "done (Windows asks for a restart)" : "done") : undefined) },
  });
  if (installed.installedNow) done.push("installed the RDS-Licensing role");
  await kit.run(connection, {
    op: "wait",
    args: { ...ROLE_WAIT },
    result: waitResultSchema,
    doing: DOING.prepare,
    progress: { done: (r) => (r.attempts > 1 ? `the licensing service answered at attempt ${r.attempts}` : undefined) },
  });
}

function liveServer(live: GetResult, host: string, doing: string): LiveServer {
  if (!live.roleInstalled) throw roleNotInstalled(doing, host);
  const server = liveServerOf(live);
  if (!server) throw classNotAnswering(doing, host, live.serviceStatus);
  return server;
}

async function readServer(connection: Connection): Promise<LiveServer> {
  return liveServer(await readLive(connection, DOING.read), connection.host, DOING.read);
}

// ---- converge (create and update) --------------------------------------------------------------------

/**
 * Built once: zod 4 compiles a fast path for each schema object on its first parse, so a schema
 * derived per call (`outputsSchema.partial()` inside the function) was compiled on every read
 * (about 0.9 ms of each, in the fleet bench's host profile).
 */
const priorSchema = outputsSchema.partial();

function parsePrior(olds: Props | undefined): Prior {
  if (!olds) return undefined;
  const parsed = priorSchema.safeParse(olds);
  return parsed.success ? parsed.data : undefined;
}

async function converge(id: string, inputs: LicenseServerInputs, prior: Prior, providerCode: unknown): Promise<Props> {
  const connection = inputs.connection as Connection;
  const host = connection.host;
  const done: string[] = [];
  let live: LiveServer | undefined;
  try {
    await ensureRole(connection, inputs, done);
    live = await readServer(connection);

    // Contact (all properties in one Set-CimInstance) and discovery scope: only what differs.
    const settings = settingsToWrite(inputs, live);
    if (settings.contact !== null || settings.serverRole !== null) {
      const set = await kit.run(connection, { op: "set", args: settings, result: setResultSchema, doing: DOING.set });
      if (set.changedProperties.length) done.push(`set ${set.changedProperties.join(", ")}`);
      if (set.roleChanged) done.push("changed the discovery scope");
    }

    let origin = originOf(live, prior);
    const decision = activationCallFor(inputs, live, prior);
    if (decision.kind === "rebuilt") throw rebuiltServer(host, decision);
    if (decision.kind === "call") {
      // activate.ps1 types the failures: RDS_CLEARINGHOUSE_UNREACHABLE (names web and telephone),
      // RDS_REJECTED (a license server id the Clearinghouse did not issue for this product id).
      const activated = await kit.run(
        connection,
        {
          op: "activate",
          args: { call: decision.call, licenseServerId: decision.licenseServerId ?? null },
          result: activateResultSchema,
          doing: DOING.activate,
          // activate.ps1 says when it calls (the Clearinghouse, for the *Automatic calls).
          progress: { done: (r) => (r.call === "none" ? undefined : `activated (${r.call})`) },
        },
        decision.licenseServerId ? [decision.licenseServerId] : [],
      );
      if (activated.call !== "none") {
        origin = { activationMethod: inputs.activation.method, activatedProductId: live.productId };
        done.push(`called ${activated.call}`);
      }
    }

    // The AD group, once the server is installed (and activated when it can be): only when not a member.
    if (groupAddNeeded(inputs, live)) {
      const group = await kit.run(connection, { op: "group", args: {}, result: groupResultSchema, doing: DOING.group });
      if (group.added) done.push("added the license server to the Terminal Server License Servers group");
    }

    const after = await readServer(connection);
    if (decision.kind === "none") origin = originOf(after, prior);
    return buildOutputs(inputs, after, origin, prior) as unknown as Props;
  } catch (e) {
    if (done.length === 0) throw e;
    // Something was done before the failure: record it (partial success), with what is live now.
    let current: LiveServer | undefined = live;
    try {
      const again = liveServerOf(await readLive(connection, DOING.read));
      if (again) current = again;
    } catch {
      // keep what we had
    }
    const origin = current ? originOf(current, prior) : priorOrigin(prior);
    const outputs = buildOutputs(inputs, current, origin, prior) as unknown as Props;
    throw kit.partial(id, wrapDerivedSecrets(outputs, FIELDS.secretSources), providerCode, e, done, host);
  }
}

// ---- the provider -------------------------------------------------------------------------------------

function idFor(inputs: LicenseServerInputs): string {
  return (inputs.connection as Connection).host;
}

async function create(rawNews: Props): Promise<pulumi.dynamic.CreateResult> {
  const { props: news, providerCode } = kit.decode(rawNews);
  const inputs = kit.parse(argsSchema, news, DOING.validate);
  const id = idFor(inputs);
  return { id, outs: encode(await converge(id, inputs, undefined, providerCode)) };
}

async function read(id: string, rawProps?: Props): Promise<pulumi.dynamic.ReadResult> {
  const state = (rawProps === undefined ? {} : kit.decode(rawProps).props) as Props;
  const prior = parsePrior(rawProps === undefined ? undefined : state);
  const connection = state.connection as Connection | undefined;
  if (!connection || typeof connection.host !== "string") throw noConnectionInState(id);
  const live = await readLive(connection, DOING.read);
  if (!live.roleInstalled) return {}; // no RDS-Licensing role: the license server is gone
  const server = liveServerOf(live);
  if (!server) {
    // The role is there but the class does not answer (service stopped): nothing live to report.
    return { id, props: encode({ ...state, activationStatus: "unknown", nextStep: classNotAnsweringStep(live.serviceStatus) }) };
  }
  const outputs = buildOutputs(inputsFromState(state, prior), server, originOf(server, prior), prior);
  const refreshed: Props = { ...state, ...outputs };
  if (prior?.discoveryScope === undefined) delete refreshed.discoveryScope;
  return { id, props: encode(refreshed) };
}

async function update(id: string, rawOlds: Props, rawNews: Props): Promise<pulumi.dynamic.UpdateResult> {
  const olds = kit.decode(rawOlds).props;
  const { props: news, providerCode } = kit.decode(rawNews);
  const inputs = kit.parse(argsSchema, news, DOING.validate);
  const { diffs } = compare(FIELDS.diffSpec, desiredView(news, olds), actualView(olds));
  if (diffs.length > 0 && diffs.every((d) => FIELDS.stateOnlyFields.has(d))) {
    // Only how we reach the host (credentials, the simulator's stateDir) or provider-side options
    // changed: nothing to do on the host, the new values go to state. (An empty diff is the engine
    // continuing after a partial failure: that converges like any other update.)
    const outs: Props = { ...olds };
    for (const field of FIELDS.stateOnlyFields) outs[field] = (inputs as unknown as Props)[field];
    return { outs: encode(outs) };
  }
  return { outs: encode(await converge(id, inputs, parsePrior(olds), providerCode)) };
}

async function remove(_id: string, rawProps: Props): Promise<void> {
  const state = kit.decode(rawProps).props;
  if (state.deactivateOnDelete !== true) return; // default: the activation stays in place, nothing runs
  const connection = state.connection as Connection | undefined;
  if (!connection || typeof connection.host !== "string") return;
  // deactivate.ps1 answers RDS_CLEARINGHOUSE_UNREACHABLE with the ways out (telephone, or leave it).
  await kit.run(connection, { op: "deactivate", args: {}, result: deactivateResultSchema, doing: DOING.deactivate });
}

async function check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
  const checked = kit.check(argsSchema, news);
  return { ...checked, inputs: wrapDerivedSecrets(checked.inputs, FIELDS.secretSources) };
}

async function diff(_id: string, rawOlds: Props, rawNews: Props): Promise<pulumi.dynamic.DiffResult> {
  const olds = kit.decode(rawOlds).props;
  return compare(FIELDS.diffSpec, desiredView(kit.decode(rawNews).props, olds), actualView(olds)).result;
}

export const provider: pulumi.dynamic.ResourceProvider = {
  check: kit.guard(check),
  diff: kit.guard(diff),
  create: kit.guard(create, licenseServerIdForms),
  read: kit.guard(read),
  update: kit.guard(update, (_id, _olds, news) => licenseServerIdForms(news)),
  delete: kit.guard(remove),
};
