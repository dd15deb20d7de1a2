// Public surface of pulumi-rds-licensing. Resources are added here as they land.
export { RdsError, ErrorCode, isRdsError } from "./errors";
export type { OrString } from "./inputTypes";
export type {
  RdsConnectionArgs,
  RdsConnection,
  SimulatorConnectionArgs,
  LocalConnectionArgs,
  SshConnectionArgs,
  WinRmConnectionArgs,
  RemoteConnectionArgs,
  LabEmulatorArgs,
  WinRmAuthentication,
} from "./powershell/connectionArgs";
export {
  RdsLicenseServer,
  type RdsLicenseServerArgs,
  type RdsLicenseServerContactArgs,
  type RdsLicenseServerContact,
  type RdsLicenseServerActivationArgs,
  type ActivationMethod,
  type ActivationOrigin,
  type ActivationStatus,
  type DiscoveryScope,
} from "./resources/licenseServer/resource";
export {
  RdsCalPack,
  type RdsCalPackArgs,
  type CalPackLicenseServer,
  type Program as CalPackProgram,
  type ProductVersion as CalPackProductVersion,
  type CalType as CalPackCalType,
} from "./resources/calPack/resource";
export {
  RdsSessionHostLicensing,
  type RdsSessionHostLicensingArgs,
  type SessionHostCalPack,
  type SessionHostCalPackRef,
  type EffectiveLicensingMode,
  type HostOsVersion,
  type LicensingMode,
  type LicensingSettingSource,
  type SessionHostLicensingScope,
} from "./resources/sessionHostLicensing/resource";
export {
  RdsLicensing,
  type RdsLicensingArgs,
  type RdsLicensingCalPackArgs,
  type RdsLicensingSessionHostArgs,
  type RdsLicensingDeploymentArgs,
  type Finding as RdsLicensingFinding,
} from "./resources/component/rdsLicensing";
