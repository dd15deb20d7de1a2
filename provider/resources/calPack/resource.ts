/**
 * RdsCalPack: one RDS CAL key pack installed on an activated RD license server. See README.md.
 */
import * as pulumi from "@pulumi/pulumi";
import type { OrString } from "../../inputTypes";
import type { RdsConnection } from "../../powershell/connectionArgs";
import { lazyProvider } from "../../shim";
import type { ActivationOrigin } from "../licenseServer/schema";
import { withOutputSeeds } from "../fields";
import { unconfirmedVersionWarning } from "./rules";
import { OUTPUT_KEYS, SECRET_OUTPUTS, type CalType, type Program, type ProductVersion } from "./schema";

export type { CalType, Program, ProductVersion } from "./schema";

/**
 * What RdsCalPack needs of its license server: an RdsLicenseServer (any object with these outputs).
 * Taking its outputs as inputs is what makes Pulumi activate the server before installing the pack.
 */
export interface CalPackLicenseServer {
  /** How to reach the license server (secret). */
  readonly connection: pulumi.Output<RdsConnection>;
  /** The license server's computer name. */
  readonly serverName: pulumi.Output<string>;
  /** How it was activated ("automatic", "web", "telephone", "external", or "" while not activated). */
  readonly activationMethod?: pulumi.Output<string>;
  /** The declared activation (its method guides the "next step" while the server is not activated yet). */
  readonly activation?: pulumi.Output<{ method: string }>;
}

export interface RdsCalPackArgs {
  /**
   * The RdsLicenseServer the pack is installed on. Its outputs give the connection, and depending on
   * them makes the deployment activate the server before this pack is installed. Required.
   */
  licenseServer: CalPackLicenseServer;
  /**
   * The license program the CALs were bought under (RD Licensing Manager's "License program"); it
   * decides the WMI method and which program data is required. Required. Changing it replaces the pack.
   * - "retail": License Pack (Retail Purchase), needs `licenseCode`.
   * - "openLicense": needs `licenseNumber`, `authorizationNumber` and `quantity`.
   * - "select", "enterpriseAgreement", "campus", "school", "spla", "otherAgreement": need
   *   `agreementNumber` and `quantity`.
   * - "keyPackId": the offline path: a license key pack id from the web site or by telephone, needs
   *   `licenseKeyPackId`.
   * A string from config is accepted and checked at `check` (RDS_VALIDATION names the allowed values).
   */
  program: pulumi.Input<OrString<Program>>;
  /** Retail license code: 25 letters and digits (hyphens and spaces ignored). Single use. Secret. Only with program "retail". No default. */
  licenseCode?: pulumi.Input<string>;
  /** Open License number: 8 digits (hyphens and spaces ignored). Secret. Only with program "openLicense". No default. */
  licenseNumber?: pulumi.Input<string>;
  /** Open License authorization number: 15 letters and digits. Secret. Only with program "openLicense". No default. */
  authorizationNumber?: pulumi.Input<string>;
  /**
   * Agreement or enrollment number (hyphens and spaces ignored). Secret. Only with the agreement programs.
   * select, enterpriseAgreement, campus, school: 7 digits; spla: 7 or 8 digits; otherAgreement: 1 to 15
   * letters and digits. No default.
   */
  agreementNumber?: pulumi.Input<string>;
  /**
   * License key pack id from the Remote Desktop Licensing web site or the telephone call: 35 letters
   * and digits (7 groups of 5; hyphens and spaces ignored). Secret. Only with program "keyPackId".
   * (Named licenseKeyPackId because the output `keyPackId` is the WMI KeyPackId number.) No default.
   */
  licenseKeyPackId?: pulumi.Input<string>;
  /**
   * The CAL version: "2008R2", "2012", "2016", "2019", "2022" or "2025". Required. The license server
   * must be this version or newer. Changing it replaces the pack. "2022" and "2025" with "openLicense" or
   * an agreement program send a version code no Microsoft source confirms: the resource warns (README.md).
   * For "retail" and "keyPackId" the code
   * decides the version: declare what it is (a mismatch is reported after the install). A string from
   * config is accepted and checked at `check`.
   */
  productVersion: pulumi.Input<OrString<ProductVersion>>;
  /**
   * "perUser" or "perDevice". Required. Changing it replaces the pack (same rule for retail/keyPackId as
   * productVersion). A string from config is accepted and checked at `check`.
   */
  calType: pulumi.Input<OrString<CalType>>;
  /**
   * Number of CALs, 1 to 100000. Required for "openLicense" and the agreement programs, not allowed
   * for "retail" and "keyPackId" (the code fixes the count). Lowering it removes CALs in place
   * (RemoveLicensesWithIdCount, refused while that would take issued ones); raising it replaces the pack.
   */
  quantity?: pulumi.Input<number>;
  /**
   * Allow delete (and a shrinking quantity) to remove a pack whose per-device licenses are still
   * issued to devices. Default false: refused with RDS_ISSUED_LICENSES, saying how many are issued.
   */
  allowRemovingIssuedLicenses?: pulumi.Input<boolean>;
  /**
   * Adopt this existing pack (its WMI KeyPackId, the "Key Pack ID" column of RD Licensing Manager)
   * instead of installing one: create checks that it exists with the declared version and CAL type and
   * records it; nothing is installed. Only read by create. Default: install a new pack.
   */
  adoptKeyPackId?: pulumi.Input<number>;
  /**
   * KeyPackIds of packs already on the server that look like this declaration but are not this pack
   * (another stack's, a manual install). Create refuses with RDS_AMBIGUOUS_PACK when a matching pack
   * exists that it cannot prove is its own; listing them lets it install a new pack. Only read by
   * create. Default [].
   */
  knownOtherPacks?: pulumi.Input<pulumi.Input<number>[]>;
}

