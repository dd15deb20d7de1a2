/**
 * RdsLicenseServer operations: check, diff, create, read, update, delete. Loaded at call time by the
 * serialized shim (provider/shim.ts), in the dynamic-provider host; never serialized itself.
 *
 * Every host call is one operation script in this folder, run through the runner:
 *   install.ps1   ensure the RDS-Licensing role (Install-WindowsFeature when missing)
 *   wait.ps1      wait, bounded, until TermServLicensing runs and Win32_TSLicenseServer answers
 *   get.ps1       the whole live state (read, and the outputs after every change)
 *   set.ps1       contact properties (one Set-CimInstance) and discovery scope (ChangeRole)
 *   activate.ps1  one activation call (Activate*, Reactivate*), or none when already activated
 *   deactivate.ps1  DeactivateServerAutomatic (delete with deactivateOnDelete)
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ZodType } from "zod";
import { checkWithSchema } from "../../check";
import { compare, sameValue } from "../../diff";
import { ErrorCode, RdsError, isRdsError } from "../../errors";
import { providerFile } from "../../paths";
import { runOperation } from "../../powershell/runner";
import type { Connection } from "../../powershell/transport";
import { unwrapSecrets, wrapSecrets } from "../secrets";
import { operationTimeout } from "../timeouts";
import {
  ACTIVATION_WEB_SITE,
  DISCOVERY_SCOPE_ROLE,
  REACTIVATION_REASON,
  ROLE_WAIT,
  STATE_ONLY_FIELDS,
  activateResultSchema,
  argsSchema,
  diffSpec,
  deactivateResultSchema,
  discoveryScopeFromRole,
  getResultSchema,
  installResultSchema,
  outputsSchema,
  setResultSchema,
  waitResultSchema,
  type ActivateResult,
  type ActivationCall,
  type ActivationOrigin,
  type ActivationStatus,
  type Contact,
  type GetResult,
  type LicenseServerInputs,
  type LicenseServerOutputs,
} from "./schema";

type Props = Record<string, unknown>;
type LiveServer = NonNullable<GetResult["server"]>;

const script = (name: string) => providerFile(`resources/licenseServer/${name}.ps1`);

/** Timeouts of the operations (the runner replaces a pwsh that runs past one). */
const TIMEOUT_MS = {
  install: 30 * 60_000, // Install-WindowsFeature can take many minutes on real Windows
  wait: (ROLE_WAIT.timeoutSeconds + 60) * 1000,
  get: 120_000,
  set: 120_000,
  activate: 5 * 60_000, // the Clearinghouse round trip
  deactivate: 5 * 60_000,
};

// ---- comparator views (the field spec is schema.ts `diffSpec`) -----------------------------------------

function connectionPart(connection: unknown, key: string): unknown {
  return connection !== null && typeof connection === "object" ? (connection as Props)[key] : connection;
}

/** True when these inputs ask for an activated server (not a pending web/telephone activation). */
function wantsActivated(activation: unknown): boolean {
  if (activation === null || typeof activation !== "object") return false;
  const a = activation as Props;
  return a.method === "automatic" || (a.licenseServerId !== undefined && a.licenseServerId !== null && a.licenseServerId !== "");
}

function desiredView(news: Props, olds: Props): Props {
  return {
    host: connectionPart(news.connection, "host"),
    transport: connectionPart(news.connection, "transport"),
    connection: news.connection,
    contact: news.contact,
    activation: news.activation,
    installRole: news.installRole,
    discoveryScope: news.discoveryScope,
    deactivateOnDelete: news.deactivateOnDelete,
    activationStatus: desiredStatus(news.activation, olds.activationStatus),
  };
}

/**
 * The status an up should leave. A declaration that can activate wants "activated". A pending
 * web/telephone one leaves the server as it is, except when the last read could not tell
 * ("unknown": the TermServLicensing service was stopped): then the up must run, because converging
 * starts the service (wait.ps1) and reads the real status again.
 */
function desiredStatus(activation: unknown, stored: unknown): unknown {
  if (wantsActivated(activation)) return "activated";
  return stored === "unknown" ? "pending" : stored;
}

