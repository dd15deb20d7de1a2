/**
 * The check's exit codes and its one input error. One job: what "could not check" means to a caller.
 */
import { ErrorCode } from "../errors";

/** No error-severity finding fails. */
export const EXIT_HEALTHY = 0;
/** At least one error-severity finding fails. */
export const EXIT_FINDINGS = 1;
/** Could not check: bad input (nothing was read), or a host could not be read. */
export const EXIT_NOT_CHECKED = 2;

/**
 * Bad input, found before any host is touched: what is wrong (naming the field or flag, never a
 * secret's value) and how to fix it. Carries RDS_VALIDATION like every input error of the package.
 */
export class CheckInputError extends Error {
  readonly code = ErrorCode.Validation;
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = "CheckInputError";
  }
}
