/**
 * The bundled harness: runs a Pulumi program's `up` (or `destroy`) WITHOUT the Pulumi CLI, for the demo's
 * fallback (scripts/demo.ts) when the CLI is not installed. It is NOT `pulumi up`, and says so.
 *
 * What is real: the program, loaded the way the Node language host (`@pulumi/pulumi/cmd/run`) loads it
 * (TypeScript through @pulumi/pulumi's own tsutils + ts-node registration, type-checked; run inside
 * `runInPulumiStack`, so the module's exports are the stack outputs); the Pulumi SDK (resource classes,
 * the RdsLicensing component, apply callbacks, closure serialization of each `__provider`); the
 * dynamic-provider host process shipped in @pulumi/pulumi, spawned with the program directory as its
 * cwd and driven over gRPC; the providers (bin/), the PowerShell runner, pwsh and every operation script.
 * What stands in: the Pulumi engine and resource monitor (engine/engine.ts's step logic, driven
 * per registration by engine/program.ts under `pulumi.runtime.setMocks`); the
 * state backend (one JSON file, see `stateFile`, NOT encrypted: fine for the simulator, never for real
 * credentials); Windows, when the program uses the simulator transport (the WMI emulator).
 * Not emulated: preview, refresh, parallel steps, config from Pulumi.<stack>.yaml (the program runs
 * with the config given here, empty by default).
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { createEngine, type Engine } from "../engine/engine";
import { startProviderHost } from "../engine/grpcHost";
import { parseUrn, type ProviderHost } from "../engine/hostProtocol";
import { runProgram } from "../engine/program";
import { stripSecrets } from "../engine/secrets";
import { PROGRESS_PREFIX } from "../provider/progress";
import type { PendingOperation, StateEntry, Step } from "../engine/state";

/** What the harness reads from Pulumi.yaml. */
export interface PulumiProject {
  name: string;
  /** `main:` resolved against the project directory; the project directory itself when absent. */
  program: string;
  /** runtime.options.typescript (default true, as in Pulumi). */
  typescript: boolean;
}

/**
 * Reads the few Pulumi.yaml fields the harness needs: top-level `name` and `main`, and
 * `typescript: false` under runtime options. (A small reader for the flat files of this project, not
 * a YAML parser.)
 */