function actualView(olds: Props): Props {
  return {
    host: connectionPart(olds.connection, "host"),
    transport: connectionPart(olds.connection, "transport"),
    connection: olds.connection,
    contact: olds.contact,
    activation: olds.activation,
    installRole: olds.installRole,
    discoveryScope: olds.discoveryScope,
    deactivateOnDelete: olds.deactivateOnDelete,
    activationStatus: olds.activationStatus,
  };
}

// ---- host calls ------------------------------------------------------------------------------------

/** The cause part of an error message `<doing> on <host>: <cause>`. */
function causeOf(e: Error, host: string): string {
  const marker = ` on ${host}: `;
  const at = e.message.indexOf(marker);
  return at >= 0 ? e.message.slice(at + marker.length) : e.message;
}

/** Rewrites a runner error as `<doing> on <host>: <cause>`, keeping its code and details. */
function rethrow(e: unknown, doing: string, host: string): never {
  if (isRdsError(e)) {
    let cause = causeOf(e, host);
    if (e.code === ErrorCode.AccessDenied) {
      cause += ": the connection's account must be a local administrator on the license server";
    }
    const err = new RdsError(e.code, `${doing} on ${host}: ${cause}`, {
      host: e.host ?? host,
      operation: e.operation,
      durationMs: e.durationMs,
      stderr: e.stderr,
      returnValue: e.returnValue,
      wmiName: e.wmiName,
      method: e.method,
      className: e.className,
      scriptCode: e.scriptCode,
      cause: e,
    });
    throw err;
  }
  throw e;
}

async function run<T>(
  connection: Connection,
  op: { name: string; args: Props; result: ZodType<T>; timeoutMs: number; doing: string },
): Promise<T> {
  try {
    return await runOperation(connection, {
      name: `licenseServer.${op.name}`,
      script: script(op.name),
      args: op.args,
      result: op.result,
      timeoutMs: operationTimeout(op.timeoutMs),
    });
  } catch (e) {
    rethrow(e, op.doing, connection.host);
  }
}

function readLive(connection: Connection, doing: string): Promise<GetResult> {
  return run(connection, { name: "get", args: {}, result: getResultSchema, timeoutMs: TIMEOUT_MS.get, doing });
}

/** Installs the role when allowed and missing, then waits for the service and the class. */
async function ensureRole(connection: Connection, installRole: boolean, done: string[]): Promise<void> {
  const doing = "preparing the license server";
  const installed = await run(connection, {
    name: "install",
    args: { installRole },
    result: installResultSchema,
    timeoutMs: TIMEOUT_MS.install,
    doing: "installing the RDS-Licensing role",
  });
  if (installed.installedNow) done.push("installed the RDS-Licensing role");
  await run(connection, {
    name: "wait",
    args: { ...ROLE_WAIT },
    result: waitResultSchema,
    timeoutMs: TIMEOUT_MS.wait,
    doing,
  });
}

function liveServer(live: GetResult, host: string, doing: string): LiveServer {
  if (!live.roleInstalled) {
    throw new RdsError(
      ErrorCode.ClassNotReady,
      `${doing} on ${host}: the RDS-Licensing role is not installed: set installRole to true, or install the role`,
      { host },
    );
  }
  if (!live.server) {
    throw new RdsError(
      ErrorCode.ClassNotReady,
      `${doing} on ${host}: Win32_TSLicenseServer does not answer (TermServLicensing service: ${live.serviceStatus || "missing"})`,
      { host },
    );
  }
  return live.server;
}

// ---- outputs ---------------------------------------------------------------------------------------

function statusOf(liveStatus: number | undefined, activation: { method: string; licenseServerId?: string }): ActivationStatus {
  if (liveStatus === 0) return "activated";
  if (liveStatus === 1) return wantsActivated(activation) ? "notActivated" : "pending";
  return "unknown";
}

function formatProductId(productId: string): string {
  return productId || "(unknown: the server did not report one)";
}

