/**
 * One `pulumi up` of a compiled user program (a module exporting the program function) through the
 * project's engine emulation (engine/program.ts `runProgram`), with the program folder's OWN
 * `@pulumi/pulumi`: the mocks, the config and the root Stack are set on that copy, the one the
 * program and the installed package register their resources through. As the Node language host
 * does, the program runs inside the root Stack and every resource it constructs is awaited (a stack
 * transformation collects them). Not a test file.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { runProgram, type ProgramRun } from "../../engine/program";
import type { Engine } from "../helpers/engine";

/** The `@pulumi/pulumi` installed in a program folder (its own copy, not this project's). */
export function programSdk(dir: string): typeof pulumi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(dir, "node_modules", "@pulumi", "pulumi"));
}

export interface Deployment {
  run: ProgramRun;
  /** What the program threw, if it did. */
  programError?: unknown;
  /** The stack outputs, resolved (secrets unwrapped; their names in `secretOutputs`). */
  outputs: Record<string, unknown>;
  secretOutputs: string[];
}

export interface DeployOptions {
  project: string;
  stack: string;
  /** Config values by bare key (namespaced with the project here). */
  config: Record<string, string>;
  /** Bare keys of the secret ones. */
  secretKeys: string[];
}

type Settles = { promise(): Promise<unknown> };

export async function deployProgram(engine: Engine, dir: string, options: DeployOptions): Promise<Deployment> {
  const sdk = programSdk(dir);
  const key = (k: string) => `${options.project}:${k}`;
  sdk.runtime.setAllConfig(Object.fromEntries(Object.entries(options.config).map(([k, v]) => [key(k), v])), options.secretKeys.map(key));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require(path.join(dir, "index.js")) as () => Record<string, unknown>;

  let exported: Record<string, unknown> = {};
  let programError: unknown;
  const build = () => {
    const constructed: pulumi.Resource[] = [];
    const stackDone = sdk.runtime
      .runInPulumiStack(async () => {
        sdk.runtime.registerStackTransformation((args) => {
          constructed.push(args.resource);
          return undefined;
        });
        exported = program();
        return exported;
      })
      .catch((e: unknown) => {
        programError = e;
      })
      .then(() => Promise.allSettled(constructed.map((r) => (r.urn as unknown as Settles).promise())));
    // runProgram awaits the `urn` of what build returns: this stand-in for the Stack settles once the
    // program returned and every resource it constructed was answered.
    return [{ urn: sdk.output(stackDone) } as unknown as pulumi.Resource];
  };
  const run = await runProgram(engine, build, { project: options.project, stack: options.stack, sdk });

  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  if (programError === undefined && run.errors.length === 0) {
    for (const [name, value] of Object.entries(exported)) {
      if (!sdk.Output.isInstance(value)) continue;
      if (await sdk.isSecret(value)) secretOutputs.push(name);
      outputs[name] = await (value as unknown as Settles).promise();
    }
  }
  return { run, programError, outputs, secretOutputs };
}
