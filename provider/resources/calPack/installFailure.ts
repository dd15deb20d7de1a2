/**
 * An install that failed, explained for the user. A WMI refusal of the install call itself is the
 * Clearinghouse or the server not accepting the data (RDS_REJECTED); for a single-use code (retail
 * code, key pack id) it says which resource installed that code already (install journal), or which
 * packs here it may have become. WBEM_E_NOT_AVAILABLE is the server not reaching the Clearinghouse
 * (RDS_CLEARINGHOUSE_UNREACHABLE). Any other failure keeps its own code.
 */
import type { RdsError } from "../../errors";
import { fingerprintV1, type JournalEntry } from "./journal";
import * as messages from "./messages";
import { codeTwin, installFailureKind, refusedCodeCandidates, singleUseCodeContent, type Others } from "./rules";
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
export async function explainInstallFailure(e: RdsError, c: InstallContext): Promise<RdsError> {
  const kind = installFailureKind(e);
  if (kind === "unreachable") return messages.clearinghouseUnreachable(e, c.host);
  if (kind === "other") return e;
  if (!takesQuantity(c.d.program)) {
    // A retail code or key pack id is single use: refused, it may be installed here already.
    const twin = codeTwin(c.entries, c.codeFingerprint, c.d, c.seen.packs) ?? (await codeTwinV1(c));
    if (twin) return messages.codeInstalledElsewhere(e, c.host, c.d, twin);
    return messages.codeRefused(e, c.host, c.d, refusedCodeCandidates(c.seen.packs, c.d, c.others));
  }
  return messages.programDataRefused(e, c.host, c.d);
}

/**
 * The twin among entries written before the journal key (version 1): their code fingerprint is the
 * old, unkeyed one. Computed only when such entries with a code fingerprint exist.
 */
async function codeTwinV1(c: InstallContext): Promise<JournalEntry | undefined> {
  const content = singleUseCodeContent(c.d);
  const old = c.entries.filter((x) => x.version === 1 && x.codeFingerprint !== undefined);
  if (content === undefined || old.length === 0) return undefined;
  return codeTwin(old, await fingerprintV1(content), c.d, c.seen.packs);
}