/** What the administrator does next, for a server that is not activated (or "" when nothing). */
export function nextStepFor(
  status: ActivationStatus,
  inputs: { activation: { method: string; licenseServerId?: string }; contact?: { countryRegion?: string } },
  productId: string,
  prior?: { activatedProductId?: string; licenseServerId?: string },
): string {
  if (status === "activated") return "";
  const method = inputs.activation.method;
  const pid = formatProductId(productId);
  const getId =
    method === "telephone"
      ? `call the Microsoft Clearinghouse at the telephone number RD Licensing Manager's Activate Server wizard shows for your country/region` +
        `${inputs.contact?.countryRegion ? ` (${inputs.contact.countryRegion})` : ""}, read product id ${pid} to the operator, and write down the license server id (35 characters) you are given`
      : `go to ${ACTIVATION_WEB_SITE}, choose to activate a license server, enter product id ${pid} and your contact details, and copy the license server id (35 characters) it gives you`;
  const simulator = `(on the simulator, run: npx rds-sim clearinghouse license-server-id ${pid})`;
  const rebuilt =
    prior?.activatedProductId && productId && prior.activatedProductId !== productId
      ? `the server's product id changed from ${prior.activatedProductId} to ${productId} (the server was rebuilt), so a license server id issued for ${prior.activatedProductId} no longer fits: `
      : "";
  if (method === "automatic") {
    if (status === "unknown") return "the activation state of the license server cannot be determined: check the TermServLicensing service, then run pulumi up";
    return `${rebuilt}the license server is not activated: run pulumi up to activate it automatically (the server needs outbound HTTPS to the Clearinghouse; otherwise use method "web" or "telephone")`;
  }
  if (status === "unknown") return "the activation state of the license server cannot be determined: check the TermServLicensing service, then run pulumi up";
  if (status === "pending" || rebuilt) {
    return `${rebuilt}to activate by ${method}: ${getId} ${simulator}; then set activation.licenseServerId to it and run pulumi up again`;
  }
  // notActivated with a license server id given: the next up activates (or reactivates) with it.
  return `the license server is not activated: run pulumi up to activate it with activation.licenseServerId`;
}

function buildOutputs(
  inputs: LicenseServerInputs,
  live: LiveServer | undefined,
  origin: { activationMethod: ActivationOrigin | ""; activatedProductId: string },
  prior?: Partial<LicenseServerOutputs>,
): LicenseServerOutputs {
  const status = statusOf(live?.activationStatus, inputs.activation);
  const productId = live?.productId ?? prior?.productId ?? "";
  const out: LicenseServerOutputs = {
    connection: inputs.connection as unknown as Record<string, unknown>,
    contact: live?.contact ?? (prior?.contact as Contact | undefined) ?? inputs.contact,
    activation: inputs.activation,
    installRole: inputs.installRole,
    deactivateOnDelete: inputs.deactivateOnDelete,
    serverName: live?.serverName ?? prior?.serverName ?? "",
    productId,
    licenseServerId: live && status === "activated" ? live.licenseServerId : "",
    activationStatus: status,
    activationMethod: origin.activationMethod,
    activatedProductId: origin.activatedProductId,
    nextStep: nextStepFor(status, inputs, productId, { activatedProductId: origin.activatedProductId }),
    version: live?.version ?? prior?.version ?? "",
  };
  // Managed only when declared: then the live value (undefined when the server reports none, or a
  // value outside 0..2, which the comparator sees as a difference).
  if (inputs.discoveryScope !== undefined) {
    out.discoveryScope = live ? discoveryScopeFromRole(live.serverRole) : prior?.discoveryScope;
  }
  return out;
}

/** How the server's activation came about, given what state knew and what is live now. */
function originOf(
  live: LiveServer,
  prior: Partial<LicenseServerOutputs> | undefined,
): { activationMethod: ActivationOrigin | ""; activatedProductId: string } {
  const sameServer = !!prior?.activatedProductId && prior.activatedProductId === live.productId;
  if (live.activationStatus === 0) {
    if (sameServer && prior?.activationMethod) return { activationMethod: prior.activationMethod, activatedProductId: live.productId };
    return { activationMethod: "external", activatedProductId: live.productId };
  }
  // Not activated now: keep the record of the last activation (it decides between activate and reactivate).
  return { activationMethod: prior?.activationMethod ?? "", activatedProductId: prior?.activatedProductId ?? "" };
}

