/**
 * Registers resources under `pulumi.runtime.setMocks` and hands back what the SDK really sends to the
 * engine: the type token, the URN, and the inputs, including the real serialized `__provider` string
 * (the SDK still serializes the provider under mocks; mocks never call it).
 *
 * Secret inputs arrive in engine form (`{"4dabf…": "1b47…", value}`), as the engine receives them.
 *
 * What is real: the Pulumi Node SDK (resource registration, input serialization, closure serialization).
 * What stands in: the engine's resource monitor (the SDK's own mock monitor).
 */
import * as pulumi from "@pulumi/pulumi";
import { serializeFunction } from "@pulumi/pulumi/runtime/closure/serializeClosure";
import { isSecret } from "./secrets";

export interface Registration {
  /** Type token, e.g. `pulumi-nodejs:dynamic/note:Note`. */
  type: string;
  name: string;
  /** `urn:pulumi:<stack>::<project>::<type>::<name>` as the SDK computed it. */
  urn: string;
  /** The inputs as registered, including `__provider` (a string, or a secret wrapper of one). */
  inputs: Record<string, unknown>;
  /** The `__provider` string (unwrapped if the SDK had to mark it secret). */
  provider: string;
  /** True when the SDK wrapped `__provider` as a secret (the closure captured a secret). */
  providerIsSecret: boolean;
}

export interface CaptureOptions {
  project?: string;
  stack?: string;
  /** Register as during `pulumi preview`. Default false. */
  preview?: boolean;
  /** How long to wait for every URN before giving up. Default 10 s (a capture takes well under 1 s). */
  timeoutMs?: number;
}

/**
 * Runs `build` (which constructs resources) under fresh mocks and returns one Registration per custom
 * resource, in registration order. Awaits every registered resource's URN, so serialization has
 * finished before the caller goes on (under Jest, a test that ends first crashes the worker).
 */
export async function captureRegistrations(
  build: () => pulumi.Resource | readonly pulumi.Resource[] | void,
  options: CaptureOptions = {},
): Promise<Registration[]> {
  const { project = "proj", stack = "stack", preview = false, timeoutMs = 10_000 } = options;
  const seen: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        seen.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}_id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    project,
    stack,
    preview,
  );

  // A serialization failure never throws at `new`: it surfaces as an unhandled rejection and the URN
  // never resolves. Outside Jest the listener below turns it into this call's rejection. Under Jest the
  // listener never fires (Jest's sandbox has its own `process` events and Jest itself reports the
  // rejection, with the SDK's readable message, against the running test), so the timeout bounds the
  // wait. Call `assertSerializable(provider)` in a unit test for the fast, catchable check.
  let onFailure: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (onFailure = reject));
  const listener = (reason: unknown) => onFailure(reason);
  process.on("unhandledRejection", listener);
  let timer: NodeJS.Timeout | undefined;
  try {
    const built = build();
    const resources: readonly pulumi.Resource[] = built === undefined ? [] : Array.isArray(built) ? built : [built as pulumi.Resource];
    const urns = Promise.all(resources.map((r) => new Promise<string>((res) => r.urn.apply((u: string) => res(u)))));
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `captureRegistrations: URNs not resolved within ${timeoutMs} ms: __provider serialization most likely failed ` +
                `(see the unhandled rejection reported with this test; assertSerializable(provider) gives it directly)`,
            ),
          ),
        timeoutMs,
      );
    });
    const resolved: string[] = await Promise.race([urns, failed, timeout]);
    return seen.map((s) => {
      const urn =
        resolved.find((u) => u.endsWith(`::${s.type}::${s.name}`) || u.endsWith(`$${s.type}::${s.name}`)) ??
        `urn:pulumi:${stack}::${project}::${s.type}::${s.name}`;
      const raw = s.inputs.__provider;
      const providerIsSecret = isSecret(raw);
      const provider = providerIsSecret ? (raw as { value: unknown }).value : raw;
      if (typeof provider !== "string") {
        throw new Error(`resource ${s.name} (${s.type}) registered without a __provider string: is it a dynamic resource?`);
      }
      return { type: s.type, name: s.name, urn, inputs: s.inputs, provider, providerIsSecret };
    });
  } finally {
    if (timer) clearTimeout(timer);
    process.removeListener("unhandledRejection", listener);
  }
}

/** Registers exactly one resource and returns its registration. */
export async function captureProvider(build: () => pulumi.Resource, options: CaptureOptions = {}): Promise<Registration> {
  const regs = await captureRegistrations(build, options);
  if (regs.length !== 1) throw new Error(`captureProvider: expected one registration, got ${regs.length}`);
  return regs[0];
}

/**
 * The fast check for a provider object: serializes it exactly as the SDK does for `__provider`
 * (`() => provider`, secrets allowed) and rejects with the SDK's readable message when something
 * captured cannot be serialized. Returns the text, for size and content assertions.
 */
export async function assertSerializable(provider: pulumi.dynamic.ResourceProvider): Promise<{ text: string; bytes: number }> {
  const result = await serializeFunction(() => provider, { allowSecrets: true });
  return { text: result.text, bytes: Buffer.byteLength(result.text, "utf8") };
}
