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
  /**
   * The inputs (dotted paths: `activation.licenseServerId`) this field carries or derives from, when
   * one of them may be a secret. The field is wrapped as a secret in every answer in which one of
   * them is given (see `secretSources` below for why "given" and not "secret").
   */
  readonly secretFrom?: readonly string[];
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
  /**
   * The table of outputs that carry or derive from an input that may be secret: output -> its source
   * inputs. The dynamic-provider host accepts no secrets, so the engine strips every wrapper before the
   * provider sees the inputs: the provider cannot tell a `pulumi.secret(id)` from a plain id. So an
   * output is wrapped whenever one of its sources is given, secret or not (a plain value the program
   * holds anyway loses nothing by being secret; a secret one never crosses the host in plain text).
   */
  readonly secretSources: Readonly<Record<string, readonly string[]>>;
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
    secretSources: Object.fromEntries(entries.filter(([, f]) => f.secretFrom?.length).map(([k, f]) => [k, f.secretFrom!])),
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

// ---- free text: length limits and control characters -------------------------------------------

/**
 * C0 controls (U+0000-U+001F: NUL, BEL, tab, line feed...), DEL (U+007F) and C1 controls
 * (U+0080-U+009F). None belongs in a name, an address or a license server name: Windows stores the
 * text as it is given and RD Licensing Manager, the Clearinghouse form and the Group Policy list show
 * or compare it as one line.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point of this rule
const CONTROL_CHARACTER = /[\u0000-\u001F\u007F-\u009F]/;

/** "U+0007", the code of the first control character in a text (a code, never the text around it). */
function firstControlCharacter(text: string): { code: string; position: number } | undefined {
  const match = CONTROL_CHARACTER.exec(text);
  if (!match) return undefined;
  return { code: `U+${match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`, position: match.index + 1 };
}

/**
 * Why a free-text value is refused, or undefined when it is fine: longer than `maxLength` characters
 * (UTF-16 code units, as Windows counts a WMI string), or holding a control character. `where` names
 * the field ("contact.firstName", "a license server name"). The value itself is never quoted: only its
 * length, or the code and position of the offending character.
 */
export function freeTextProblem(text: string, where: string, maxLength: number): string | undefined {
  // Length first: a 20 MB value is refused without scanning it.
  if (text.length > maxLength) {
    return `${where} is ${text.length} characters long, more than the ${maxLength} accepted: shorten it`;
  }
  const control = firstControlCharacter(text);
  if (control) {
    return (
      `${where} holds a control character (${control.code}) at position ${control.position}: remove it ` +
      `(control characters such as NUL, BEL, tab or a line break are not accepted in names, contact fields or license server names)`
    );
  }
  return undefined;
}

/** A zod check for `.superRefine(...)`: the free-text rule of `freeTextProblem`, as an issue. */
export function freeTextRule(where: string, maxLength: number) {
  return (text: string, ctx: z.RefinementCtx) => {
    const problem = freeTextProblem(text, where, maxLength);
    if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: text, continue: false });
  };
}

/** The props seed of a resource class: every output key present (as `undefined`), then the args. */
export function withOutputSeeds<A extends object>(outputKeys: readonly string[], args: A): A & Record<string, unknown> {
  return { ...Object.fromEntries(outputKeys.map((k) => [k, undefined])), ...args };
}

export { z };
