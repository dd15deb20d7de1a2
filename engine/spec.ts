/**
 * What the program declares to the engine: resources as data (URN, inputs with `__provider`, resource
 * options), whose inputs may be computed from other resources' outputs.
 */
import { hasUnknown, UNKNOWN, type Props } from "./secrets";

/** Lets a resource's inputs depend on other resources' outputs (engine form: secrets stay wrapped). */
export interface Refs {
  /** Outputs of `urn`; in preview, unknown (the sentinel) where the upstream is changing and the key is not an input. */
  outputs(urn: string): Props;
  id(urn: string): string;
}

export interface ResourceSpec {
  urn: string;
  /** The inputs the program registers, including `__provider` (take them from a capture.ts registration). */
  inputs: Props | ((refs: Refs) => Props);
  /** Top-level inputs the program marks secret (wrapped values in `inputs` are secret already). */
  secretInputs?: readonly string[];
  /** Resource option `additionalSecretOutputs`. */
  additionalSecretOutputs?: readonly string[];
  /** Resource option `deleteBeforeReplace`. */
  deleteBeforeReplace?: boolean;
}

/** A spec with fixed inputs, e.g. straight from a capture.ts registration (`{ urn, inputs }`). */
export type StaticResourceSpec = ResourceSpec & { inputs: Props };

/** The spec of a registered resource, optionally with resource options. */
export function specOf(reg: { urn: string; inputs: Props }, options: Omit<ResourceSpec, "urn" | "inputs"> = {}): StaticResourceSpec {
  return { urn: reg.urn, inputs: reg.inputs, ...options };
}

/**
 * What `Output.apply` does to a value during preview: an unknown (anywhere inside) stays unknown as a
 * whole, a known value is transformed. Use it in `inputs` functions that derive a value from outputs.
 */
export function apply<T, R>(value: T, fn: (value: T) => R): R | typeof UNKNOWN {
  return hasUnknown(value) ? UNKNOWN : fn(value);
}
