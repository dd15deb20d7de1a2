/**
 * RdsLicenseServer: an RD license server, activated with Microsoft's Clearinghouse by the automatic,
 * web or telephone method (see README.md in this folder).
 */
import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../../shim";
import type { RdsConnection, RdsConnectionArgs } from "../../powershell/connectionArgs";
import type { OrString } from "../../inputTypes";
import { withOutputSeeds } from "../fields";
import {
  FIELDS,
  type ActivationMethod,
  type ActivationOrigin,
  type ActivationStatus,
  type CalUsage,
  type DiscoveryScope,
  type LicenseServersGroup,
} from "./schema";

export type { RdsConnection, RdsConnectionArgs } from "../../powershell/connectionArgs";
export type { ActivationMethod, ActivationOrigin, ActivationStatus, CalUsage, DiscoveryScope, LicenseServersGroup } from "./schema";

/** One provider object for every instance: it captures only the module name (serialized once). */
const licenseServerProvider = lazyProvider("pulumi-rds-licensing/resources/licenseServer/provider");

/** Contact registered with the Clearinghouse (Win32_TSLicenseServer properties). */
export interface RdsLicenseServerContactArgs {
  /** Contact first name (`FirstName`). Required, non-empty. */
  firstName: pulumi.Input<string>;
  /** Contact last name (`LastName`). Required, non-empty. */
  lastName: pulumi.Input<string>;
  /** Company (`Company`). Required, non-empty. */
  company: pulumi.Input<string>;
  /** Country or region (`CountryRegion`), as RD Licensing Manager lists it, e.g. "United Kingdom". Required, non-empty. */
  countryRegion: pulumi.Input<string>;
  /** E-mail address (`eMail`). Default: "" (cleared on the server). */
  email?: pulumi.Input<string>;
  /** Organizational unit (`OrgUnit`). Default: "" (cleared on the server). */
  orgUnit?: pulumi.Input<string>;
  /** Street address (`Address`). Default: "" (cleared on the server). */
  address?: pulumi.Input<string>;
  /** City (`City`). Default: "" (cleared on the server). */
  city?: pulumi.Input<string>;
  /** State or province (`State`). Default: "" (cleared on the server). */
  state?: pulumi.Input<string>;
  /** Postal code (`PostalCode`). Default: "" (cleared on the server). */
  postalCode?: pulumi.Input<string>;
}

/** The contact as read from the server (every field present; "" when empty). */
export interface RdsLicenseServerContact {
  firstName: string;
  lastName: string;
  company: string;
  countryRegion: string;
  email: string;
  orgUnit: string;
  address: string;
  city: string;
  state: string;
  postalCode: string;
}

/** How the server is activated with Microsoft's Clearinghouse: automatic, web or telephone. */
export interface RdsLicenseServerActivationArgs {
  /**
   * `"automatic"`: the server contacts the Clearinghouse itself (outbound TCP 443).
   * `"web"` / `"telephone"`: two phases. Without `licenseServerId` the resource is created `pending` and
   * `nextStep` says what to do with the `productId`; set `licenseServerId` and run `pulumi up` again.
   * A string from config is accepted and checked at `check` (RDS_VALIDATION names the allowed values).
   * Required, no default.
   */
  method: pulumi.Input<OrString<ActivationMethod>>;
  /**
   * The license server id (35 letters and digits) the Clearinghouse gave for this server's product id,
   * web or telephone method only. Hyphens and spaces are ignored, letters are upper-cased.
   * Default: none (the activation stays pending).
   */
  licenseServerId?: pulumi.Input<string>;
}

