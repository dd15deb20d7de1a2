/**
 * Create: adopt (adopt.ts), or look, prove, install, record. The install journal (journal.ts) makes
 * it safe against a crash between the install and the state write: a later create adopts the pack the
 * journal proves, refuses when packs it cannot tell apart match (RDS_AMBIGUOUS_PACK), and otherwise
 * installs. The install lock (installLock.ts) makes the look, the proof, the install and the record one
 * step per license server across processes: a second create waits, then sees the first one's pack
 * and entry. README.md ("Create", "Never twice") says it step by step.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isRdsError } from "../../errors";
import { operationTimeout } from "../timeouts";
import { adopt, codeFingerprint } from "./adopt";
import { explainInstallFailure } from "./installFailure";
import { withInstallLock } from "./installLock";
import * as journal from "./journal";
import * as messages from "./messages";
import {
  ambiguousCandidates,
  claimedByOthers,
  factsOf,
  fingerprintContent,
  installArgs,
  isDeclaredKind,
  journalProof,
  provesNothingInstalled,
} from "./rules";
import { argsSchema, calTypeLabel, type CalPackInputs, type Pack } from "./schema";
import { hostOf, inspect, install, INSTALL_TIMEOUT_MS, kit } from "./steps";

type Props = Record<string, unknown>;

export async function create(rawInputs: Props): Promise<pulumi.dynamic.CreateResult> {
  const { props, providerCode } = kit.decode(rawInputs);
  const secrets = kit.secretValues(props);
  const d = kit.parse(argsSchema, props, "installing CAL pack");
  const host = hostOf(d);
  const doing =
    d.adoptKeyPackId !== undefined
      ? `adopting CAL pack #${d.adoptKeyPackId}`
      : `installing ${d.productVersion} ${calTypeLabel(d.calType)} CAL pack (${d.program})`;
  // The fingerprints first (scrypt is slow by design): the lock is held only for the work on the server.
  const content = fingerprintContent(d);
  const me: journal.JournalIdentity = {
    journalKey: d.journalKey,
    fingerprint: await journal.fingerprint(content),
    codeFingerprint: await codeFingerprint(d),
  };
  const lock = { host, dir: journal.journalDir(), maxWaitMs: operationTimeout(INSTALL_TIMEOUT_MS), doing };
  if (d.adoptKeyPackId !== undefined) return withInstallLock(lock, () => adopt(d, props, secrets, me, content));
  return withInstallLock(lock, () => lookProveInstall(d, props, providerCode, secrets, me, content, doing));
}

/** Steps 1-4 of create (README "Create"), under the install lock. */
async function lookProveInstall(
  d: CalPackInputs,
  props: Props,
  providerCode: unknown,
  secrets: readonly string[],
  me: journal.JournalIdentity,
  content: Props,
  installing: string,
): Promise<pulumi.dynamic.CreateResult> {
  const host = hostOf(d);
  // 1. Look: the server must be able to take the pack (activated, version), and what is there already.
  const seen = await inspect(d, installing, secrets);

  // 2. The journal: did this exact install already happen (a crash before the state was written)?
  const entries = await journal.resolveEntries(host, me, content);
  const comparable = journal.comparableEntries(entries, me);
  const mine = comparable.find((e) => e.journalKey === me.journalKey && e.fingerprint === me.fingerprint);
  const others = { claimed: claimedByOthers(comparable, me), known: new Set(d.knownOtherPacks) };
  const proof = journalProof(mine, seen.packs, d, others);
  if (proof.kind === "proven") return finish(d, props, providerCode, mine!, proof.pack);
  if (proof.kind === "ambiguous")
    throw messages.ambiguousPacks(installing, host, proof.packs, messages.interruptedInstall(journal.journalDir()));

  // 3. No proof: a matching pack already there is ambiguous, never adopted silently.
  const candidates = ambiguousCandidates(seen.packs, d, others);
  if (candidates.length > 0) throw messages.ambiguousPacks(installing, host, candidates, messages.matchingPacksExist(candidates.length));

  // 4. Journal the intent, then install.
  const codeFp = me.codeFingerprint;
  let entry = journal.newEntry({
    journalKey: d.journalKey,
    host,
    fingerprint: me.fingerprint,
    codeFingerprint: codeFp,
    status: "pending",
    packsBefore: seen.packs.map((p) => p.keyPackId),
    program: d.program,
    productVersion: d.productVersion,
    calType: d.calType,
  });
  journal.writeEntry(entry);

  let installed;
  try {
    installed = await install(d, installArgs(d), installing, secrets);
  } catch (err) {
    if (!isRdsError(err)) throw err;
    // A refusal the script or WMI answered means nothing was installed: the intent is void. Anything
    // else (timeout, pwsh died, unreadable result) may have installed: the entry stays as proof.
    if (provesNothingInstalled(err)) forget(entry);
    throw await explainInstallFailure(err, { d, host, seen, others, entries, codeFingerprint: codeFp });
  }
  entry = journal.withStatus(entry, "installed", installed.keyPackId);
  tryWrite(entry);
  if (!installed.pack) {
    const failure = messages.installedPackUnreadable(installing, host, installed.method, installed.keyPackId);
    throw kit.partial(String(installed.keyPackId), { ...props, keyPackId: installed.keyPackId }, providerCode, failure, [], host);
  }
  return finish(d, props, providerCode, entry, installed.pack);
}

/** Records the pack as handed to the engine and returns it; a pack unlike the declaration is a partial success. */
function finish(d: CalPackInputs, props: Props, providerCode: unknown, entry: journal.JournalEntry, p: Pack): pulumi.dynamic.CreateResult {
  tryWrite(journal.withStatus(entry, "returned", p.keyPackId));
  const outs = { ...props, ...factsOf(p) };
  if (!isDeclaredKind(p, d)) {
    // Retail codes and key pack ids carry their own version and type: the declaration was wrong.
    const host = hostOf(d);
    throw kit.partial(String(p.keyPackId), outs, providerCode, messages.installedOtherKind(host, d, p), [], host);
  }
  return { id: String(p.keyPackId), outs: kit.encode(outs) };
}

/** The pack exists and is about to be returned: a journal write failure must never lose it. */
function tryWrite(entry: journal.JournalEntry): void {
  try {
    journal.writeEntry(entry);
  } catch {
    // Returning the pack matters more: at worst the next create asks (RDS_AMBIGUOUS_PACK), never installs twice.
  }
}

function forget(entry: journal.JournalEntry): void {
  try {
    journal.removeEntry(entry);
  } catch {
    // A stale pending entry only costs a look at the packs on the next create.
  }
}
