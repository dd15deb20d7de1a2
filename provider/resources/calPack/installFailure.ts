/**
 * An install that failed, explained for the user. A WMI refusal of the install call itself is the
 * Clearinghouse or the server not accepting the data (RDS_REJECTED); for a single-use code (retail
 * code, key pack id) it says which resource installed that code already (install journal), or which
 * packs here it may have become. WBEM_E_NOT_AVAILABLE is the server not reaching the Clearinghouse
 * (RDS_CLEARINGHOUSE_UNREACHABLE). Any other failure keeps its own code.
 */
import type { RdsError } from "../../errors";
import type { JournalEntry } from "./journal";
import * as messages from "./messages";
import { codeTwin, installFailureKind, refusedCodeCandidates, type Others } from "./rules";
import { takesQuantity, type CalPackInputs, type InspectResult } from "./schema";

export interface InstallContext {
  readonly d: CalPackInputs;
  readonly host: string;
  /** What inspect.ps1 saw before the install. */
  readonly seen: InspectResult;
  readonly others: Others;
  /** The journal entries of this license server. */
  readonly entries: readonly JournalEntry[];
  /** The fingerprint of the single-use code, when the program has one. */
  readonly codeFingerprint: string | undefined;
}

/** `e`: the install step's error, already `<doing> on <host>: <cause>` with secrets scrubbed. */
export function explainInstallFailure(e: RdsError, c: InstallContext): RdsError {
  const kind = installFailureKind(e);
  if (kind === "unreachable") return messages.clearinghouseUnreachable(e, c.host);
  if (kind === "other") return e;
  if (!takesQuantity(c.d.program)) {
    // A retail code or key pack id is single use: refused, it may be installed here already.
    const twin = codeTwin(c.entries, c.codeFingerprint, c.d, c.seen.packs);
    if (twin) return messages.codeInstalledElsewhere(e, c.host, c.d, twin);
    return messages.codeRefused(e, c.host, c.d, refusedCodeCandidates(c.seen.packs, c.d, c.others));
  }
  return messages.programDataRefused(e, c.host, c.d);
}
