/**
 * Values in engine form, as the Pulumi engine holds them in state and encodes them in a Struct:
 * secrets are `{ "4dabf…": "1b47…", value }` wrappers, unknowns (preview) the sentinel string.
 * The helpers here do what the engine does with them: strip the wrappers before calling a host that
 * answers acceptSecrets=false, and mark outputs secret again afterwards (`annotateSecrets`).
 */

/** Preview placeholder for a value not known yet (`rpc.unknownValue`). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Key and signature of a secret wrapper (`rpc.specialSigKey`, `rpc.specialSecretSig`). */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export type Props = Record<string, unknown>;
export interface SecretValue<T = unknown> {
  [SECRET_SIG_KEY]: typeof SECRET_SIG;
  value: T;
}

/** A value marked secret, in engine/Struct form. */
export function secret<T>(value: T): SecretValue<T> {
  return { [SECRET_SIG_KEY]: SECRET_SIG, value } as SecretValue<T>;
}

export function isSecret(value: unknown): value is SecretValue {
  return typeof value === "object" && value !== null && (value as Props)[SECRET_SIG_KEY] === SECRET_SIG;
}

export function containsSecrets(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecrets);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsSecrets);
  return false;
}

/** Removes every secret wrapper, keeping the values: what the engine sends a host with acceptSecrets=false. */
export function stripSecrets<T>(value: T): T {
  if (isSecret(value)) return stripSecrets(value.value) as T;
  if (Array.isArray(value)) return value.map(stripSecrets) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripSecrets(v)])) as T;
  }
  return value;
}

/**
 * The engine's `annotateSecrets(outs, ins)`: for every key in `ins` also in `outs`, recurse when both
 * are objects; otherwise mark the out value secret when the in value contains a secret. Returns a copy.
 */
export function annotateSecrets(outs: Props | undefined, ins: Props | undefined): Props | undefined {
  if (!outs || !ins) return outs;
  const result: Props = { ...outs };
  for (const [key, inValue] of Object.entries(ins)) {
    if (!(key in result)) continue;
    const outValue = result[key];
    if (isPlainObject(outValue) && isPlainObject(inValue)) {
      result[key] = annotateSecrets(outValue, inValue);
    } else if (!isSecret(outValue) && containsSecrets(inValue)) {
      result[key] = secret(outValue);
    }
  }
  return result;
}

/** Marks the named top-level keys secret (as `additionalSecretOutputs` or `pulumi.secret` inputs do). */
export function markSecret(props: Props, keys: readonly string[] = []): Props {
  const result = { ...props };
  for (const k of keys) if (k in result && !isSecret(result[k])) result[k] = secret(result[k]);
  return result;
}

function isPlainObject(v: unknown): v is Props {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isSecret(v);
}

/** True when the unknown sentinel occurs anywhere inside `value`. */
export function hasUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(hasUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(hasUnknown);
  return false;
}
