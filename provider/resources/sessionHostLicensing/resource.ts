/**
 * RdsSessionHostLicensing: the licensing mode and license server list of one RD Session Host
 * (Win32_TerminalServiceSetting), or of a whole deployment through its connection broker
 * (Set-RDLicenseConfiguration). See README.md in this folder.
 */
import * as pulumi from "@pulumi/pulumi";
import type { LICENSING_TYPE } from "../../licensing/facts";
import type { OrString } from "../../inputTypes";
import type { RdsConnection, RdsConnectionArgs } from "../../powershell/connectionArgs";
import { lazyProvider } from "../../shim";
import { withOutputSeeds } from "../fields";
import type { HostOsVersion, Mode, Scope } from "./rules";
import { connectivityWarning, type ConnectivityEntry } from "./connectivity";
import { OUTPUT_KEYS, SECRET_OUTPUTS, type CalPackRef, type Source } from "./schema";

export type { HostOsVersion, Mode as LicensingMode, Scope as SessionHostLicensingScope } from "./rules";
export type { Source as LicensingSettingSource } from "./schema";
export type { ConnectivityEntry as LicenseServerConnectivity } from "./connectivity";

/**
 * The licensing mode in effect as a host reports it: "perUser", "perDevice", "notConfigured", another
 * Win32_TerminalServiceSetting LicensingType meaning ("aadPerUser", "remoteDesktopForAdministration",
 * "personalTerminalServer"), or `unknown(<value>)` for a value Windows documents nowhere.
 */
export type EffectiveLicensingMode = keyof typeof LICENSING_TYPE | `unknown(${string})`;

/** A CAL pack as the provider saw it (built from an RdsCalPack's outputs): the `calPacks` output. */
export type SessionHostCalPackRef = CalPackRef;

/** One provider object for every instance: it captures only the module name (serialized once). */
const sessionHostLicensingProvider = lazyProvider("pulumi-rds-licensing/resources/sessionHostLicensing/provider");

/** What RdsSessionHostLicensing needs of a CAL pack: an RdsCalPack (any object with these outputs). */
export interface SessionHostCalPack {
  /** The WMI KeyPackId of the pack. */
  readonly keyPackId: pulumi.Output<number>;
  /** "perUser" or "perDevice". */
  readonly calType: pulumi.Output<string>;
  /** "2008R2" .. "2025". */
  readonly productVersion: pulumi.Output<string>;
  /** How to reach the pack's license server (secret). */
  readonly connection: pulumi.Output<RdsConnection>;
  /** The license server's computer name (for messages). */
  readonly licenseServerName?: pulumi.Output<string>;
}

export interface RdsSessionHostLicensingArgs {
  /**
   * How to reach the RD Session Host (scope "sessionHost") or the RD Connection Broker (scope
   * "deployment"), e.g. `{ transport: "simulator", host: "sh01" }`. The host is the resource's
   * identity: another host replaces it; other connection changes only update state. Every field takes
   * an Input (`password: cfg.requireSecret("pw")`). Secret. Required.
   */
  connection: pulumi.Input<RdsConnectionArgs>;
  /**
   * `"sessionHost"`: this host's own settings (Win32_TerminalServiceSetting). `"deployment"`: the
   * deployment-wide settings through the connection broker (Set-RDLicenseConfiguration -Force).
   * Changing it replaces the resource. A string from config is accepted and checked at `check`.
   * Default: "sessionHost".
   */
  scope?: pulumi.Input<OrString<Scope>>;
  /**
   * Licensing mode: `"perUser"` or `"perDevice"`. Must match the CALs (see calPacks). Required. A string
   * from config is accepted (`cfg.require("mode")`) and checked at `check` (RDS_VALIDATION names the
   * allowed values); a required field takes no `undefined`, so `cfg.get("mode")` needs its default:
   * `cfg.get("mode") ?? "perUser"`.
   */
  mode: pulumi.Input<OrString<Mode>>;
  /**
   * The license servers to use, in order (the first is tried first), usually
   * `[licenseServer.serverName]`. Order matters; case does not. A whole list from another resource or
   * from config (an `Output<string[]>`) is accepted too. Required, at least one.
   */
  licenseServers: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * The RdsCalPack resources whose CALs cover these hosts. Each must exist on its license server; at
   * least one must be of the mode's CAL type with a version that covers the host OS (checked in
   * preview with what is known, and against the live packs and host before anything changes).
   * Taking them also makes Pulumi configure the host only after the packs are installed.
   * Default: none (only "Per User needs a domain" is checked).
   */
  calPacks?: pulumi.Input<SessionHostCalPack>[];
  /**
   * A host without the RD Session Host role (Win32_TerminalServiceSetting.TerminalServerMode 0) has no
   * use for licensing settings: by default the operation stops before any change
   * (RDS_SESSION_HOST_ROLE_MISSING). `true`: install RDS-RD-Server, restart the host, wait for it to
   * come back (bounded, with progress lines), reconnect and go on, in the same create or update. Scope
   * "sessionHost" only. On a host that has the role it changes nothing. Default: false.
   */
  installRole?: pulumi.Input<boolean>;
  /**
   * On delete, empty the host's license server list (scope sessionHost) or set the deployment's mode
   * to NotConfigured and empty its list (scope deployment). The host's mode is left: ChangeMode
   * cannot set "not configured". Default: false (delete leaves the host configured).
   */
  resetOnDelete?: pulumi.Input<boolean>;
}