/**
 * One RDS CAL key pack on an RD license server (Win32_TSLicenseKeyPack), installed through the license
 * program's own WMI method, only once the server is activated.
 * Type token: `pulumi-nodejs:dynamic/rds:CalPack`.
 */
export class RdsCalPack extends pulumi.dynamic.Resource {
  /** How the license server is reached (the license server's connection, secret). */
  declare readonly connection: pulumi.Output<RdsConnection>;
  /** The license server's computer name. */
  declare readonly licenseServerName: pulumi.Output<string>;
  /** How the license server was (or is being) activated: its activationMethod, else its declared method; "" when unknown. */
  declare readonly licenseServerActivationMethod: pulumi.Output<ActivationOrigin | "">;
  /** Install-journal key: "<project>/<stack>/<name>". */
  declare readonly journalKey: pulumi.Output<string>;
  declare readonly program: pulumi.Output<Program>;
  declare readonly licenseCode: pulumi.Output<string | undefined>;
  declare readonly licenseNumber: pulumi.Output<string | undefined>;
  declare readonly authorizationNumber: pulumi.Output<string | undefined>;
  declare readonly agreementNumber: pulumi.Output<string | undefined>;
  declare readonly licenseKeyPackId: pulumi.Output<string | undefined>;
  /**
   * The pack's CAL version as installed ("2022"), read live. One of the declared versions; a release
   * this package does not know yet shows Windows' own ProductVersion text.
   */
  declare readonly productVersion: pulumi.Output<OrString<ProductVersion>>;
  /**
   * The pack's CAL type as installed ("perUser" / "perDevice"), read live; `productType<n>` for a
   * Win32_TSLicenseKeyPack ProductType this package does not know.
   */
  declare readonly calType: pulumi.Output<CalType | `productType${number}`>;
  declare readonly quantity: pulumi.Output<number | undefined>;
  declare readonly allowRemovingIssuedLicenses: pulumi.Output<boolean>;
  declare readonly adoptKeyPackId: pulumi.Output<number | undefined>;
  declare readonly knownOtherPacks: pulumi.Output<number[]>;
  /** The WMI KeyPackId of the pack (Win32_TSLicenseKeyPack key). */
  declare readonly keyPackId: pulumi.Output<number>;
  /** e.g. "RDS Per User CAL". */
  declare readonly typeAndModel: pulumi.Output<string>;
  /** How the pack was acquired (KeyPackType: 1 retail, 2 volume, 5 Open License...). */
  declare readonly keyPackType: pulumi.Output<number>;
  /** CALs in the pack, read live. */
  declare readonly totalLicenses: pulumi.Output<number>;
  /** CALs issued from the pack, read live (per-user counts are informational). */
  declare readonly issuedLicenses: pulumi.Output<number>;
  /** CALs still available, read live. */
  declare readonly availableLicenses: pulumi.Output<number>;
  /** ISO 8601 ("" when none). */
  declare readonly expirationDate: pulumi.Output<string>;

  constructor(name: string, args: RdsCalPackArgs, opts?: pulumi.CustomResourceOptions) {
    const ls = args.licenseServer;
    const secret = <T>(v: pulumi.Input<T> | undefined) => (v === undefined ? undefined : pulumi.secret(v));
    // Every output key is seeded (so the SDK makes each an Output), then the args fill in the inputs.
    const props = withOutputSeeds(OUTPUT_KEYS, {
      connection: pulumi.secret(ls.connection),
      licenseServerName: ls.serverName,
      licenseServerActivationMethod: pulumi
        .all([ls.activationMethod ?? "", ls.activation ?? { method: "" }])
        .apply(([made, declared]) => (made && made !== "external" ? made : declared?.method || made || "")),
      journalKey: `${pulumi.getProject()}/${pulumi.getStack()}/${name}`,
      program: args.program,
      licenseCode: secret(args.licenseCode),
      licenseNumber: secret(args.licenseNumber),
      authorizationNumber: secret(args.authorizationNumber),
      agreementNumber: secret(args.agreementNumber),
      licenseKeyPackId: secret(args.licenseKeyPackId),
      productVersion: args.productVersion,
      calType: args.calType,
      quantity: args.quantity,
      allowRemovingIssuedLicenses: args.allowRemovingIssuedLicenses,
      adoptKeyPackId: args.adoptKeyPackId,
      knownOtherPacks: args.knownOtherPacks,
    });
    super(
      lazyProvider("pulumi-rds-licensing/resources/calPack/provider"),
      name,
      props,
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...SECRET_OUTPUTS] },
      "rds",
      "CalPack",
    );
    // 2022/2025 Open and agreement installs use a version code no source confirms: a warning, since a
    // dynamic provider's check can only fail. Sent once the two values are known (docs: README.md).
    pulumi.all([args.program, args.productVersion]).apply(([program, version]) => {
      const warning = unconfirmedVersionWarning(String(program), String(version));
      if (warning) void pulumi.log.warn(warning, this);
    });
  }
}