export function readPulumiProject(projectDir: string): PulumiProject {
  const file = path.join(projectDir, "Pulumi.yaml");
  const text = fs.readFileSync(file, "utf8");
  const top = (key: string): string | undefined => {
    const m = new RegExp(`^${key}:[ \\t]*(.*?)[ \\t]*$`, "m").exec(text);
    if (!m) return undefined;
    const raw = m[1].replace(/\s+#.*$/, "");
    return raw.replace(/^(["'])(.*)\1$/, "$2") || undefined;
  };
  const name = top("name");
  if (!name) throw new Error(`${file} has no top-level name`);
  const main = top("main");
  const typescript = !/^\s+typescript:\s*false\s*$/m.test(text);
  return { name, program: path.resolve(projectDir, main ?? "."), typescript };
}

export interface HarnessOptions {
  /** Where Pulumi.yaml is: the program directory, and the provider host's cwd. */
  projectDir: string;
  /** Stack name. */
  stack: string;
  /** The harness's state file for this stack (created on first use). */
  stateFile: string;
  /** `destroy` instead of `up`. */
  destroy?: boolean;
  /** Program config, keys `<project>:<key>` (or bare keys, taken as the project's). Default none. */
  config?: Record<string, string>;
  /** Config keys whose values are secret. */
  secretConfigKeys?: string[];
  /** Extra environment for the provider host (RDS_SIM_STATE_DIR, RDS_JOURNAL_DIR, PATH...). */
  hostEnv?: Record<string, string | undefined>;
  /** Progress lines (resource steps as they happen). */
  log?: (line: string) => void;
}

export type StepKind = Step["op"];

export interface HarnessStep {
  op: StepKind;
  urn: string;
  type: string;
  name: string;
}

export interface HarnessResult {
  project: string;
  stack: string;
  operation: "up" | "destroy";
  /** Custom resource steps in the order they ran. */
  steps: HarnessStep[];
  /** Step counts by kind. */
  counts: Record<StepKind, number>;
  /** True when nothing was created, updated, replaced or deleted. */
  noChanges: boolean;
  /** Stack outputs (the program's exports), plain values; secret ones are listed in `secretOutputs`. */
  outputs: Record<string, unknown>;
  secretOutputs: string[];
  /** Why the run failed (empty on success). */
  errors: string[];
  /** Engine warnings (e.g. pending operations from an interrupted run). */
  warnings: string[];
  /** Custom resources in state after the run. */
  resources: number;
  stateFile: string;
}

interface StateFile {
  version: 1;
  project: string;
  stack: string;
  resources: StateEntry[];
  pendingDeletes: StateEntry[];
  pendingOperations: PendingOperation[];
}

function loadState(engine: Engine, file: string, project: string, stack: string): void {
  if (!fs.existsSync(file)) return;
  const data = JSON.parse(fs.readFileSync(file, "utf8")) as StateFile;
  if (data.version !== 1) throw new Error(`${file}: unknown harness state version ${String(data.version)}`);
  if (data.project !== project || data.stack !== stack) {
    throw new Error(`${file} holds stack ${data.project}/${data.stack}, not ${project}/${stack}`);
  }
  for (const entry of data.resources) engine.state.set(entry.urn, entry);
  engine.pendingDeletes.push(...data.pendingDeletes);
  engine.pendingOperations.push(...data.pendingOperations);
}

function saveState(engine: Engine, file: string, project: string, stack: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const data: StateFile = {
    version: 1,
    project,
    stack,
    resources: [...engine.state.values()],
    pendingDeletes: [...engine.pendingDeletes],
    pendingOperations: [...engine.pendingOperations],
  };
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * Registers TypeScript support exactly as `@pulumi/pulumi/cmd/run` does for a nodejs project with
 * `typescript: true` (the default): the project's typescript (else the SDK's vendored one) and ts-node
 * (else the SDK's vendored 7.0.1), the project directory's tsconfig.json, ES2020/nodenext defaults
 * under the tsconfig's own options, type-checking unless `noCheck` or PULUMI_NODEJS_TRANSPILE_ONLY.
 */
function registerTypeScript(projectDir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tsutils = require("@pulumi/pulumi/tsutils");
  const tsConfigPath = path.resolve(projectDir, process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json");
  const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
  const transpileEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
  const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(tsnodeRequire).register({
    compiler: typescriptRequire,
    transpileOnly: transpileEnv ? transpileEnv === "true" : compilerOptions.noCheck,
    project: tsConfigPath,
    skipProject: !fs.existsSync(tsConfigPath),
    compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
  });
}

let typeScriptRegistered = false;

/**
 * One `up` (or `destroy`) of the project's program through the real dynamic-provider host. Starts
 * the host, loads the state file, runs, saves the state (also after a failure: what was done is
 * recorded, as the engine does), stops the host.
 */
export async function runHarness(options: HarnessOptions): Promise<HarnessResult> {
  const project = readPulumiProject(options.projectDir);
  const log = options.log ?? (() => undefined);
  const errors: string[] = [];
  // The language host reports every unhandled rejection of the program as an error of the run.
  const onRejection = (reason: unknown) => errors.push(`unhandled rejection in the program: ${describe(reason)}`);
  process.on("unhandledRejection", onRejection);

  let host: ProviderHost | undefined;
  try {
    host = await startProviderHost({
      cwd: options.projectDir,
      project: project.name,
      stack: options.stack,
      env: options.hostEnv,
      // The program is the first thing a real run starts; the host here may wait for a slow pwsh too.
      startTimeoutMs: 60_000,
      // The provider's progress lines, as they arrive: `pulumi up` shows every line of the host's
      // stderr as an info diagnostic of the update; the harness shows the provider's own.
      onStderrLine: (line) => {
        if (isProgressLine(line)) log(`      ${line.trim()}`);
      },
    });
    const engine = createEngine(withProgress(host, log));
    loadState(engine, options.stateFile, project.name, options.stack);
    const stepLog = (step: Step) => log(`  ${symbol(step.op).padEnd(2)} ${step.op.padEnd(7)} ${describeUrn(step.urn)}`);

    let steps: Step[];
    let outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    try {
      if (options.destroy) {
        steps = await engine.destroy();
        log(steps.length ? "steps:" : "steps: none");
        steps.forEach(stepLog);
      } else {
        const ran = await runProgramOnce(engine, options, project, stepLog);
        steps = ran.steps;
        errors.push(...ran.errors);
        outputs = ran.outputs;
        secretOutputs.push(...ran.secretOutputs);
      }
    } catch (e) {
      steps = (e as { steps?: Step[] }).steps ?? [];
      errors.push(describe(e));
    } finally {
      saveState(engine, options.stateFile, project.name, options.stack);
    }

    const counts: Record<StepKind, number> = { create: 0, update: 0, replace: 0, delete: 0, same: 0 };
    for (const s of steps) counts[s.op]++;
    return {
      project: project.name,
      stack: options.stack,
      operation: options.destroy ? "destroy" : "up",
      steps: steps.map((s) => ({ op: s.op, urn: s.urn, ...typeAndName(s.urn) })),
      counts,
      noChanges: errors.length === 0 && counts.create + counts.update + counts.replace + counts.delete === 0,
      outputs,
      secretOutputs,
      errors,
      warnings: engine.events.filter((e) => e.severity !== "info").map((e) => e.message),
      resources: engine.state.size,
      stateFile: options.stateFile,
    };
  } finally {
    process.removeListener("unhandledRejection", onRejection);
    await host?.close();
  }
}

async function runProgramOnce(
  engine: Engine,
  options: HarnessOptions,
  project: PulumiProject,
  stepLog: (step: Step) => void,
): Promise<{ steps: Step[]; errors: string[]; outputs: Record<string, unknown>; secretOutputs: string[] }> {
  if (project.typescript && !typeScriptRegistered) {
    registerTypeScript(options.projectDir);
    typeScriptRegistered = true;
  }
  const config = Object.fromEntries(
    Object.entries(options.config ?? {}).map(([k, v]) => [k.includes(":") ? k : `${project.name}:${k}`, v]),
  );
  const secretKeys = (options.secretConfigKeys ?? []).map((k) => (k.includes(":") ? k : `${project.name}:${k}`));
  pulumi.runtime.setAllConfig(config, secretKeys);

  let programExports: Record<string, unknown> = {};
  let programError: unknown;
  const build = () => {
    // As the language host does: the program runs inside the root Stack resource, and its exports are
    // the stack outputs. A stack transformation collects every resource the program constructs, so the
    // run waits for each registration (not only for those the outputs depend on).
    const constructed: pulumi.Resource[] = [];
    const stackOutputs = pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((args) => {
        constructed.push(args.resource);
        return undefined;
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(project.program);
      const exported = loaded instanceof Function ? await loaded() : loaded;
      programExports = exported ?? {};
      return exported;
    });
    const settled = stackOutputs
      .catch((e) => {
        programError = e;
      })
      .then(() => Promise.allSettled(constructed.map((r) => (r.urn as unknown as { promise(): Promise<string> }).promise())));
    // runProgram awaits `urn` of what build returns: this stand-in for the Stack settles when the
    // program has finished and every resource it constructed has been answered.
    return [{ urn: pulumi.output(settled) } as unknown as pulumi.Resource];
  };

  options.log?.(
    `running ${path.relative(options.projectDir, project.program) || "."} (TypeScript, type-checked as the Node language host does)`,
  );
  const run = await runProgram(engine, build, { project: project.name, stack: options.stack });
  options.log?.(run.steps.length ? "steps:" : "steps: none completed");
  run.steps.forEach(stepLog);
  const errors: string[] = [];
  if (programError !== undefined) errors.push(`the program failed: ${describe(programError)}`);
  for (const e of run.errors) errors.push(`${describeUrn(e.urn)}: ${e.error.message}`);
  if (run.skipped.length) errors.push(`not deployed after the failure: ${run.skipped.map(describeUrn).join(", ")}`);

  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  if (programError === undefined && run.errors.length === 0) {
    for (const [key, value] of Object.entries(programExports)) {
      if (pulumi.Output.isInstance(value)) {
        if (await pulumi.isSecret(value)) secretOutputs.push(key);
        outputs[key] = stripSecrets(await (value as unknown as { promise(): Promise<unknown> }).promise());
      } else if (!pulumi.Resource.isInstance(value) && typeof value !== "function") {
        outputs[key] = await value;
      }
    }
  }
  return { steps: run.steps, errors, outputs, secretOutputs };
}

/** The host, with a progress line when a create, update or delete starts and when it ends. */
function withProgress(host: ProviderHost, log: (line: string) => void): ProviderHost {
  const verbs: Record<string, [string, string]> = {
    create: ["creating", "created"],
    update: ["updating", "updated"],
    delete: ["deleting", "deleted"],
  };
  return new Proxy(host, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      const verb = verbs[key as string];
      if (typeof value !== "function" || !verb) return value;
      return async (req: { urn: string }) => {
        const started = Date.now();
        log(`... ${verb[0]} ${describeUrn(req.urn)}`);
        try {
          const result = await value.call(target, req);
          log(`    ${verb[1]} ${describeUrn(req.urn)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
          return result;
        } catch (e) {
          log(`    ${verb[0]} ${describeUrn(req.urn)} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
          throw e;
        }
      };
    },
  });
}

/** A line of the provider host's stderr that is one of the provider's progress lines (provider/progress.ts). */
export function isProgressLine(line: string): boolean {
  return line.trimStart().startsWith(`${PROGRESS_PREFIX} `);
}

function typeAndName(urn: string): { type: string; name: string } {
  const { type, name } = parseUrn(urn);
  return { type, name };
}

function describeUrn(urn: string): string {
  const { type, name } = typeAndName(urn);
  return `${name} (${type.replace(/^pulumi-nodejs:dynamic\//, "")})`;
}

function symbol(op: StepKind): string {
  return { create: "+", update: "~", replace: "+-", delete: "-", same: " " }[op];
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
