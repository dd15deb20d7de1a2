/**
 * RdsCalPack operations: check · diff · create · read · update · delete (README.md says what each does).
 *
 * Loaded at call time by the lazy shim in the dynamic-provider host (never serialized). Every WMI call
 * goes through one of this folder's scripts (steps.ts); create lives in create.ts and adopt.ts, with
 * the install journal (journal.ts) that makes it safe against a crash between the install and the
 * state write. Every method is wrapped by the kit's guard: whatever leaves it ends with its code.
 */
import type * as pulumi from "@pulumi/pulumi";
import { compare, UNKNOWN } from "../../diff";
import type { Connection } from "../../powershell/transport";
import { create } from "./create";
import * as journal from "./journal";
import * as messages from "./messages";
import { factsOf, isPackInState, quantityDiff, shrinksInPlace } from "./rules";
import { argsSchema, DIFF_SPEC, takesQuantity, type Pack } from "./schema";
import { getPack, hostOf, kit, readPack, remove, resize } from "./steps";

type Props = Record<string, unknown>;

/** The flat view the comparator sees (DIFF_SPEC): the license server's host and transport pulled out of the connection. */
function diffView(p: Props): Props {
  const c = p.connection;
  const conn = c !== null && typeof c === "object" ? (c as Props) : undefined;
  return {
    ...p,
    targetHost: c === UNKNOWN ? UNKNOWN : conn?.host,
    transport: c === UNKNOWN ? UNKNOWN : conn?.transport,
  };
}

/** The secret values a method's props hold, for scrubbing whatever it throws. */
const secretsIn = (raw: Props | undefined) => kit.secretValues(kit.decode(raw).props);

async function check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
  // The checked inputs go back to the engine: their secrets travel wrapped, never in plain text.
  return kit.check(argsSchema, news);
}

async function diff(_id: string, rawOlds: Props, rawNews: Props): Promise<pulumi.dynamic.DiffResult> {
  const olds = kit.decode(rawOlds).props;
  const news = kit.decode(rawNews).props;
  const { result } = compare(DIFF_SPEC, diffView(news), diffView(olds));
  const quantity = quantityDiff(news, olds);
  const replaces = quantity.replace ? [...result.replaces, "quantity"] : result.replaces;
  return { changes: result.changes || quantity.changes, replaces, deleteBeforeReplace: false };
}

async function read(id: string, rawProps?: Props): Promise<pulumi.dynamic.ReadResult> {
  const { props } = kit.decode(rawProps);
  const connection = props.connection as Connection | undefined;
  if (!connection || typeof connection !== "object") return { id, props: rawProps };
  let p: Pack | null;
  try {
    p = await readPack(connection, Number(id));
  } catch (err) {
    throw kit.rephrase(err, `reading CAL pack #${id}`, hostOf(props), kit.secretValues(props));
  }
  // Gone, or the same KeyPackId with another version or type: not the pack this resource installed.
  if (!p || !isPackInState(p, props)) return {};
  // Program data (codes, numbers) cannot be read from WMI: carried from state with the other inputs.
  return { id, props: kit.encode({ ...props, ...factsOf(p) }) };
}

async function update(id: string, rawOlds: Props, rawNews: Props): Promise<pulumi.dynamic.UpdateResult> {
  const { props: news } = kit.decode(rawNews);
  const olds = kit.decode(rawOlds).props;
  const doing = `updating CAL pack #${id}`;
  const d = kit.parse(argsSchema, news, doing);
  const host = hostOf(d);
  const secrets = kit.secretValues(news);
  const keyPackId = Number(id);
  const pack = shrinksInPlace(d, olds.totalLicenses as number | undefined)
    ? await resize(d, keyPackId, doing, secrets)
    : await getPack(d.connection, keyPackId, doing, secrets);
  if (!pack) throw messages.packGone(id, host);
  if (takesQuantity(d.program) && d.quantity !== undefined && pack.totalLicenses < d.quantity) {
    throw messages.packCannotGrow(id, host, pack.totalLicenses, d.quantity);
  }
  return { outs: kit.encode({ ...news, ...factsOf(pack) }) };
}

async function destroy(id: string, rawProps: Props): Promise<void> {
  const { props } = kit.decode(rawProps);
  const connection = props.connection as Connection;
  const host = hostOf(props);
  const keyPackId = Number(id);
  const secrets = kit.secretValues(props);
  const doing = `removing CAL pack #${id}`;
  const p = await getPack(connection, keyPackId, doing, secrets);
  // Already gone, or the KeyPackId now names a pack of another version or type: nothing of ours to remove.
  if (p && isPackInState(p, props)) await remove(connection, p, props.allowRemovingIssuedLicenses === true, doing, secrets);
  // The pack is gone (removed now, or before): its journal entries have nothing left to prove.
  for (const e of journal.entriesFor(host)) {
    if (e.keyPackId === keyPackId) journal.removeEntry(e);
  }
}

export const provider: pulumi.dynamic.ResourceProvider = {
  check: kit.guard(check, (_olds, news) => secretsIn(news)),
  diff: kit.guard(diff),
  create: kit.guard(create, secretsIn),
  read: kit.guard(read, (_id, props) => secretsIn(props)),
  update: kit.guard(update, (_id, _olds, news) => secretsIn(news)),
  delete: kit.guard(destroy, (_id, props) => secretsIn(props)),
};