export interface RdsLicenseServerArgs {
  /**
   * How to reach the license server: transport and target host (`{ transport: "simulator", host: "ls01" }`).
   * Every field takes an Input (`password: cfg.requireSecret("pw")`). The host is the resource's
   * identity: another host replaces the resource; any other connection change (credentials, the
   * simulator's stateDir) only updates state. Secret in state. Required.
   */
  connection: pulumi.Input<RdsConnectionArgs>;
  /** Contact registered with the Clearinghouse. Required. Changes update the server in place. */
  contact: pulumi.Input<RdsLicenseServerContactArgs>;
  /** Activation method, and for web/telephone the license server id once you have it. Required. */
  activation: pulumi.Input<RdsLicenseServerActivationArgs>;
  /**
   * Install the RDS-Licensing role when it is missing, then wait (bounded, 300 s) until the
   * TermServLicensing service runs and Win32_TSLicenseServer answers. When false and the role is
   * missing, the operation fails with RDS_CLASS_NOT_READY. Default: true.
   */
  installRole?: pulumi.Input<boolean>;
  /**
   * Discovery scope (Win32_TSLicenseServer.ChangeRole): `"workgroup"` (0), `"domain"` (1, needs Domain
   * Admin) or `"forest"` (2, needs Enterprise Admin). A string from config is accepted and checked at
   * `check`. Default: not managed (left as the server has it).
   */
  discoveryScope?: pulumi.Input<OrString<DiscoveryScope>>;
  /**
   * Put the license server in its domain's "Terminal Server License Servers" group (AddLStoTSLSGroup), after
   * it is installed: without it, Per User CAL tracking and reporting do not work. Needs an account in Domain
   * Admins (else RDS_ACCESS_DENIED naming the right); a server in a workgroup is refused with RDS_VALIDATION
   * before anything is written. Converges (no call while a member); a refresh after a removal by hand shows
   * drift and the next up adds it again. Setting it back to false (or removing it) never removes the server
   * from the group: other servers' users may depend on it. Default: false (membership not managed).
   */
  addToLicenseServersGroup?: pulumi.Input<boolean>;
  /**
   * On delete, deactivate the server with DeactivateServerAutomatic (needs the Clearinghouse, whatever
   * method activated it; see README.md for telephone deactivation). Default: false (the activation is
   * left in place).
   */
  deactivateOnDelete?: pulumi.Input<boolean>;
}

export class RdsLicenseServer extends pulumi.dynamic.Resource {
  /** The connection, as given (its Inputs resolved). Secret. */
  declare readonly connection: pulumi.Output<RdsConnection>;
  /** The contact as read from the server (live: refresh shows contact drift). */
  declare readonly contact: pulumi.Output<RdsLicenseServerContact>;
  /** The activation input, normalised (licenseServerId without hyphens, upper-case). */
  declare readonly activation: pulumi.Output<{ method: ActivationMethod; licenseServerId?: string }>;
  /** installRole as applied (default true). */
  declare readonly installRole: pulumi.Output<boolean>;
  /** The discovery scope as read from the server, when managed; undefined otherwise. */
  declare readonly discoveryScope: pulumi.Output<DiscoveryScope | undefined>;
  /** deactivateOnDelete as applied (default false). */
  declare readonly deactivateOnDelete: pulumi.Output<boolean>;
  /** The license server's computer name (FQDN when domain-joined): what session hosts point at. */
  declare readonly serverName: pulumi.Output<string>;
  /** The license server's product id (give it to the Clearinghouse for web or telephone activation). */
  declare readonly productId: pulumi.Output<string>;
  /** The license server id (35 characters) while activated; "" otherwise. */
  declare readonly licenseServerId: pulumi.Output<string>;
  /** `"activated"`, `"pending"` (web/telephone, waiting for licenseServerId), `"notActivated"` or `"unknown"`. */
  declare readonly activationStatus: pulumi.Output<ActivationStatus>;
  /**
   * How the current (or last) activation was made: `"automatic"`, `"web"`, `"telephone"`, or `"external"`
   * when the server was already activated before this resource; "" when never activated.
   */
  declare readonly activationMethod: pulumi.Output<ActivationOrigin | "">;
  /** The product id the current (or last) activation belongs to; "" when never activated. */
  declare readonly activatedProductId: pulumi.Output<string>;
  /** What the administrator has to do next (pending web/telephone activation, drift); "" when nothing. */
  declare readonly nextStep: pulumi.Output<string>;
  /** The license server version (Win32_TSLicenseServer.Version). */
  declare readonly version: pulumi.Output<string>;
  /** addToLicenseServersGroup as applied (default false). */
  declare readonly addToLicenseServersGroup: pulumi.Output<boolean>;
  /**
   * The server and Active Directory, as read live: domain, membership of the Terminal Server License Servers
   * group and service connection point registration (null with `readError` when they cannot be read).
   */
  declare readonly licenseServersGroup: pulumi.Output<LicenseServersGroup | null>;
  /** CAL usage, as read live: per pack, per device (bounded list, with the total) and per user (per-user report). */
  declare readonly calUsage: pulumi.Output<CalUsage | null>;

  constructor(name: string, args: RdsLicenseServerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      licenseServerProvider,
      name,
      withOutputSeeds(FIELDS.outputKeys, { ...args, connection: pulumi.secret(args.connection) }),
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] },
      "rds",
      "LicenseServer",
    );
  }
}
