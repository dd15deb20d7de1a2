// Public surface of pulumi-rds-licensing. Resources are added here as they land.
export { RdsError, ErrorCode, isRdsError } from "./errors";