/**
 * The CAL pack facts the provider receives, built from an RdsCalPack's outputs: one object whose fields
 * stay separate Inputs. At preview a new pack's keyPackId (and its license server's name) are unknown
 * while its calType and productVersion (inputs of the pack) are known: the SDK serializes an object
 * field by field, so the known ones reach `check`, which can then refuse a mode the pack's CAL type
 * cannot serve before anything runs. (A `pulumi.all` over the pack would make the whole entry unknown.)
 */
function packRef(pack: pulumi.Input<SessionHostCalPack>): pulumi.Input<Record<string, pulumi.Input<unknown>>> {
  const facts = (p: SessionHostCalPack): Record<string, pulumi.Input<unknown>> => ({
    keyPackId: p.keyPackId,
    calType: p.calType,
    productVersion: p.productVersion,
    licenseServerConnection: p.connection,
    licenseServerName: p.licenseServerName ?? "",
  });
  // A pack given as an Output or a Promise of a pack object: its fields are only reachable through it.
  if (pulumi.Output.isInstance(pack) || pack instanceof Promise) {
    return pulumi.output(pack as pulumi.Input<SessionHostCalPack>).apply((p) => pulumi.output(facts(p as unknown as SessionHostCalPack)));
  }
  return facts(pack as SessionHostCalPack);
}

/**
 * Licensing mode and license server list of an RD Session Host, or of an RDS deployment.
 * Type token: `pulumi-nodejs:dynamic/rds:SessionHostLicensing`.
 */
export class RdsSessionHostLicensing extends pulumi.dynamic.Resource {
  /** The connection, as given (its Inputs resolved). Secret. */
  declare readonly connection: pulumi.Output<RdsConnection>;
  /** "sessionHost" (default) or "deployment". */
  declare readonly scope: pulumi.Output<Scope>;
  /** The declared mode. */
  declare readonly mode: pulumi.Output<Mode>;
  /** The declared license servers, in order. */
  declare readonly licenseServers: pulumi.Output<string[]>;
  /** The CAL packs as the provider saw them (KeyPackId, type, version, license server). Secret (holds connections). */
  declare readonly calPacks: pulumi.Output<SessionHostCalPackRef[] | undefined>;
  /** installRole as applied (default false). */
  declare readonly installRole: pulumi.Output<boolean>;
  /** resetOnDelete as applied (default false). */
  declare readonly resetOnDelete: pulumi.Output<boolean>;
  /** The host (or broker) name as it reports itself (FQDN when domain-joined). */
  declare readonly serverName: pulumi.Output<string>;
  /**
   * The mode in effect, read live: "perUser", "perDevice", "notConfigured" (or another LicensingType
   * meaning such as "aadPerUser"). A Group Policy value wins over the local one.
   */
  declare readonly effectiveMode: pulumi.Output<EffectiveLicensingMode>;
  /** The license servers in effect, in order, read live (the policy list when a policy sets one). */
  declare readonly effectiveLicenseServers: pulumi.Output<string[]>;
  /** Where the mode comes from: "local" (WMI), "groupPolicy", or "deployment" (scope deployment). */
  declare readonly modeSource: pulumi.Output<Source>;
  /** Where the license server list comes from: "local", "groupPolicy" or "deployment". */
  declare readonly licenseServersSource: pulumi.Output<Source>;
  /** Days left in the 120-day licensing grace period (0 = over); null when not reported (scope deployment). */
  declare readonly gracePeriodDaysLeft: pulumi.Output<number | null>;
  /** The host's Windows Server version ("2022", "2012R2"...); "" when unknown. */
  declare readonly osVersion: pulumi.Output<HostOsVersion | "">;
  /** Whether the host is domain-joined (Per User needs a domain); null when unknown. */
  declare readonly domainJoined: pulumi.Output<boolean | null>;
  /** Whether the host has the RD Session Host role (TerminalServerMode 1), read live; null for scope deployment. */
  declare readonly sessionHostRole: pulumi.Output<boolean | null>;
  /**
   * Whether the host can use each license server in effect, read live (refresh updates it): one entry per
   * server, in order, from Win32_TerminalServiceSetting.GetTStoLSConnectivityStatus: `{ licenseServer,
   * status, name, meaning, ok }` (`ok`: a valid license server). [] for scope deployment.
   */
  declare readonly connectivity: pulumi.Output<ConnectivityEntry[]>;

  constructor(name: string, args: RdsSessionHostLicensingArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      sessionHostLicensingProvider,
      name,
      withOutputSeeds(OUTPUT_KEYS, {
        scope: args.scope,
        mode: args.mode,
        licenseServers: args.licenseServers,
        calPacks: args.calPacks === undefined ? undefined : args.calPacks.map(packRef),
        installRole: args.installRole,
        resetOnDelete: args.resetOnDelete,
        connection: pulumi.secret(args.connection),
      }),
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...SECRET_OUTPUTS] },
      "rds",
      "SessionHostLicensing",
    );
    // A license server the host cannot use is a warning, not a failure: the settings are applied as
    // declared (the server may be fixed later). Sent once the outputs are known (after create/update, and
    // on every up from the state), never in a preview of a new host.
    pulumi.all([this.serverName, this.connectivity]).apply(([serverName, connectivity]) => {
      const warning = connectivityWarning(serverName || name, connectivity);
      if (warning) void pulumi.log.warn(warning, this);
    });
  }
}
