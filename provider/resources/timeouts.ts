/**
 * Operation timeouts of the resources. Each operation script has its own default (an install talks to
 * the Clearinghouse, a read is local); `RDS_OPERATION_TIMEOUT_MS`, when set to a positive whole number
 * of milliseconds in the environment of the process that runs the provider (the dynamic-provider host:
 * the environment of `pulumi up`), replaces every one of them. Read at call time, never captured by
 * the serialized provider. Past its timeout an operation fails with RDS_TIMEOUT and its pwsh is
 * stopped and replaced (provider/powershell/README.md).
 */
export const OPERATION_TIMEOUT_ENV = "RDS_OPERATION_TIMEOUT_MS";

/** The timeout of one operation: `$RDS_OPERATION_TIMEOUT_MS` when set (a positive integer), else `defaultMs`. */
export function operationTimeout(defaultMs: number): number {
  const raw = process.env[OPERATION_TIMEOUT_ENV];
  if (raw === undefined || raw.trim() === "") return defaultMs;
  const value = Number(raw);
  return Number.isInteger(value) && value > 0 ? value : defaultMs;
}
