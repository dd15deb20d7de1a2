/**
 * The in-process host (engine/inProcessHost.ts) answers as the real dynamic-provider host does: the
 * same engine scenarios run over both, and every RPC answer (and error) must match.
 *
 * What is real: the dynamic-provider host process from @pulumi/pulumi over gRPC (one side of each
 * comparison), the engine emulation (engine/engine.ts) on both sides, the `__provider` strings the
 * SDK registers through the product's shim, and the Note fixture's built JS (the in-process host is
 * given the very module the shim loads in the host process, keyed by the registered `__provider`).
 * What stands in: the Pulumi CLI engine (engine.ts) and the program (resources as data).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { captureProvider } from "../helpers/captureProvider";
import { createEngine, DeploymentError, specOf, type Engine, type StaticResourceSpec } from "../helpers/engine";
import { assertBuilt, startProviderHost, type CallRecord, type ProviderHost } from "../helpers/providerHost";
import { startInProcessHost } from "../../engine/inProcessHost";
import { noteImplementation } from "../fixtures/noteProvider/build";
import { Note, type NoteArgs } from "../fixtures/noteProvider/resource";

let grpcHost: ProviderHost;
const dirs: string[] = [];

beforeAll(async () => {
  assertBuilt(["provider/shim.ts", "provider/diff.ts"]);
  grpcHost = await startProviderHost();
});

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh directory for one side of one scenario. */
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "parity-"));
  dirs.push(d);
  return d;
}

async function note(name: string, args: NoteArgs): Promise<StaticResourceSpec> {
  return specOf(await captureProvider(() => new Note(name, args)));
}

/** An in-process host over the Note implementation, found under the `__provider` string `spec` carries. */
function inProcessHostFor(spec: StaticResourceSpec): ProviderHost {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const impl = require(noteImplementation()).provider as pulumi.dynamic.ResourceProvider;
  return startInProcessHost({ providers: { [spec.inputs.__provider as string]: impl } });
}

/** The RPCs of a run, comparable across hosts: the directory and pid replaced, timings dropped. */
function comparable(log: CallRecord[], dir: string): unknown[] {
  const text = JSON.stringify(log.map(({ method, urn, request, response, error }) => ({ method, urn, request, response, error })));
  return JSON.parse(text.split(dir).join("<dir>"));
}

type Scenario = (engine: Engine, dir: string) => Promise<unknown>;

/** Runs `scenario` over both hosts (each in its own directory) and returns both sides, comparable. */
async function overBothHosts(scenario: Scenario): Promise<{ grpc: unknown; inProcess: unknown }> {
  const sides: Record<"grpc" | "inProcess", unknown> = { grpc: undefined, inProcess: undefined };
  for (const side of ["grpc", "inProcess"] as const) {
    const dir = tmpDir();
    const probe = await note("n1", { dir, name: "hello", content: "v1" });
    const engine = createEngine(side === "grpc" ? grpcHost : inProcessHostFor(probe));
    const outcome = await scenario(engine, dir).catch((e: unknown) =>
      e instanceof DeploymentError
        ? { kind: e.kind, message: e.message, details: { failures: e.details.failures, initFailure: e.details.initFailure } }
        : { thrown: String(e) },
    );
    const state = [...engine.state.values()];
    sides[side] = JSON.parse(
      JSON.stringify({ outcome, state, rpcs: comparable(engine.log, dir) })
        .split(dir)
        .join("<dir>"),
    );
  }
  return { grpc: sides.grpc, inProcess: sides.inProcess };
}

describe("the in-process host answers as the real host does", () => {
  test("create, same, update, replace, refresh, destroy: the same RPCs, answers and state", async () => {
    const { grpc, inProcess } = await overBothHosts(async (engine, dir) => {
      const ops: string[] = [];
      const run = async (args: Partial<NoteArgs>) => {
        const steps = await engine.up([await note("n1", { dir, name: "hello", content: "v1", tags: ["b", "a"], ...args })]);
        ops.push(...steps.map((s) => s.op));
      };
      await run({});
      await run({ tags: ["a", "b"] });
      await run({ content: "v2" });
      await run({ name: "renamed", content: "v2" });
      fs.writeFileSync(path.join(dir, "renamed.json"), JSON.stringify({ content: "changed by hand", tags: [], revision: 9 }));
      const drift = await engine.refresh();
      ops.push(...drift.map((d) => `refresh:${d.op}`));
      ops.push(...(await engine.destroy()).map((s) => s.op));
      return ops;
    });
    expect((grpc as { outcome: unknown }).outcome).toEqual(["create", "same", "update", "replace", "refresh:update", "delete"]);
    expect(inProcess).toEqual(grpc);
  });

  test("a check failure: the same failures, nothing created", async () => {
    const { grpc, inProcess } = await overBothHosts(async (engine, dir) =>
      engine.up([await note("n1", { dir, name: "Not Valid", content: "v1" })]),
    );
    expect((grpc as { outcome: { kind: string } }).outcome.kind).toBe("checkFailed");
    expect(inProcess).toEqual(grpc);
  });

  test("an init failure on create, with and without __provider in its properties: recorded alike, then continued", async () => {
    for (const omitProviderFromError of [false, true]) {
      const { grpc, inProcess } = await overBothHosts(async (engine, dir) => {
        fs.writeFileSync(
          path.join(dir, ".faults.json"),
          JSON.stringify({ hello: { failAfterWrite: "the disk is slow", omitProviderFromError } }),
        );
        const spec = await note("n1", { dir, name: "hello", content: "v1" });
        const first = await engine.up([spec]).catch((e: DeploymentError) => ({ kind: e.kind, reasons: e.details.initFailure?.reasons }));
        fs.rmSync(path.join(dir, ".faults.json"));
        const second = await engine.up([spec]).then(
          (steps) => steps.map((s) => s.op),
          (e: Error) => e.message,
        );
        return { first, second };
      });
      expect((grpc as { outcome: { first: { kind: string } } }).outcome.first.kind).toBe("initFailed");
      expect(inProcess).toEqual(grpc);
    }
  });

  test("secrets: stripped before the provider sees them, re-marked in state, the same on both hosts", async () => {
    const { grpc, inProcess } = await overBothHosts(async (engine, dir) => {
      const spec = await note("n1", { dir, name: "hello", content: pulumi.secret("p@ss-w0rd") });
      return (await engine.up([spec])).map((s) => s.op);
    });
    expect(JSON.stringify((grpc as { rpcs: unknown }).rpcs)).toContain("p@ss-w0rd");
    expect(inProcess).toEqual(grpc);
  });
});

describe("the in-process host as a process", () => {
  test("after kill, calls answer UNAVAILABLE (as a dead host does); restart brings it back with a fresh configure", async () => {
    const dir = tmpDir();
    const spec = await note("n1", { dir, name: "hello", content: "v1" });
    const host = inProcessHostFor(spec);
    const engine = createEngine(host);
    await host.kill();
    expect(host.running).toBe(false);
    const err = await engine.up([spec]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 14 });
    await host.restart();
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
  });
});
