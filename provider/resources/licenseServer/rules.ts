/**
 * RdsLicenseServer's decisions, free of I/O: what the comparator compares, the status an up should
 * leave, which activation call to make, how the current activation came about, what the administrator
 * does next, and the outputs built from what is live. provider.ts runs the steps around them.
 */
import { sameValue } from "../../diff";
import {
  ACTIVATION_WEB_SITE,
  DISCOVERY_SCOPE_ROLE,
  FIELDS,
  discoveryScopeFromRole,
  type ActivationCall,
  type ActivationMethod,
  type ActivationOrigin,
  type ActivationStatus,
  type Contact,
  type CalUsage,
  type GetResult,
  type LicenseServerInputs,
  type LicenseServersGroup,
  type LicenseServerOutputs,
} from "./schema";

type Props = Record<string, unknown>;
/** The live server with its Active Directory and CAL usage facts (get.ps1 reports them beside `server`). */
export type LiveServer = NonNullable<GetResult["server"]> & {
  licenseServersGroup?: LicenseServersGroup | null;
  calUsage?: CalUsage | null;
};

/** The live server of a read (null when the class does not answer), its facts merged in. */
export function liveServerOf(live: GetResult): LiveServer | null {
  if (!live.server) return null;
  return { ...live.server, licenseServersGroup: live.licenseServersGroup, calUsage: live.calUsage };
}
export type Prior = Partial<LicenseServerOutputs> | undefined;
/** How the current (or last) activation came about: the outputs `activationMethod` and `activatedProductId`. */
export interface Origin {
  activationMethod: ActivationOrigin | "";
  activatedProductId: string;
}

// ---- comparator views --------------------------------------------------------------------------------

function connectionPart(connection: unknown, key: string): unknown {
  return connection !== null && typeof connection === "object" ? (connection as Props)[key] : connection;
}

/** True when these inputs ask for an activated server (not a pending web/telephone activation). */
export function wantsActivated(activation: unknown): boolean {
  if (activation === null || typeof activation !== "object") return false;
  const a = activation as Props;
  return a.method === "automatic" || (a.licenseServerId !== undefined && a.licenseServerId !== null && a.licenseServerId !== "");
}

/**
 * The status an up should leave. A declaration that can activate wants "activated". A pending
 * web/telephone one leaves the server as it is, except when the last read could not tell
 * ("unknown": the TermServLicensing service was stopped): then the up must run, because converging
 * starts the service (wait.ps1) and reads the real status again.
 */
export function desiredStatus(activation: unknown, stored: unknown): unknown {
  if (wantsActivated(activation)) return "activated";
  return stored === "unknown" ? "pending" : stored;
}

/** One side of the comparison: every compared field of FIELDS, host and transport taken from the connection. */
function view(props: Props, activationStatus: unknown): Props {
  const out: Props = {};
  for (const key of Object.keys(FIELDS.diffSpec)) {
    out[key] = key === "host" || key === "transport" ? connectionPart(props.connection, key) : props[key];
  }
  out.activationStatus = activationStatus;
  return out;
}

/**
 * The state side of addToLicenseServersGroup: what state recorded, unless the last read found the server
 * out of the group (removed by hand): then false, so a declaration asking for it plans an update. A
 * membership that could not be read (null) is no drift.
 */
function appliedGroupMembership(olds: Props): boolean {
  if (olds.addToLicenseServersGroup !== true) return false;
  const group = olds.licenseServersGroup as { member?: unknown } | null | undefined;
  return group?.member !== false;
}

/** What the inputs ask for (news), given what state holds (olds). */
export function desiredView(news: Props, olds: Props): Props {
  const out = view(news, desiredStatus(news.activation, olds.activationStatus));
  out.addToLicenseServersGroup = news.addToLicenseServersGroup === true;
  return out;
}

/** What state holds (the outputs, refreshed by read). */
export function actualView(olds: Props): Props {
  const out = view(olds, olds.activationStatus);
  out.addToLicenseServersGroup = appliedGroupMembership(olds);
  return out;
}

/** Whether converging must run group.ps1: asked for, and the server is not known to be in the group. */
export function groupAddNeeded(inputs: LicenseServerInputs, live: LiveServer): boolean {
  return inputs.addToLicenseServersGroup && live.licenseServersGroup?.member !== true;
}

