/**
 * Runs a REAL Pulumi program (resource classes, the RdsLicensing component, apply callbacks) against the
 * provider host (the real dynamic-provider host process, or the in-process one), one `pulumi up` at a
 * time. It is what the demo's bundled harness (scripts/harness.ts) runs programs with.
 *
 * How: the program runs under `pulumi.runtime.setMocks`, but the mock's newResource does not invent
 * outputs: for every custom resource the SDK registers, it runs the engine's own step for that resource
 * (engine.ts: check, then create, or diff and update/replace, with the engine's secret
 * handling and partial-failure bookkeeping) through the host, and hands the real outputs back to the SDK.
 * So dependents register only once their inputs resolve from real outputs, exactly as the engine orders
 * them, and apply callbacks (the component's findings, the classes' input mapping) see real values.
 * Steps run one at a time (the engine emulation is sequential). Once a step fails, no further step is
 * sent to the provider (registrations after it are listed in `skipped`), as `pulumi up` stops.
 *
 * What is real: the SDK, the classes, the host, the providers and everything below them.
 * What stands in: the Pulumi CLI engine (engine.ts's step logic, through its building blocks `begin`,
 * `upOne`, `deletePhase` and `reorder`), and the resource monitor (the SDK's MockMonitor, wrapped to
 * forward `additionalSecretOutputs`).
 *
 * The mocks go on the SDK copy the program's resources register through: this project's
 * `@pulumi/pulumi` by default, or the one passed as `sdk` when the program lives in its own folder with
 * its own copy (a user's program beside the installed package, test/package). An SDK copy only sees
 * the mocks set on itself: a program registering through another copy would find no monitor at all.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Engine } from "./engine";
import { makeUrn } from "./hostProtocol";
import type { Props } from "./secrets";
import type { Refs, ResourceSpec } from "./spec";
import type { DeploymentError, Step } from "./state";

export interface ProgramRun {
  /** The engine steps of this run, in order (creates, updates, sames, replaces, deletes). */
  steps: Step[];
  /** Registrations whose step failed (their dependents were never registered). */
  errors: { urn: string; error: DeploymentError | Error }[];
  /** URNs of every custom resource the program registered, in registration order. */
  registered: string[];
  /** Registrations after a failed step: not sent to the provider (the run stopped). */
  skipped: string[];
}

/** What runProgram uses of an `@pulumi/pulumi` module: any 3.x copy has it. */
export interface PulumiSdk {
  runtime: Pick<typeof pulumi.runtime, "setMocks" | "getMonitor">;
}

export interface RunProgramOptions {
  /** Default "proj". */
  project?: string;
  /** Default "stack". */
  stack?: string;
  /** The `@pulumi/pulumi` module the program's resources use. Default: this project's. */
  sdk?: PulumiSdk;
}

const noRefs: Refs = {
  outputs: () => {
    throw new Error("runProgram: inputs are static");
  },
  id: () => {
    throw new Error("runProgram: inputs are static");
  },
};

/**
 * `pulumi up` of `build`'s program. `build` returns the resources whose completion ends the run (a
 * component's children are awaited through it when it is an RdsLicensing: pass every resource you
 * want awaited).
 */
export async function runProgram(engine: Engine, build: () => pulumi.Resource[], options: RunProgramOptions = {}): Promise<ProgramRun> {
  const sdk: PulumiSdk = options.sdk ?? pulumi;
  await engine.begin();
  engine.reportPendingOperations();
  const steps: Step[] = [];
  const errors: ProgramRun["errors"] = [];
  const skipped: string[] = [];
  const registered: string[] = [];
  const secretOutputs = new Map<string, string[]>();
  let queue: Promise<unknown> = Promise.resolve();

  let failed = false;
  await sdk.runtime.setMocks(
    {
      newResource: async (args) => {
        if (!args.custom) return { id: undefined, state: args.inputs };
        const urn = makeUrn(args.type, args.name, options.project ?? "proj", options.stack ?? "stack");
        registered.push(urn);
        const spec: ResourceSpec = {
          urn,
          inputs: args.inputs as Props,
          additionalSecretOutputs: secretOutputs.get(`${args.type}::${args.name}`) ?? [],
        };
        const step = queue.then(async () => {
          // Like `pulumi up`, no new step starts once one has failed.
          if (failed) {
            skipped.push(urn);
            return;
          }
          try {
            await engine.upOne(spec, noRefs, steps);
          } catch (error) {
            failed = true;
            errors.push({ urn, error: error as Error });
          }
        });
        queue = step;
        await step;
        // The SDK gets the state as the engine holds it. A failed or skipped step is answered without an
        // error (old outputs if the resource exists, none otherwise): the run's outcome is in `errors`,
        // and no Output of the program rejects (a real language host would report such rejections itself).
        const entry = engine.state.get(urn);
        return entry ? { id: entry.id || undefined, state: entry.outputs } : { id: undefined, state: {} };
      },
      call: (args) => args.inputs,
    },
    options.project ?? "proj",
    options.stack ?? "stack",
    false,
  );
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const monitor = sdk.runtime.getMonitor() as any;
  const original = monitor.registerResource.bind(monitor);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResource = (req: any, callback: any) => {
    secretOutputs.set(`${req.getType()}::${req.getName()}`, req.getAdditionalsecretoutputsList());
    return original(req, callback);
  };

  const resources = build();
  // Output.promise() (internal to the SDK) settles once the registration is answered.
  await Promise.allSettled(resources.map((r) => (r.urn as unknown as { promise(): Promise<unknown> }).promise()));
  await queue;
  // Let the SDK settle anything still in flight (outputs of registered components).
  await new Promise((res) => setTimeout(res, 20));

  if (errors.length === 0) {
    // The delete phase of `up`: replaced resources, then resources the program no longer declares.
    await engine.deletePhase(new Set(registered), steps);
    engine.reorder(registered);
  }
  return { steps, errors, registered, skipped };
}

/** The resources of an RdsLicensing component, for `runProgram`'s build. */
export function componentResources(env: {
  licenseServer: pulumi.Resource;
  calPacks: pulumi.Resource[];
  sessionHosts: pulumi.Resource[];
}): pulumi.Resource[] {
  return [env.licenseServer, ...env.calPacks, ...env.sessionHosts];
}
