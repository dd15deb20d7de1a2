/**
 * The one comparator (docs/architecture.md#data-path): desired state against actual state, driven
 * by a per-resource field spec. Every resource's `diff` goes through it, and so does drift after a
 * refresh, because the engine calls the same `diff(id, olds = refreshed outputs, news = old inputs)`.
 *
 * - desired: the checked inputs (`news`).
 * - actual: the old outputs, or the refreshed outputs (`olds`).
 *
 * Only the fields named in the spec are compared; everything else (`__provider`, computed outputs
 * such as a version or a timestamp) is ignored. Comparison is deep, ignores object key order, and
 * treats `null`, `undefined` and a missing key as the same "absent" value. Arrays are compared in
 * order unless the field is declared `unordered`.
 *
 * Unknown values (the preview sentinel, anywhere inside a value) mean "may change": the field is
 * reported and `changes` is true, but it forces replacement only when the field says
 * `replaceOnUnknown` (docs/architecture.md#pulumi-limits: a CAL pack must not preview as "replace" because an upstream
 * output it reads is being recomputed).
 */

/** The value the engine sends in place of a value not known yet during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when `value` is, or contains at any depth, the preview sentinel. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/**
 * How a field's values are brought to a comparable form before comparing (both sides alike):
 * - `"caseInsensitive"`: every string at any depth is lower-cased (host names, lists of host names).
 * - `"unordered"`: the field's array is compared as a multiset (order ignored); nested arrays keep order.
 * - a function: any other rule; it receives the value as stored (never one holding the sentinel).
 */
export type Normalizer = "caseInsensitive" | "unordered" | ((value: unknown) => unknown);

export interface FieldRule {
  /** A difference in this field forces replacement (an identity field). Default `false`: updated in place. */
  readonly replace?: boolean;
  /**
   * An unknown value in this field forces replacement, before it is known. Default `false`: an unknown
   * value only means "may change". Only for `replace` fields whose every possible new value would
   * replace (rarely right: prefer keying identity on values known at preview).
   */
  readonly replaceOnUnknown?: boolean;
  /** Normalisation applied to both sides, in order. Default: none (exact). */
  readonly normalize?: Normalizer | readonly Normalizer[];
  /**
   * The live system cannot report this value (a license code, an agreement number): `read` carries it
   * from state, so `actual` holds what was last applied, not what is live. It is compared with that
   * carried value, so a change in the program is a change; when state carries no value (an older state,
   * a partial failure) there is nothing to compare with and it is not a difference. Never drift.
   */
  readonly carried?: boolean;
}

/** The comparison rules of one resource: the fields to compare, each with its rule. */
export type DiffSpec<K extends string = string> = Readonly<Record<K, FieldRule>>;

/** The provider's answer, in the shape the dynamic-provider host reads. */
export interface ComparatorDiffResult {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly deleteBeforeReplace: false;
}

export interface Comparison {
  /** Return this from the provider's `diff`. */
  readonly result: ComparatorDiffResult;
  /** Fields that differ or may differ, in spec order (an update sets these, and only these). */
  readonly diffs: string[];
  /** Fields among `diffs` that force replacement. */
  readonly replaces: string[];
  /** Fields among `diffs` that hold an unknown value on either side. */
  readonly unknowns: string[];
}

/** Compares `desired` with `actual` field by field according to `spec`. Pure; never throws for data. */
export function compare<K extends string>(spec: DiffSpec<K>, desired: object | undefined, actual: object | undefined): Comparison {
  const diffs: string[] = [];
  const replaces: string[] = [];
  const unknowns: string[] = [];
  for (const field of Object.keys(spec) as K[]) {
    const rule = spec[field];
    if (rule.replaceOnUnknown && !rule.replace) {
      throw new TypeError(`diff spec field "${field}": replaceOnUnknown needs replace: true`);
    }
    const want = (desired as Record<string, unknown> | undefined)?.[field];
    const have = (actual as Record<string, unknown> | undefined)?.[field];
    if (containsUnknown(want) || containsUnknown(have)) {
      diffs.push(field);
      unknowns.push(field);
      if (rule.replaceOnUnknown) replaces.push(field);
      continue;
    }
    if (rule.carried && isAbsent(have)) continue;
    if (!sameValue(want, have, rule.normalize)) {
      diffs.push(field);
      if (rule.replace) replaces.push(field);
    }
  }
  return {
    result: { changes: diffs.length > 0, replaces, deleteBeforeReplace: false },
    diffs,
    replaces,
    unknowns,
  };
}

/** The same comparison `compare` makes for one field, for `update` code that sets only what differs. */
export function sameValue(a: unknown, b: unknown, normalize?: Normalizer | readonly Normalizer[]): boolean {
  return canonical(applyNormalizers(a, normalize)) === canonical(applyNormalizers(b, normalize));
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

function applyNormalizers(value: unknown, normalize: Normalizer | readonly Normalizer[] | undefined): unknown {
  if (isAbsent(value) || normalize === undefined) return value;
  const list: readonly Normalizer[] = typeof normalize === "string" || typeof normalize === "function" ? [normalize] : normalize;
  let v = value;
  for (const n of list) {
    if (n === "caseInsensitive") v = lowerStrings(v);
    else if (n === "unordered") v = Array.isArray(v) ? [...v].sort((x, y) => cmp(canonical(x), canonical(y))) : v;
    else v = n(v);
  }
  return v;
}

function lowerStrings(value: unknown): unknown {
  if (typeof value === "string") return value.toLowerCase();
  if (Array.isArray(value)) return value.map(lowerStrings);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, lowerStrings(v)]));
  }
  return value;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A canonical text for a JSON-like value: sorted keys, absent members dropped, absent itself "~". */
function canonical(value: unknown): string {
  if (isAbsent(value)) return "~";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => !isAbsent(v))
      .sort(([a], [b]) => cmp(a, b))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`);
    return `{${entries.join(",")}}`;
  }
  if (typeof value === "number") return Object.is(value, -0) ? "0" : String(value);
  return JSON.stringify(value) ?? String(value);
}