// ---- converge (create and update) --------------------------------------------------------------------

function parseInputs(news: Props): LicenseServerInputs {
  const { __provider: _ignored, ...rest } = news;
  const parsed = argsSchema.safeParse(rest);
  if (!parsed.success) {
    const text = parsed.error.issues.map((i) => `${i.path.join(".") || "(inputs)"}: ${i.message}`).join("; ");
    const host = connectionPart(rest.connection, "host");
    throw new RdsError(ErrorCode.Validation, `validating inputs${typeof host === "string" ? ` on ${host}` : ""}: ${text}`);
  }
  return parsed.data;
}

/**
 * Built once: zod 4 compiles a fast path for each schema object on its first parse, so a schema
 * derived per call (`outputsSchema.partial()` inside the function) was compiled on every read
 * (about 0.9 ms of each, in the fleet bench's host profile).
 */
const priorSchema = outputsSchema.partial();

function parsePrior(olds: Props | undefined): Partial<LicenseServerOutputs> | undefined {
  if (!olds) return undefined;
  const parsed = priorSchema.safeParse(olds);
  return parsed.success ? parsed.data : undefined;
}

const ACTIVATE_DOING = "activating license server";

/** The activation call to make, or undefined (none wanted: already activated, or a pending web/telephone). */
function activationCallFor(
  inputs: LicenseServerInputs,
  live: LiveServer,
  prior: Partial<LicenseServerOutputs> | undefined,
  host: string,
): { call: ActivationCall; licenseServerId?: string } | undefined {
  if (live.activationStatus === 0) return undefined;
  const activatedBefore = !!prior?.activatedProductId && prior.activatedProductId === live.productId;
  const { method, licenseServerId } = inputs.activation;
  if (method === "automatic") {
    return { call: activatedBefore ? "ReactivateServerAutomatic" : "ActivateServerAutomatic" };
  }
  if (!licenseServerId) return undefined; // pending: phase one of web/telephone
  const rebuilt = !!prior?.activatedProductId && !!live.productId && prior.activatedProductId !== live.productId;
  if (rebuilt && prior?.activation?.licenseServerId === licenseServerId) {
    throw new RdsError(
      ErrorCode.Rejected,
      `${ACTIVATE_DOING} on ${host}: the server was rebuilt: its product id changed from ${prior.activatedProductId} to ${live.productId}, ` +
        `and activation.licenseServerId was issued for ${prior.activatedProductId}; get a new license server id for product id ${live.productId} ` +
        `(${method === "web" ? `at ${ACTIVATION_WEB_SITE}` : "by telephone, at the number the Activate Server wizard shows"}; on the simulator: ` +
        `npx rds-sim clearinghouse license-server-id ${live.productId}) and set activation.licenseServerId to it`,
      { host },
    );
  }
  return { call: activatedBefore ? "ReactivateServer" : "ActivateServer", licenseServerId };
}

interface ConvergeResult {
  outputs: LicenseServerOutputs;
}

/** Thrown for a partial success: the host packs it as ErrorResourceInitFailed and the engine records it. */
class PartialFailure extends Error {
  constructor(
    readonly id: string,
    readonly properties: Props,
    readonly reasons: string[],
    message: string,
  ) {
    super(message);
    this.name = "PartialFailure";
  }
}

