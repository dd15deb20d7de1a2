/**
 * One field table per resource: each field declared once, with its type, default, secrecy, what a
 * change to it does and whether it is an output. The zod object of the inputs, the comparator's field
 * spec, the secret lists, the state-only fields and the output keys of the resource class are all
 * derived from it, so adding a field is one line and no list can forget it.
 */
import { z } from "zod";
import type { DiffSpec, FieldRule } from "../diff";

/**
 * What a change of the field does:
 * - `replace`: identity (another host, another pack): the resource is replaced;
 * - `update`: changed in place on the host;
 * - `stateOnly`: how the provider reaches or treats the host (credentials, options): an update that
 *   only writes state, nothing runs on the host;
 * - `none`: not compared (computed outputs, values only the host knows).
 */
export type Change = "replace" | "update" | "stateOnly" | "none";

export interface FieldDef {
  /** The input's zod type, defaults included (`.default(...)`). Absent for outputs and comparator views. */
  readonly input?: z.ZodType;
  /** A key of the resource's outputs (the resource class declares it, seeded `undefined`). */
  readonly output?: boolean;
  /** Wrapped as a secret in every answer of the provider (credentials, program data). */
  readonly secret?: boolean;
  /** A text whose value never appears in a message (license codes, numbers): scrubbed from errors. */
  readonly secretValue?: boolean;
  /** What a change does (default `none`). */
  readonly change?: Change;
  /** The comparator's rule besides `replace` (normalisation, carried values, unknown handling). */
  readonly rule?: Omit<FieldRule, "replace">;
}

export type FieldTable = Readonly<Record<string, FieldDef>>;

type InputKeys<T extends FieldTable> = { [K in keyof T]: T[K]["input"] extends z.ZodType ? K : never }[keyof T];
type InputShape<T extends FieldTable> = { [K in InputKeys<T>]: NonNullable<T[K]["input"]> };

export interface DerivedFields<T extends FieldTable> {
  readonly table: T;
  /** The zod shape of the inputs (build the object with `z.object(shape)`, plus any cross-field refinement). */
  readonly inputShape: InputShape<T>;
  /** The comparator spec: every field whose change is not `none`. */
  readonly diffSpec: DiffSpec;
  /** Fields wrapped as secrets in every answer. */
  readonly secretFields: readonly string[];
  /** Fields whose values are scrubbed from every message. */
  readonly secretValueFields: readonly string[];
  /** Fields whose change only writes state. */
  readonly stateOnlyFields: ReadonlySet<string>;
  /** The output keys (the resource class seeds each with `undefined` so it becomes an Output). */
  readonly outputKeys: readonly string[];
}

export function deriveFields<T extends FieldTable>(table: T): DerivedFields<T> {
  const entries = Object.entries(table);
  const inputShape = Object.fromEntries(entries.filter(([, f]) => f.input !== undefined).map(([k, f]) => [k, f.input])) as InputShape<T>;
  const diffSpec: Record<string, FieldRule> = {};
  for (const [key, field] of entries) {
    const change = field.change ?? "none";
    if (change === "none") continue;
    diffSpec[key] = change === "replace" ? { ...field.rule, replace: true } : { ...field.rule };
  }
  return {
    table,
    inputShape,
    diffSpec,
    secretFields: entries.filter(([, f]) => f.secret).map(([k]) => k),
    secretValueFields: entries.filter(([, f]) => f.secretValue).map(([k]) => k),
    stateOnlyFields: new Set(entries.filter(([, f]) => f.change === "stateOnly").map(([k]) => k)),
    outputKeys: entries.filter(([, f]) => f.output).map(([k]) => k),
  };
}

/** "unknown field "x": remove it (allowed: ...)": the fix-it reason for keys a strict object does not know. */
export function unknownFieldsReason(issue: { code?: string; keys?: string[] }, allowed: readonly string[], where = ""): string | undefined {
  if (issue.code !== "unrecognized_keys") return undefined;
  const keys = issue.keys ?? [];
  const many = keys.length > 1;
  return `unknown field${many ? "s" : ""} ${keys.map((k) => `"${where}${k}"`).join(", ")}: remove ${many ? "them" : "it"} (allowed: ${allowed.join(", ")})`;
}

/**
 * The strict zod object of a resource's inputs, from its field table: an unknown key is refused with
 * the list of allowed ones, and a non-object says what the inputs must be (`what`: "the CAL pack inputs").
 */
export function inputObject<T extends FieldTable>(fields: DerivedFields<T>, what?: string) {
  const allowed = Object.keys(fields.inputShape);
  return z.strictObject(fields.inputShape, {
    error: (issue) => {
      const i = issue as { code?: string; keys?: string[] };
      if (what !== undefined && i.code === "invalid_type") return `${what} must be an object`;
      return unknownFieldsReason(i, allowed);
    },
  });
}

/** The props seed of a resource class: every output key present (as `undefined`), then the args. */
export function withOutputSeeds<A extends object>(outputKeys: readonly string[], args: A): A & Record<string, unknown> {
  return { ...Object.fromEntries(outputKeys.map((k) => [k, undefined])), ...args };
}

export { z };