// ---- converge decisions ------------------------------------------------------------------------------

/** What set.ps1 must write: the contact and/or the ServerRole, only where they differ (null: leave it). */
export function settingsToWrite(inputs: LicenseServerInputs, live: LiveServer): { contact: Contact | null; serverRole: number | null } {
  const contactDiffers = !sameValue(live.contact, inputs.contact);
  const wantRole = inputs.discoveryScope === undefined ? undefined : DISCOVERY_SCOPE_ROLE[inputs.discoveryScope];
  const roleDiffers = wantRole !== undefined && live.serverRole !== wantRole;
  return { contact: contactDiffers ? inputs.contact : null, serverRole: roleDiffers ? wantRole : null };
}

/**
 * The activation step: none (already activated, or a pending web/telephone declaration), a call, or a
 * refusal (a rebuilt server whose declared license server id was issued for its old product id).
 */
export type ActivationDecision =
  | { kind: "none" }
  | { kind: "call"; call: ActivationCall; licenseServerId?: string }
  | { kind: "rebuilt"; method: ActivationMethod; oldProductId: string; newProductId: string; transport: string };

export function activationCallFor(inputs: LicenseServerInputs, live: LiveServer, prior: Prior): ActivationDecision {
  if (live.activationStatus === 0) return { kind: "none" };
  // Not activated: Activate*, whatever the server's history (activated before, deactivated, rebuilt).
  // Microsoft documents Reactivate* for an activated server only, and no input asks for it.
  const { method, licenseServerId } = inputs.activation;
  if (method === "automatic") return { kind: "call", call: "ActivateServerAutomatic" };
  if (!licenseServerId) return { kind: "none" }; // pending: phase one of web/telephone
  const rebuilt = !!prior?.activatedProductId && !!live.productId && prior.activatedProductId !== live.productId;
  if (rebuilt && prior?.activation?.licenseServerId === licenseServerId) {
    return {
      kind: "rebuilt",
      method,
      oldProductId: prior.activatedProductId!,
      newProductId: live.productId,
      // The refusal names the route to a new id, which depends on the transport (messages.rebuiltServer).
      transport: transportOf(inputs.connection),
    };
  }
  return { kind: "call", call: "ActivateServer", licenseServerId };
}

/** How the server's activation came about, given what state knew and what is live now. */
export function originOf(live: LiveServer, prior: Prior): Origin {
  const sameServer = !!prior?.activatedProductId && prior.activatedProductId === live.productId;
  if (live.activationStatus === 0) {
    if (sameServer && prior?.activationMethod) return { activationMethod: prior.activationMethod, activatedProductId: live.productId };
    return { activationMethod: "external", activatedProductId: live.productId };
  }
  // Not activated now: keep the record of the last activation (it tells a rebuilt server from a deactivated one).
  return priorOrigin(prior);
}

/** The origin state recorded (when nothing live says otherwise). */
export function priorOrigin(prior: Prior): Origin {
  return { activationMethod: prior?.activationMethod ?? "", activatedProductId: prior?.activatedProductId ?? "" };
}

// ---- outputs -----------------------------------------------------------------------------------------

export function statusOf(liveStatus: number | undefined, activation: { method: string; licenseServerId?: string }): ActivationStatus {
  if (liveStatus === 0) return "activated";
  if (liveStatus === 1) return wantsActivated(activation) ? "notActivated" : "pending";
  return "unknown";
}

function formatProductId(productId: string): string {
  return productId || "(unknown: the server did not report one)";
}

/** The transport a connection names ("" when it names none: a state without a connection). */
export function transportOf(connection: unknown): string {
  const transport = connection !== null && typeof connection === "object" ? (connection as Props).transport : undefined;
  return typeof transport === "string" ? transport : "";
}

/** The rds-sim command that plays the Clearinghouse for a product id (the simulator's web site and telephone operator). */
export function simulatorLicenseServerIdCommand(productId: string): string {
  return `npx rds-sim clearinghouse license-server-id ${productId}`;
}

/**
 * How to get the license server id for a product id, by the route the transport really has. On a real
 * server (local, ssh, winrm) that is Microsoft's web site or the telephone number the Activate Server
 * wizard shows, never rds-sim: nothing on a real network answers it. On the simulator the product id is
 * made up, so the web site cannot issue an id for it: the rds-sim command plays the Clearinghouse, and
 * the real route is named after it, in brackets, for the day the program meets Windows.
 */