async function converge(
  id: string,
  inputs: LicenseServerInputs,
  prior: Partial<LicenseServerOutputs> | undefined,
  providerCode: unknown,
): Promise<ConvergeResult> {
  const connection = inputs.connection as Connection;
  const host = connection.host;
  const done: string[] = [];
  let live: LiveServer | undefined;
  try {
    await ensureRole(connection, inputs.installRole, done);
    live = liveServer(await readLive(connection, "reading license server"), host, "reading license server");

    // Contact (all properties in one Set-CimInstance) and discovery scope: only what differs.
    const contactDiffers = !sameValue(live.contact, inputs.contact);
    const wantRole = inputs.discoveryScope === undefined ? undefined : DISCOVERY_SCOPE_ROLE[inputs.discoveryScope];
    const roleDiffers = wantRole !== undefined && live.serverRole !== wantRole;
    if (contactDiffers || roleDiffers) {
      const set = await run(connection, {
        name: "set",
        args: { contact: contactDiffers ? inputs.contact : null, serverRole: roleDiffers ? wantRole : null },
        result: setResultSchema,
        timeoutMs: TIMEOUT_MS.set,
        doing: "setting license server properties",
      });
      if (set.changedProperties.length) done.push(`set ${set.changedProperties.join(", ")}`);
      if (set.roleChanged) done.push("changed the discovery scope");
    }

    let origin = originOf(live, prior);
    const call = activationCallFor(inputs, live, prior, host);
    if (call) {
      // activate.ps1 types the failures: RDS_CLEARINGHOUSE_UNREACHABLE (names web and telephone),
      // RDS_REJECTED (a license server id the Clearinghouse did not issue for this product id).
      const activated: ActivateResult = await run(connection, {
        name: "activate",
        args: { call: call.call, licenseServerId: call.licenseServerId ?? null, reason: REACTIVATION_REASON },
        result: activateResultSchema,
        timeoutMs: TIMEOUT_MS.activate,
        doing: ACTIVATE_DOING,
      });
      if (activated.call !== "none") {
        origin = { activationMethod: inputs.activation.method, activatedProductId: live.productId };
        done.push(`called ${activated.call}`);
      }
    }

    const after = liveServer(await readLive(connection, "reading license server"), host, "reading license server");
    if (!call) origin = originOf(after, prior);
    return { outputs: buildOutputs(inputs, after, origin, prior) };
  } catch (e) {
    if (done.length === 0) throw e;
    // Something was done before the failure: record it (partial success), with what is live now.
    let current: LiveServer | undefined = live;
    try {
      const again = await readLive(connection, "reading license server");
      if (again.server) current = again.server;
    } catch {
      // keep what we had
    }
    const origin = current ? originOf(current, prior) : { activationMethod: prior?.activationMethod ?? "", activatedProductId: prior?.activatedProductId ?? "" };
    const outputs = buildOutputs(inputs, current, origin as { activationMethod: ActivationOrigin | ""; activatedProductId: string }, prior);
    const reason = e instanceof Error ? (withCode(e) as Error).message : String(e);
    // The host does not add __provider to an init failure's properties: without it the engine could not
    // read or delete the recorded resource later.
    const properties: Props = wrapSecrets({ ...(outputs as unknown as Props) }, SECRET_OUTPUTS);
    if (providerCode !== undefined) properties.__provider = providerCode;
    throw new PartialFailure(id, properties, [`${reason} (already done: ${done.join("; ")})`], `${reason} (already done: ${done.join("; ")})`);
  }
}

// ---- the provider -------------------------------------------------------------------------------------

/**
 * Only an error's message crosses the dynamic-provider host to the engine, so the stable code is put at
 * its end (`... [RDS_REJECTED]`) for users (and tests) who only see the message.
 */
function withCode(e: unknown): unknown {
  if (isRdsError(e) && !e.message.endsWith(`[${e.code}]`)) e.message = `${e.message} [${e.code}]`;
  return e;
}


function idFor(inputs: LicenseServerInputs): string {
  return (inputs.connection as Connection).host;
}

/** The connection holds credentials: secret in every answer (provider/resources/secrets.ts). */
const SECRET_OUTPUTS = ["connection"] as const;

