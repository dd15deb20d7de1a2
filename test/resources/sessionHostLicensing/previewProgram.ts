/**
 * `pulumi preview` of a REAL Pulumi program over the engine emulation: the program's resource classes
 * run under the SDK in dry-run mode, and each custom resource's registration goes to the engine's own
 * preview step (engine.ts: check, and diff when the resource is in state) through the provider host.
 * Not a test file.
 *
 * What the SDK sends is taken as it crosses the monitor (the serialized request object: unknowns as
 * the engine's sentinel, secrets as wrappers), so what `check` receives is exactly what the SDK
 * serialized, partially known objects included. What the SDK gets back is what the Pulumi engine gives
 * a previewed resource: the old outputs when nothing changes, otherwise the checked inputs, every other
 * output key left out (so the SDK reports it unknown, as in a real preview).
 *
 * Real: the SDK in preview mode, the classes, the host and the providers. Stands in: the Pulumi CLI
 * engine (engine.ts's preview step, one resource at a time) and the resource monitor (the SDK's
 * MockMonitor, wrapped to read the raw request).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Engine } from "../../../engine/engine";
import { makeUrn } from "../../../engine/hostProtocol";
import type { Props } from "../../../engine/secrets";
import type { Step } from "../../../engine/state";

export interface PreviewRun {
  steps: Step[];
  /** The registration whose preview step failed (check refused it), and the error. */
  errors: { urn: string; error: Error }[];
  /** Registrations after the failure: never sent to the provider. */
  skipped: string[];
}

/** Previews `build`'s program (a fresh or existing stack in `engine`): check and diff only, nothing runs. */
export async function previewProgram(engine: Engine, build: () => pulumi.Resource[]): Promise<PreviewRun> {
  const steps: Step[] = [];
  const errors: PreviewRun["errors"] = [];
  const skipped: string[] = [];
  const raw = new Map<string, { inputs: Props; additionalSecretOutputs: string[] }>();
  let queue: Promise<unknown> = Promise.resolve();
  let failed = false;

  await pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        if (!args.custom) return { id: undefined, state: args.inputs };
        const urn = makeUrn(args.type, args.name);
        const sent = raw.get(`${args.type}::${args.name}`)!;
        const step = queue.then(async () => {
          if (failed) {
            skipped.push(urn);
            return undefined;
          }
          try {
            const previewed = (await engine.preview([{ urn, ...sent }])).filter((s) => s.urn === urn);
            steps.push(...previewed);
            return previewed[0];
          } catch (error) {
            failed = true;
            errors.push({ urn, error: error as Error });
            return undefined;
          }
        });
        queue = step;
        const done = await step;
        const old = engine.state.get(urn);
        if (done?.op === "same" && old) return { id: old.id, state: old.outputs };
        return { id: old?.id, state: done?.inputs ?? {} };
      },
      call: (args) => args.inputs,
    },
    "proj",
    "stack",
    true,
  );
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const monitor = pulumi.runtime.getMonitor() as any;
  const original = monitor.registerResource.bind(monitor);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResource = (req: any, callback: any) => {
    raw.set(`${req.getType()}::${req.getName()}`, {
      inputs: req.getObject().toJavaScript() as Props,
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    });
    return original(req, callback);
  };

  const resources = build();
  await Promise.allSettled(resources.map((r) => (r.urn as unknown as { promise(): Promise<unknown> }).promise()));
  await queue;
  await new Promise((res) => setTimeout(res, 20));
  return { steps, errors, skipped };
}
