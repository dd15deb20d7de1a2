// Public surface of pulumi-rds-licensing. Resources are added here as they land.
export { RdsError, ErrorCode, isRdsError } from "./errors";
export {
  RdsLicenseServer,
  type RdsLicenseServerArgs,
  type RdsLicenseServerContactArgs,
  type RdsLicenseServerContact,
  type RdsLicenseServerActivationArgs,
  type RdsConnectionArgs,
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
} from "./resources/sessionHostLicensing/resource";
export {
  RdsLicensing,
  type RdsLicensingArgs,
  type RdsLicensingCalPackArgs,
  type RdsLicensingSessionHostArgs,
  type RdsLicensingDeploymentArgs,
  type Finding as RdsLicensingFinding,
} from "./resources/component/rdsLicensing";
