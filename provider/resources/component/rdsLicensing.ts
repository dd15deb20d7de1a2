/**
 * RdsLicensing: a ComponentResource for declarative environment templates. One license server, its
 * CAL packs, and the session hosts (or one deployment through its broker), wired so the graph is right
 * by construction: the packs take the license server resource (activation before installation) and the
 * hosts take the packs (installation before the hosts are pointed at the server). The whole set is
 * validated before any resource is registered. Phase 1 of a web or telephone activation (no license
 * server id yet) registers the license server only and defers the rest, with a warning that says what
 * to do next (phase.ts). See README.md in this folder.
 */
import * as pulumi from "@pulumi/pulumi";
import { ErrorCode, RdsError, withCodeSuffix } from "../../errors";
import type { OrString } from "../../inputTypes";
import type { RdsConnectionArgs } from "../../powershell/connectionArgs";
import { RdsCalPack, type RdsCalPackArgs } from "../calPack/resource";
import { RdsLicenseServer, type RdsLicenseServerArgs } from "../licenseServer/resource";
import { RdsSessionHostLicensing } from "../sessionHostLicensing/resource";
import {
  evaluateModeAgainstCals,
  isCalVersion,
  isHostOsVersion,
  isMode,
  modeLabel,
  osLabel,
  HOST_OS_VERSIONS,
  type HostOsVersion,
  type Mode,
  type PackFact,
} from "../sessionHostLicensing/rules";
import { transportOf } from "../licenseServer/rules";
import type { ActivationStatus } from "../licenseServer/schema";
import { computeFindings, type Finding, type FindingsInput } from "./findings";
import { deferredNames, pendingActivationMethod, pendingNextStep, type Deferred, type PendingMethod } from "./phase";

export type { Finding } from "./findings";
export type { PendingMethod } from "./phase";

/** One CAL pack of the environment: RdsCalPack's arguments without `licenseServer` (the component's). */
export interface RdsLicensingCalPackArgs extends Omit<RdsCalPackArgs, "licenseServer"> {
  /** Resource name suffix (`<component>-<name>`), unique in the component. Default: `cal<n>` (1-based). */
  name?: string;
}

/** One RD Session Host of the environment. */
export interface RdsLicensingSessionHostArgs {
  /** Resource name suffix (`<component>-<name>`), unique in the component. Required. */
  name: string;
  /** How to reach the host (every field an Input, e.g. a password from `cfg.requireSecret`). Secret in state. Required. */
  connection: pulumi.Input<RdsConnectionArgs>;
  /**
   * The host's Windows Server version ("2008R2" ... "2025"), when known: lets the component refuse CALs
   * that are too old before anything is registered. Default: not checked here (the resource checks
   * the live OS before it changes anything). Plain (not an Input): it is checked when the component is
   * constructed; a string from config is accepted and checked then.
   */
  osVersion?: OrString<HostOsVersion>;
  /** Whether the host is domain-joined, when known (Per User needs a domain). Default: not checked here. */
  domainJoined?: boolean;
  /**
   * RdsSessionHostLicensing.installRole for this host: a host without the RD Session Host role gets
   * RDS-RD-Server installed and is restarted before its licensing is set. Default false (such a host
   * stops the update with RDS_SESSION_HOST_ROLE_MISSING).
   */
  installRole?: pulumi.Input<boolean>;
}

/** The deployment-wide alternative to session hosts: the connection broker. */
export interface RdsLicensingDeploymentArgs {
  /** Resource name suffix. Default "deployment". */
  name?: string;
  /** How to reach the RD Connection Broker (every field an Input). Secret in state. Required. */
  connection: pulumi.Input<RdsConnectionArgs>;
  /** The session hosts' Windows Server version, when known (see RdsLicensingSessionHostArgs.osVersion). */
  osVersion?: OrString<HostOsVersion>;
  /** Whether the deployment's hosts are domain-joined, when known. */
  domainJoined?: boolean;
}

