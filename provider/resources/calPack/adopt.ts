/**
 * Create with `adoptKeyPackId`: take an existing pack instead of installing one. The pack must exist,
 * be the declared CAL version and type, and not be claimed by another resource in the install
 * journal; it is then journalled as this resource's (`returned`), so no other declaration takes it.
 * Runs under the install lock (create.ts), so two adoptions of one pack cannot both see it free.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isLeftoverPack } from "../../licensing/facts";
import * as journal from "./journal";
import * as messages from "./messages";
import { adoptionOwner, factsOf, isDeclaredKind, singleUseCodeContent } from "./rules";
import type { CalPackInputs } from "./schema";
import { getPack, hostOf, kit } from "./steps";

type Props = Record<string, unknown>;

/** The fingerprint of a single-use code (retail code, key pack id), or undefined for the other programs. */
export async function codeFingerprint(d: CalPackInputs): Promise<string | undefined> {
  const content = singleUseCodeContent(d);
  return content === undefined ? undefined : journal.fingerprint(content);
}

/**
 * `props`: the inputs as given (they become the outputs); `d`: the same, parsed; `me`: its journal
 * identity; `content`: what its fingerprint covers (to recognise its version 1 entries).
 */
export async function adopt(
  d: CalPackInputs,
  props: Props,
  secrets: readonly string[],
  me: journal.JournalIdentity,
  content: Props,
): Promise<pulumi.dynamic.CreateResult> {
  const host = hostOf(d);
  const id = d.adoptKeyPackId!;
  const doing = `adopting CAL pack #${id}`;
  const p = await getPack(d.connection, id, doing, secrets);
  if (!p) throw messages.adoptedPackMissing(doing, host, id);
  // get.ps1 reads a row by id as it is (the state's own pack may be one, emptied): adoption refuses it here.
  if (isLeftoverPack(p)) throw messages.adoptedPackLeftover(doing, host, p);
  if (!isDeclaredKind(p, d)) throw messages.adoptedPackOtherKind(doing, host, p, d);
  const entries = await journal.resolveEntries(host, me, content);
  // An entry of this journalKey under another key (a lost key file) may be this resource's own: not an owner.
  const owner = adoptionOwner(journal.comparableEntries(entries, me), id, me);
  if (owner) throw messages.adoptedPackOwned(doing, host, id, owner, journal.journalDir());
  journal.writeEntry(
    journal.newEntry({
      journalKey: d.journalKey,
      host,
      fingerprint: me.fingerprint,
      codeFingerprint: me.codeFingerprint,
      status: "returned",
      keyPackId: id,
      packsBefore: [],
      program: d.program,
      productVersion: d.productVersion,
      calType: d.calType,
    }),
  );
  return { id: String(id), outs: kit.encode({ ...props, ...factsOf(p) }) };
}