export function activationRoute(method: string, transport: string, productId: string, countryRegion?: string): string {
  const pid = formatProductId(productId);
  const real =
    method === "telephone"
      ? `call the Microsoft Clearinghouse at the telephone number RD Licensing Manager's Activate Server wizard shows for your country/region` +
        `${countryRegion ? ` (${countryRegion})` : ""}, read product id ${pid} to the operator, and write down the license server id (35 characters) you are given`
      : `go to ${ACTIVATION_WEB_SITE}, choose to activate a license server, enter product id ${pid} and your contact details, and copy the license server id (35 characters) it gives you`;
  if (transport !== "simulator") return real;
  return `on the simulator, run ${simulatorLicenseServerIdCommand(pid)}, which prints the license server id (on a real license server you would ${real})`;
}

const UNDETERMINED =
  "the activation state of the license server cannot be determined: check the TermServLicensing service, then run pulumi up";

/**
 * What the administrator does next, for a server that is not activated (or "" when nothing). The route
 * to the license server id is the one of the connection's transport (activationRoute).
 */
export function nextStepFor(
  status: ActivationStatus,
  inputs: { activation: { method: string; licenseServerId?: string }; contact?: { countryRegion?: string }; connection?: unknown },
  productId: string,
  prior?: { activatedProductId?: string; licenseServerId?: string },
): string {
  if (status === "activated") return "";
  const method = inputs.activation.method;
  const rebuilt =
    prior?.activatedProductId && productId && prior.activatedProductId !== productId
      ? `the server's product id changed from ${prior.activatedProductId} to ${productId} (the server was rebuilt), so a license server id issued for ${prior.activatedProductId} no longer fits: `
      : "";
  if (status === "unknown") return UNDETERMINED;
  if (method === "automatic") {
    return `${rebuilt}the license server is not activated: run pulumi up to activate it automatically (the server needs outbound HTTPS to the Clearinghouse; otherwise use method "web" or "telephone")`;
  }
  if (status === "pending" || rebuilt) {
    const route = activationRoute(method, transportOf(inputs.connection), productId, inputs.contact?.countryRegion);
    return `${rebuilt}to activate by ${method}: ${route}; then set activation.licenseServerId to it and run pulumi up again`;
  }
  // notActivated with a license server id given: the next up activates with it (ActivateServer).
  return `the license server is not activated: run pulumi up to activate it with activation.licenseServerId`;
}

/** The outputs: the inputs as applied, the contact and scope as live, the activation as live and as recorded. */
export function buildOutputs(
  inputs: LicenseServerInputs,
  live: LiveServer | undefined,
  origin: Origin,
  prior: Prior,
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
    addToLicenseServersGroup: inputs.addToLicenseServersGroup,
    licenseServersGroup: live ? (live.licenseServersGroup ?? null) : (prior?.licenseServersGroup ?? null),
    calUsage: live ? (live.calUsage ?? null) : (prior?.calUsage ?? null),
  };
  // Managed only when declared: then the live value (undefined when the server reports none, or a
  // value outside 0..2, which the comparator sees as a difference).
  if (inputs.discoveryScope !== undefined) {
    out.discoveryScope = live ? discoveryScopeFromRole(live.serverRole) : prior?.discoveryScope;
  }
  return out;
}

/** The inputs a read works from: what state recorded, with the defaults where it recorded nothing. */
export function inputsFromState(state: Props, prior: Prior): LicenseServerInputs {
  return {
    connection: state.connection,
    contact: prior?.contact,
    activation: prior?.activation ?? { method: "automatic" },
    installRole: prior?.installRole ?? true,
    discoveryScope: prior?.discoveryScope,
    addToLicenseServersGroup: prior?.addToLicenseServersGroup ?? false,
    deactivateOnDelete: prior?.deactivateOnDelete ?? false,
  } as unknown as LicenseServerInputs;
}

/** The nextStep of a read that found the role but not the class (service stopped). */
export function classNotAnsweringStep(serviceStatus: string): string {
  return `Win32_TSLicenseServer does not answer (TermServLicensing service: ${serviceStatus || "missing"}): run pulumi up, which starts the service, or start it by hand`;
}
