/**
 * Secret values in the provider's answers. The dynamic-provider host accepts no secrets
 * (`acceptSecrets: false`): the engine strips the wrappers before calling the provider and reads them
 * back in what the provider returns. The engine also re-marks an output secret when an input of the
 * same name was, but that happens after the answer has crossed the host: so the provider wraps the
 * secret fields (the connection, which holds credentials; packs that carry a connection) itself, in
 * every answer (check inputs, create/read/update outputs, init-failure properties), and no response
 * of the host carries them in plain text. RdsCalPack does the same for its program data.
 */
import { UNKNOWN } from "../diff";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isSecretValue(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Every secret wrapper removed, at any depth (what the engine sends a host that accepts no secrets). */
export function unwrapSecrets<T>(value: T): T {
  if (isSecretValue(value)) return unwrapSecrets((value as Record<string, unknown>).value) as T;
  if (Array.isArray(value)) return value.map(unwrapSecrets) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)])) as T;
  }
  return value;
}

/** A copy of `props` with the named top-level fields wrapped as secrets (absent ones left absent). */
export function wrapSecrets<T extends object | undefined>(props: T, keys: readonly string[]): T {
  if (props === undefined || props === null) return props;
  const out = { ...(props as Record<string, unknown>) };
  for (const k of keys) {
    if (out[k] !== undefined && out[k] !== null && !isSecretValue(out[k])) out[k] = { [SIG_KEY]: SECRET_SIG, value: out[k] };
  }
  return out as T;
}

/** The value at a dotted path (`activation.licenseServerId`), looking through secret wrappers. */
function valueAtPath(props: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = props;
  for (const key of dotted.split(".")) {
    if (isSecretValue(cur)) cur = (cur as Record<string, unknown>).value;
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return isSecretValue(cur) ? (cur as Record<string, unknown>).value : cur;
}

/**
 * A source counts as given when it holds a value: not absent, null or "" (an empty id carries
 * nothing), nor unknown at preview (no value yet: nothing to leak, and the engine keeps the wrapper
 * the program put on it).
 */
function given(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "" && value !== UNKNOWN;
}

/**
 * A copy of `props` in which every field of `sources` (output -> the inputs it carries or derives from,
 * fields.ts `secretSources`) is wrapped as a secret when one of its sources is given in `props` (the
 * state holds the inputs beside the outputs, so an answer can be judged from itself).
 */
export function wrapDerivedSecrets<T extends object | undefined>(props: T, sources: Readonly<Record<string, readonly string[]>>): T {
  if (props === undefined || props === null) return props;
  const p = props as Record<string, unknown>;
  const keys = Object.entries(sources)
    .filter(([, from]) => from.some((path) => given(valueAtPath(p, path))))
    .map(([key]) => key);
  return wrapSecrets(props, keys);
}