export interface RdsLicensingArgs {
  /** The RD license server (RdsLicenseServer's arguments). Required. */
  licenseServer: RdsLicenseServerArgs;
  /** The CAL packs to install on it. Required, at least one of the mode's CAL type. */
  calPacks: RdsLicensingCalPackArgs[];
  /**
   * Licensing mode of every host: "perUser" or "perDevice". Required. Plain (not an Input): the component
   * checks it against the packs' CAL types and the hosts before registering anything, and the findings
   * compare with it; a string from config (`cfg.require("mode")`) is accepted and checked then.
   */
  mode: OrString<Mode>;
  /** The session hosts to configure (each its own RdsSessionHostLicensing). Exactly one of sessionHosts / deployment. */
  sessionHosts?: RdsLicensingSessionHostArgs[];
  /** The deployment to configure through its broker (one RdsSessionHostLicensing, scope "deployment"). */
  deployment?: RdsLicensingDeploymentArgs;
  /** The license server list the hosts get, in order. Default: `[licenseServer.serverName]`. */
  licenseServers?: pulumi.Input<pulumi.Input<string>[]>;
  /** RdsSessionHostLicensing.resetOnDelete for every host. Default false. */
  resetOnDelete?: boolean;
}

function isPlain<T>(value: pulumi.Input<T> | undefined): value is T {
  return value !== undefined && !pulumi.Output.isInstance(value) && !(value instanceof Promise);
}

function plainString(value: unknown): string | undefined {
  return isPlain(value as pulumi.Input<string>) && typeof value === "string" ? value : undefined;
}

