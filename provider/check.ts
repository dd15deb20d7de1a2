import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { containsUnknown } from "./diff";

export { UNKNOWN, containsUnknown } from "./diff";

/** Dotted path of a zod issue, e.g. `contact.firstName` or `licenseServers[1]`. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

/**
 * check() for every resource: validate and normalise with zod, turning each issue into a
 * CheckFailure `{property, reason}` (data, never a throw). Fields whose value is unknown at preview
 * are not validated: an issue whose path leads to an unknown is dropped, so preview never fails on
 * a value the engine does not know yet. On failure, `inputs` are the news unchanged.
 */
export function checkWithSchema<T>(
  schema: z.ZodType<T>,
  news: Record<string, unknown>,
): pulumi.dynamic.CheckResult<Record<string, unknown>> {
  const { __provider, ...rest } = news as Record<string, unknown> & { __provider?: unknown };
  const withProvider = (inputs: Record<string, unknown>) => (__provider === undefined ? inputs : { ...inputs, __provider });
  // Text with an unpaired UTF-16 surrogate is not Unicode: it cannot travel to the host and back
  // unchanged (UTF-8 has no form for it), so it is refused here rather than silently altered.
  const broken = loneSurrogatePaths(rest, []);
  if (broken.length > 0) {
    return {
      inputs: withProvider(rest),
      failures: broken.map((p) => ({
        property: issuePath(p) || "(inputs)",
        reason: `${issuePath(p) || "a field"} holds an unpaired UTF-16 surrogate, which is not valid Unicode text: retype the text (or remove the stray character)`,
      })),
    };
  }
  const parsed = schema.safeParse(rest);
  if (parsed.success) return { inputs: withProvider(parsed.data as Record<string, unknown>) };
  const failures = parsed.error.issues
    .filter((issue) => !containsUnknown(valueAt(rest, issue.path)))
    .map((issue) => ({ property: issuePath(issue.path) || "(inputs)", reason: fixItReason(issue, valueAt(rest, issue.path)) }));
  if (failures.length === 0) {
    // Every issue sat on an unknown value: preview passes the news through for the engine to echo.
    return { inputs: withProvider(rest) };
  }
  return { inputs: withProvider(rest), failures };
}

/** How a zod type name reads in a fix-it reason. */
const EXPECTED_TEXT: Readonly<Record<string, string>> = {
  object: "an object",
  string: "text (a string)",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "a list",
};

/** Fields whose example helps more than a type name. */
const FIELD_EXAMPLES: Readonly<Record<string, string>> = {
  connection: 'an object such as { transport: "simulator", host: "ls01.contoso.com" }',
  licenseServerConnection: 'an object such as { transport: "simulator", host: "ls01.contoso.com" }',
};

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value;
}

/**
 * The reason of a check failure. Schemas give their own fix-it messages; zod's built-in ones
 * ("Invalid input: expected object, received undefined", "Unrecognized key", "Invalid discriminator
 * value") say what is wrong but not what to do, and not which field: those are rewritten here, with the
 * field's path and what to give. Values are never echoed (a misplaced secret must not reach a message).
 */
export function fixItReason(
  issue: {
    code?: string;
    message: string;
    path: ReadonlyArray<PropertyKey>;
    expected?: unknown;
    keys?: string[];
    options?: unknown[];
    discriminator?: string;
  },
  value: unknown,
): string {
  const where = issuePath(issue.path) || "the inputs";
  const last = [...issue.path].reverse().find((p) => typeof p === "string") as string | undefined;
  if (issue.code === "invalid_type" && /^Invalid input/.test(issue.message)) {
    const expected = String(issue.expected ?? "");
    const give = (last && FIELD_EXAMPLES[last]) || EXPECTED_TEXT[expected] || expected || "a value";
    return value === undefined ? `${where} is required: give ${give}` : `${where} must be ${give}, got ${describeValue(value)}`;
  }
  if (issue.code === "unrecognized_keys" && /^Unrecognized key/.test(issue.message)) {
    const prefix = issuePath(issue.path);
    const keys = (issue.keys ?? []).map((k) => `"${prefix ? `${prefix}.` : ""}${k}"`);
    return `unknown field${keys.length > 1 ? "s" : ""} ${keys.join(", ")}: remove ${keys.length > 1 ? "them" : "it"}`;
  }
  if (issue.code === "invalid_union" && Array.isArray(issue.options) && /^Invalid (discriminator|input)/.test(issue.message)) {
    const options = issue.options.map((o) => JSON.stringify(o)).join(" or ");
    return value === undefined
      ? `${where} is required: set it to ${options}`
      : `${where} must be ${options}, got another value: set it to ${options}`;
  }
  return issue.message;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Paths of the strings (values and keys) holding an unpaired surrogate. */
function loneSurrogatePaths(value: unknown, at: PropertyKey[]): PropertyKey[][] {
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => loneSurrogatePaths(v, [...at, i]));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => (LONE_SURROGATE.test(k) ? [[...at, k]] : loneSurrogatePaths(v, [...at, k])));
  }
  return [];
}

/** The value at a zod issue path (undefined where the path leads nowhere). */
export function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
