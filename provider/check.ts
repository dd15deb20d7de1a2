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
  const parsed = schema.safeParse(rest);
  const withProvider = (inputs: Record<string, unknown>) =>
    __provider === undefined ? inputs : { ...inputs, __provider };
  if (parsed.success) return { inputs: withProvider(parsed.data as Record<string, unknown>) };
  const failures = parsed.error.issues
    .filter((issue) => !containsUnknown(valueAt(rest, issue.path)))
    .map((issue) => ({ property: issuePath(issue.path) || "(inputs)", reason: issue.message }));
  if (failures.length === 0) {
    // Every issue sat on an unknown value: preview passes the news through for the engine to echo.
    return { inputs: withProvider(rest) };
  }
  return { inputs: withProvider(rest), failures };
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}