const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Validates the whole environment with what is known at program time (plain values; Outputs are
 * skipped and left to the resources' own checks). Returns the problems, empty when valid.
 */
export function validateRdsLicensingArgs(args: RdsLicensingArgs): { modeProblems: string[]; otherProblems: string[] } {
  const modeProblems: string[] = [];
  const other: string[] = [];
  const mode = args.mode;
  if (!isMode(mode)) {
    other.push(`mode must be "perUser" or "perDevice", got ${JSON.stringify(mode)}`);
  }

  // Targets: session hosts xor deployment.
  const hasHosts = args.sessionHosts !== undefined;
  const hasDeployment = args.deployment !== undefined;
  if (hasHosts === hasDeployment) {
    other.push("give either sessionHosts (a list of hosts) or deployment (the connection broker), not both and not neither");
  }
  if (args.licenseServer === null || typeof args.licenseServer !== "object" || Array.isArray(args.licenseServer)) {
    other.push("licenseServer is required: give RdsLicenseServer's arguments ({ connection, contact, activation })");
  }
  if (hasHosts && !Array.isArray(args.sessionHosts)) other.push("sessionHosts must be a list of { name, connection } entries");
  else if (hasHosts && args.sessionHosts!.length === 0) other.push("sessionHosts is empty: list at least one session host");
  if (hasDeployment && (args.deployment === null || typeof args.deployment !== "object")) {
    other.push("deployment must be an object such as { connection } (the RD Connection Broker)");
  }
  if (args.licenseServers !== undefined && isPlain(args.licenseServers) && !Array.isArray(args.licenseServers)) {
    other.push("licenseServers must be a list of license server names (default: [the license server's serverName])");
  }
  if (args.resetOnDelete !== undefined && typeof args.resetOnDelete !== "boolean") {
    other.push(`resetOnDelete must be true or false, got ${typeof args.resetOnDelete}`);
  }
  const hostList = hasHosts && Array.isArray(args.sessionHosts) ? args.sessionHosts : [];
  const deploymentOk = hasDeployment && args.deployment !== null && typeof args.deployment === "object";
  hostList.forEach((h, i) => {
    if (h === null || typeof h !== "object") other.push(`sessionHosts[${i}] must be an object such as { name, connection }`);
    else if (h.connection === undefined || h.connection === null)
      other.push(`sessionHosts[${i}].connection is required: give how to reach the host`);
  });
  if (deploymentOk && (args.deployment!.connection === undefined || args.deployment!.connection === null)) {
    other.push("deployment.connection is required: give how to reach the RD Connection Broker");
  }
  // `field`: where the target is declared, so every problem names the argument to fix.
  const targets: { field: string; name: string; osVersion?: string; domainJoined?: boolean; connection: unknown }[] = hasHosts
    ? hostList
        .filter((h) => h !== null && typeof h === "object")
        .map((h, i) => ({
          field: `sessionHosts[${i}]`,
          name: h.name,
          osVersion: h.osVersion,
          domainJoined: h.domainJoined,
          connection: h.connection,
        }))
    : deploymentOk
      ? [
          {
            field: "deployment",
            name: args.deployment!.name ?? "deployment",
            osVersion: args.deployment!.osVersion,
            domainJoined: args.deployment!.domainJoined,
            connection: args.deployment!.connection,
          },
        ]
      : [];
  const seenNames = new Map<string, string>();
  const seenHosts = new Map<string, string>();
  for (const t of targets) {
    if (typeof t.name !== "string" || !RESOURCE_NAME.test(t.name)) {
      other.push(
        `${t.field}.name: session host name ${JSON.stringify(t.name)} must start with a letter or digit and hold only letters, digits, ".", "_" and "-"`,
      );
    } else if (seenNames.has(t.name.toLowerCase())) {
      other.push(`${t.field}.name: session host name "${t.name}" is used twice: give each host its own name`);
    } else seenNames.set(t.name.toLowerCase(), t.name);
    if (t.osVersion !== undefined && !isHostOsVersion(t.osVersion)) {
      other.push(
        `${t.field}.osVersion: session host "${t.name}": osVersion must be one of ${HOST_OS_VERSIONS.join(", ")}, got ${JSON.stringify(t.osVersion)}`,
      );
    }
    const conn = t.connection as Record<string, unknown> | undefined;
    const host = isPlain(conn) && conn !== null && typeof conn === "object" ? plainString(conn.host) : undefined;
    if (host !== undefined) {
      const key = host.toLowerCase();
      if (seenHosts.has(key))
        other.push(
          `${t.field}.connection.host: session hosts "${seenHosts.get(key)}" and "${t.name}" both target host ${host}: list each host once`,
        );
      else seenHosts.set(key, t.name);
    }
  }

  // Packs: names, duplicates.
  if (args.calPacks !== undefined && args.calPacks !== null && !Array.isArray(args.calPacks)) {
    other.push("calPacks must be a list of CAL packs (RdsCalPack's arguments without licenseServer)");
  } else if (!Array.isArray(args.calPacks) || args.calPacks.length === 0) {
    modeProblems.push(`calPacks is empty: the hosts need ${isMode(mode) ? modeLabel(mode) : "matching"} CALs; list at least one pack`);
  }
  const packs = Array.isArray(args.calPacks) ? args.calPacks : [];
  packs.forEach((p, i) => {
    if (p === null || typeof p !== "object" || Array.isArray(p))
      other.push(`calPacks[${i}] must be an object: RdsCalPack's arguments without licenseServer`);
  });
  const packNames = new Set<string>();
  const identities = new Map<string, string>();
  packs.forEach((p, i) => {
    if (p === null || typeof p !== "object" || Array.isArray(p)) return;
    const name = p.name ?? `cal${i + 1}`;
    if (!RESOURCE_NAME.test(name))
      other.push(
        `calPacks[${i}].name: CAL pack name ${JSON.stringify(name)} must start with a letter or digit and hold only letters, digits, ".", "_" and "-"`,
      );
    else if (packNames.has(name.toLowerCase()))
      other.push(`calPacks[${i}].name: CAL pack name "${name}" is used twice: give each pack its own name`);
    packNames.add(name.toLowerCase());
    const fields = [
      p.program,
      p.productVersion,
      p.calType,
      p.licenseCode,
      p.licenseNumber,
      p.authorizationNumber,
      p.agreementNumber,
      p.licenseKeyPackId,
      p.adoptKeyPackId,
    ];
    // Only when every identifying value is known (a secret Output hides it; then the pack's own journal decides).
    if (fields.every((f) => f === undefined || isPlain(f))) {
      const key = JSON.stringify(fields.map((f) => (typeof f === "string" ? f.replace(/[-\s]/g, "").toUpperCase() : (f ?? null))));
      const first = identities.get(key);
      if (first !== undefined) {
        other.push(
          `calPacks[${i}]: CAL packs "${first}" and "${name}" are the same pack (same program, version, CAL type and program data): declare it once (use quantity for more CALs)`,
        );
      } else identities.set(key, name);
    }
  });

  // Mode vs CAL types and versions (the mode rule of rules.ts), with what is declared.
  if (isMode(mode) && packs.length > 0 && packs.every((p) => p !== null && typeof p === "object")) {
    const facts: PackFact[] = packs.map((p) => ({
      calType: isPlain(p.calType) ? (isMode(p.calType) ? p.calType : null) : undefined,
      productVersion: isPlain(p.productVersion) ? (isCalVersion(p.productVersion) ? p.productVersion : null) : undefined,
    }));
    const described = packs
      .map(
        (p, i) =>
          `${p.name ?? `cal${i + 1}`} (${isPlain(p.calType) ? p.calType : "?"} ${isPlain(p.productVersion) ? p.productVersion : "?"})`,
      )
      .join(", ");
    const seen = new Set<string>();
    for (const t of targets.length ? targets : [{ name: "the hosts" } as (typeof targets)[number]]) {
      const verdict = evaluateModeAgainstCals({
        host: t.name,
        mode,
        osVersion: isHostOsVersion(t.osVersion) ? t.osVersion : undefined,
        domainJoined: t.domainJoined,
        packs: facts,
      });
      if (verdict.ok) continue;
      const text = `mode: ${t.name}${isHostOsVersion(t.osVersion) ? ` (${osLabel(t.osVersion)})` : ""}: ${verdict.problems.join("; ")} (packs declared: ${described}); to fix: ${verdict.fixes.join("; ")}`;
      if (!seen.has(text)) modeProblems.push(text);
      seen.add(text);
    }
  }
  return { modeProblems, otherProblems: other };
}

/**
 * One RDS licensing environment: license server, CAL packs, and session hosts or a deployment.
 * Type token: `rds:index:RdsLicensing`.
 */
export class RdsLicensing extends pulumi.ComponentResource {
  /** The license server (child `<name>-ls`). */
  declare readonly licenseServer: RdsLicenseServer;
  /** The CAL packs, in declaration order (children `<name>-<pack name>`); empty in phase 1 (see `deferred`). */
  declare readonly calPacks: RdsCalPack[];
  /** The session host licensing resources (children `<name>-<host name>`, or `<name>-deployment`); empty in phase 1. */
  declare readonly sessionHosts: RdsSessionHostLicensing[];
  /** Best Practices Analyzer-style findings (RDS-LIC-001 ...), computed from the resources' outputs. */
  declare readonly findings: pulumi.Output<Finding[]>;
  /** The license server's activation status (RdsLicenseServer.activationStatus). */
  declare readonly activationStatus: pulumi.Output<ActivationStatus>;
  /**
   * Phase 1 of a web or telephone activation: the names of the CAL packs and session hosts not
   * registered until the license server id is declared (packs first, in declaration order); [] otherwise.
   */
  declare readonly deferred: pulumi.Output<string[]>;
  /** What the administrator does next ("" when nothing): in phase 1 the text of the component's warning. */
  declare readonly nextStep: pulumi.Output<string>;

  constructor(name: string, args: RdsLicensingArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate the whole set first: on a problem, nothing (not even this component) is registered.
    const { modeProblems, otherProblems } = validateRdsLicensingArgs(args);
    if (modeProblems.length || otherProblems.length) {
      const code = modeProblems.length ? ErrorCode.ModeMismatch : ErrorCode.Validation;
      // The program's error output shows only the message: it ends with the code, as the resources' do.
      const problems = [...modeProblems, ...otherProblems].join(" | ");
      throw new RdsError(code, withCodeSuffix(`validating RdsLicensing "${name}": ${problems}`, code), {
        operation: "rdsLicensing.validate",
      });
    }
    super("rds:index:RdsLicensing", name, {}, opts);

    const child = { parent: this };
    const packNames = args.calPacks.map((p, i) => `${name}-${p.name ?? `cal${i + 1}`}`);
    const targets = args.sessionHosts
      ? args.sessionHosts.map((h) => ({
          name: h.name,
          connection: h.connection,
          scope: "sessionHost" as const,
          installRole: h.installRole,
        }))
      : [
          {
            name: args.deployment!.name ?? "deployment",
            connection: args.deployment!.connection,
            scope: "deployment" as const,
            installRole: undefined,
          },
        ];
    // Phase 1 (web/telephone, no license server id): the server only; packs and hosts wait (phase.ts).
    const pendingMethod = pendingActivationMethod(args.licenseServer);
    const deferred: Deferred = pendingMethod
      ? { calPacks: packNames, sessionHosts: targets.map((t) => `${name}-${t.name}`) }
      : { calPacks: [], sessionHosts: [] };

    const ls = new RdsLicenseServer(`${name}-ls`, args.licenseServer, child);
    // Activation before installation: each pack takes the license server resource.
    const packs = pendingMethod
      ? []
      : args.calPacks.map((p, i) => {
          // The name is the component's (the resource name), not a pack input.
          const { name: _name, ...packArgs } = p;
          return new RdsCalPack(packNames[i], { ...packArgs, licenseServer: ls }, child);
        });
    // Installation before pointing the hosts: each host takes the packs.
    const licenseServers = args.licenseServers ?? [ls.serverName];
    const hosts = pendingMethod
      ? []
      : targets.map(
          (t) =>
            new RdsSessionHostLicensing(
              `${name}-${t.name}`,
              {
                connection: t.connection,
                scope: t.scope,
                mode: args.mode,
                licenseServers,
                calPacks: packs,
                installRole: t.installRole,
                resetOnDelete: args.resetOnDelete ?? false,
              },
              child,
            ),
        );

    const nextStep = this.nextStepOf(ls, args, pendingMethod, deferred);
    const lsFacts = pulumi.output({
      serverName: ls.serverName,
      activationStatus: ls.activationStatus as pulumi.Output<string>,
      productId: ls.productId,
      nextStep,
      licenseServersGroup: ls.licenseServersGroup,
      calUsage: ls.calUsage,
    });
    const packFacts = pulumi.all(
      packs.map((p, i) =>
        pulumi.output({
          name: args.calPacks[i].name ?? `cal${i + 1}`,
          keyPackId: p.keyPackId,
          calType: p.calType,
          productVersion: p.productVersion,
          availableLicenses: p.availableLicenses,
          totalLicenses: p.totalLicenses,
        }),
      ),
    );
    const hostFacts = pulumi.all(
      hosts.map((h, i) =>
        pulumi.output({
          name: targets[i].name,
          serverName: h.serverName,
          effectiveMode: h.effectiveMode,
          modeSource: h.modeSource as pulumi.Output<string>,
          effectiveLicenseServers: h.effectiveLicenseServers,
          licenseServersSource: h.licenseServersSource as pulumi.Output<string>,
          gracePeriodDaysLeft: h.gracePeriodDaysLeft,
          osVersion: h.osVersion,
          domainJoined: h.domainJoined,
          connectivity: h.connectivity,
        }),
      ),
    );
    const findings = pulumi.all([lsFacts, packFacts, hostFacts]).apply(([lsf, pf, hf]) => {
      const { licenseServersGroup, calUsage, ...lsRest } = lsf;
      const input: FindingsInput = {
        mode: args.mode as Mode, // validated above
        // A fact the server could not report (null, or absent from an older state) is left out: its findings are not reported.
        licenseServer: { ...lsRest, licenseServersGroup: licenseServersGroup ?? undefined, calUsage: calUsage ?? undefined },
        packs: pf,
        hosts: hf.map((h) => ({
          ...h,
          effectiveLicenseServers: h.effectiveLicenseServers ?? [],
          gracePeriodDaysLeft: h.gracePeriodDaysLeft ?? null,
          osVersion: h.osVersion ?? "",
          domainJoined: h.domainJoined ?? null,
          connectivity: h.connectivity ?? undefined,
        })),
        deferred: pendingMethod ? deferred : undefined,
      };
      // The clock is the caller's: RDS-LIC-011 counts the Per Device licenses expiring within 30 days of now.
      return computeFindings(input, { now: new Date() });
    });
    const activationStatus = ls.activationStatus as pulumi.Output<ActivationStatus>;
    const deferredOutput = pulumi.output(deferredNames(deferred));

    Object.assign(this, {
      licenseServer: ls,
      calPacks: packs,
      sessionHosts: hosts,
      findings,
      activationStatus,
      deferred: deferredOutput,
      nextStep,
    });
    this.registerOutputs({ findings, activationStatus, deferred: deferredOutput, nextStep });
  }

  /**
   * The component's next step. Phase 2: the license server's own. Phase 1: what is deferred and how to
   * get and declare the id, also sent as a warning on this component (`pulumi up` shows it under the
   * component; the run itself succeeds). It is worded once the server's outputs are known, so a preview
   * of the very first run, where the product id is not known yet, shows no warning.
   */
  private nextStepOf(
    ls: RdsLicenseServer,
    args: RdsLicensingArgs,
    pendingMethod: PendingMethod | undefined,
    deferred: Deferred,
  ): pulumi.Output<string> {
    if (!pendingMethod) return ls.nextStep;
    // Only the transport is read from the (secret) connection: it is no secret, and the text must not be one.
    const transport = pulumi.unsecret(pulumi.output(args.licenseServer.connection).apply((c) => transportOf(c)));
    const facts = pulumi.all([ls.serverName, ls.productId, ls.activationStatus, ls.nextStep, ls.contact, transport]);
    return facts.apply(([serverName, productId, activationStatus, lsNextStep, contact, t]) => {
      const text = pendingNextStep({
        method: pendingMethod,
        transport: t,
        serverName,
        productId,
        activationStatus,
        nextStep: lsNextStep,
        countryRegion: contact?.countryRegion,
        deferred,
      });
      void pulumi.log.warn(text, this);
      return text;
    });
  }
}