export const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
    const res = checkWithSchema(argsSchema, unwrapSecrets(news));
    return { ...res, inputs: wrapSecrets(res.inputs, SECRET_OUTPUTS) };
  },

  async diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
    const o = unwrapSecrets(olds);
    return compare(diffSpec, desiredView(unwrapSecrets(news), o), actualView(o)).result;
  },

  async create(rawNews: Props): Promise<pulumi.dynamic.CreateResult> {
    const news = unwrapSecrets(rawNews);
    try {
      const inputs = parseInputs(news);
      const id = idFor(inputs);
      const { outputs } = await converge(id, inputs, undefined, news.__provider);
      return { id, outs: wrapSecrets(outputs, SECRET_OUTPUTS) };
    } catch (e) {
      throw withCode(e);
    }
  },

  async read(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult> {
    try {
      const res = await readState(id, unwrapSecrets(props));
      return res.props ? { ...res, props: wrapSecrets(res.props, SECRET_OUTPUTS) } : res;
    } catch (e) {
      throw withCode(e);
    }
  },

  async update(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
    try {
      const res = await updateState(id, unwrapSecrets(olds), unwrapSecrets(news));
      return { ...res, outs: wrapSecrets(res.outs, SECRET_OUTPUTS) };
    } catch (e) {
      throw withCode(e);
    }
  },

  async delete(_id: string, rawProps: Props): Promise<void> {
    const state = unwrapSecrets(rawProps) as Props;
    if (state.deactivateOnDelete !== true) return; // default: the activation stays in place, nothing runs
    const connection = state.connection as Connection | undefined;
    if (!connection || typeof connection.host !== "string") return;
    try {
      // deactivate.ps1 answers RDS_CLEARINGHOUSE_UNREACHABLE with the ways out (telephone, or leave it).
      await run(connection, {
        name: "deactivate",
        args: {},
        result: deactivateResultSchema,
        timeoutMs: TIMEOUT_MS.deactivate,
        doing: "deactivating license server",
      });
    } catch (e) {
      throw withCode(e);
    }
  },
};

async function readState(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult> {
  const prior = parsePrior(props);
  const state = (props ?? {}) as Props;
  const connection = state.connection as Connection | undefined;
  if (!connection || typeof connection.host !== "string") {
    throw new RdsError(ErrorCode.Validation, `reading license server ${id}: the state holds no connection`);
  }
  const live = await readLive(connection, "reading license server");
  if (!live.roleInstalled) return {}; // no RDS-Licensing role: the license server is gone
  const inputsLike = {
    connection: state.connection,
    contact: prior?.contact,
    activation: prior?.activation ?? { method: "automatic" },
    installRole: prior?.installRole ?? true,
    discoveryScope: prior?.discoveryScope,
    deactivateOnDelete: prior?.deactivateOnDelete ?? false,
  } as unknown as LicenseServerInputs;
  if (!live.server) {
    // The role is there but the class does not answer (service stopped): nothing live to report.
    return {
      id,
      props: {
        ...state,
        activationStatus: "unknown",
        nextStep: `Win32_TSLicenseServer does not answer (TermServLicensing service: ${live.serviceStatus || "missing"}): run pulumi up, which starts the service, or start it by hand`,
      },
    };
  }
  const origin = originOf(live.server, prior);
  const outputs = buildOutputs(inputsLike, live.server, origin, prior);
  const refreshed: Props = { ...state, ...outputs };
  if (prior?.discoveryScope === undefined) delete refreshed.discoveryScope;
  return { id, props: refreshed };
}

async function updateState(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
  const inputs = parseInputs(news);
  const prior = parsePrior(olds);
  const { diffs } = compare(diffSpec, desiredView(news, olds), actualView(olds));
  if (diffs.length > 0 && diffs.every((d) => STATE_ONLY_FIELDS.has(d))) {
    // Only how we reach the host (credentials, the simulator's stateDir) or provider-side options
    // changed: nothing to do on the host, the new values go to state. (An empty diff is the engine
    // continuing after a partial failure: that converges like any other update.)
    const outs: Props = {
      ...olds,
      connection: inputs.connection,
      installRole: inputs.installRole,
      deactivateOnDelete: inputs.deactivateOnDelete,
    };
    delete outs.__provider;
    return { outs };
  }
  const { outputs } = await converge(id, inputs, prior, news.__provider);
  return { outs: outputs };
}
