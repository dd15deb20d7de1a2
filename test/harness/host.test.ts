/**
 * The provider harness proven end to end with the Note fixture (a dynamic resource that keeps a JSON file).
 *
 * What is real: the Pulumi dynamic-provider host process shipped in @pulumi/pulumi, gRPC and the generated
 * stubs, Struct encoding, the `__provider` strings (produced by the SDK under setMocks, through the
 * product's shim), and the fixture's built JS running inside the host.
 * What stands in: the Pulumi CLI engine, emulated by engine/engine.ts (step order, request shapes,
 * secret stripping and re-marking, unknowns in preview, partial failures, pending operations), and the
 * program (resources declared as data).
 *
 * One host serves the whole file (each test has its own directory and its own engine state); the crash
 * test kills and restarts it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../../provider/shim";
import { captureProvider } from "../helpers/captureProvider";
import {
  apply,
  createEngine,
  DeploymentError,
  specOf,
  UNKNOWN,
  type Engine,
  type ResourceSpec,
  type StaticResourceSpec,
} from "../helpers/engine";
import {
  assertBuilt,
  DiffChanges,
  HostRpcError,
  isSecret,
  processGroupAlive,
  SECRET_SIG_KEY,
  startedHostPids,
  startProviderHost,
  stopAllHosts,
  stripSecrets,
  type ProviderHost,
} from "../helpers/providerHost";
import { Note, NOTE_TYPE, type NoteArgs } from "../fixtures/noteProvider/resource";

let host: ProviderHost;
const dirs: string[] = [];

beforeAll(async () => {
  assertBuilt(["provider/shim.ts", "provider/diff.ts"]);
  host = await startProviderHost();
});

afterAll(async () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "notes-"));
  dirs.push(d);
  return d;
}

/** A Note as the program registers it: the SDK's real inputs, with the real `__provider`. */
async function note(resourceName: string, args: NoteArgs): Promise<StaticResourceSpec> {
  return specOf(await captureProvider(() => new Note(resourceName, args)));
}

function readFile(dir: string, name: string): { content: string; tags: string[]; revision: number } | undefined {
  const f = path.join(dir, `${name}.json`);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, "utf8")) : undefined;
}

function writes(dir: string): string[] {
  const f = path.join(dir, ".writes.log");
  return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n") : [];
}

function setFaults(dir: string, faults: object): void {
  fs.writeFileSync(path.join(dir, ".faults.json"), JSON.stringify(faults));
}

/** The methods of the RPCs logged since `mark` (a log length). */
function methodsSince(engine: Engine, mark: number): string[] {
  return engine.log.slice(mark).map((c) => c.method);
}

async function deployed(name = "hello", content = "v1"): Promise<{ engine: Engine; dir: string; spec: StaticResourceSpec }> {
  const dir = tmpDir();
  const spec = await note("n1", { dir, name, content, tags: ["b", "a"] });
  const engine = createEngine(host);
  await engine.up([spec]);
  return { engine, dir, spec };
}

describe("a Note driven through the real host by the emulated engine", () => {
  test("up creates it: Check (olds {}), then Create; outputs are the provider's outs plus the stored __provider", async () => {
    const dir = tmpDir();
    const spec = await note("n1", { dir, name: "hello", content: "v1" });
    const engine = createEngine(host);
    const steps = await engine.up([spec]);

    expect(steps.map((s) => s.op)).toEqual(["create"]);
    expect(methodsSince(engine, 0)).toEqual(["GetPluginInfo", "Configure", "Check", "Create"]);
    expect(engine.calls({ method: "Check" })[0].request).toMatchObject({ olds: {} });
    expect(engine.calls({ method: "Configure" })[0].response).toEqual({
      acceptSecrets: false,
      supportsPreview: false,
      acceptResources: false,
      acceptOutputs: false,
    });
    const entry = engine.entry(spec.urn);
    expect(entry.id).toBe(path.join(dir, "hello.json"));
    expect(entry.type).toBe(NOTE_TYPE);
    expect(engine.outputs(spec.urn)).toMatchObject({ dir, name: "hello", content: "v1", tags: [], revision: 1, size: 2, path: entry.id });
    expect(entry.outputs.__provider).toBe(spec.inputs.__provider);
    expect(readFile(dir, "hello")).toEqual({ content: "v1", tags: [], revision: 1 });
    expect(writes(dir)).toEqual(["create hello"]);
  });

  test("a second up with the same program changes nothing: Diff answers DIFF_NONE (also for reordered tags)", async () => {
    const { engine, dir, spec } = await deployed();
    const mark = engine.log.length;
    const steps = await engine.up([spec]);
    expect(steps.map((s) => s.op)).toEqual(["same"]);
    expect(methodsSince(engine, mark)).toEqual(["GetPluginInfo", "Configure", "Check", "Diff"]);
    expect(steps[0].diff).toMatchObject({ changes: DiffChanges.DIFF_NONE, replaces: [] });

    const reordered = await note("n1", { dir, name: "hello", content: "v1", tags: ["a", "b"] });
    expect((await engine.up([reordered])).map((s) => s.op)).toEqual(["same"]);
    expect(writes(dir)).toEqual(["create hello"]);
  });

  test("changing content updates in place: Update gets old outputs and checked new inputs", async () => {
    const { engine, dir, spec } = await deployed();
    const before = engine.entry(spec.urn);
    const changed = await note("n1", { dir, name: "hello", content: "v2", tags: ["b", "a"] });
    const mark = engine.log.length;
    const steps = await engine.up([changed]);

    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(steps[0].diff).toMatchObject({ changes: DiffChanges.DIFF_SOME, replaces: [] });
    expect(methodsSince(engine, mark)).toEqual(["GetPluginInfo", "Configure", "Check", "Diff", "Update"]);
    const update = engine.calls({ method: "Update" })[0].request as { id: string; olds: { revision: number }; news: { content: string } };
    expect(update.id).toBe(before.id);
    expect(update.olds.revision).toBe(1);
    expect(update.news.content).toBe("v2");
    expect(engine.entry(spec.urn).id).toBe(before.id);
    expect(engine.outputs(spec.urn)).toMatchObject({ content: "v2", revision: 2, size: 2 });
    expect(readFile(dir, "hello")).toEqual({ content: "v2", tags: ["b", "a"], revision: 2 });
    expect(writes(dir)).toEqual(["create hello", "update hello"]);
  });

  test("changing the file name replaces it: Check twice (second with olds {}), create the new one, then delete the old", async () => {
    const { engine, dir, spec } = await deployed();
    const oldId = engine.entry(spec.urn).id;
    const renamed = await note("n1", { dir, name: "hello-two", content: "v1", tags: ["b", "a"] });
    const mark = engine.log.length;
    const steps = await engine.up([renamed]);

    expect(steps.map((s) => s.op)).toEqual(["replace"]);
    expect(steps[0].diff).toMatchObject({ changes: DiffChanges.DIFF_SOME, replaces: ["name"], deleteBeforeReplace: false });
    expect(methodsSince(engine, mark)).toEqual(["GetPluginInfo", "Configure", "Check", "Diff", "Check", "Create", "Delete"]);
    const checks = engine.log.slice(mark).filter((c) => c.method === "Check");
    expect(Object.keys((checks[0].request as { olds: object }).olds).length).toBeGreaterThan(0);
    expect((checks[1].request as { olds: object }).olds).toEqual({});
    expect((engine.log.at(-1)!.request as { id: string }).id).toBe(oldId);
    expect(engine.entry(spec.urn).id).toBe(path.join(dir, "hello-two.json"));
    expect(readFile(dir, "hello")).toBeUndefined();
    expect(readFile(dir, "hello-two")).toMatchObject({ content: "v1" });
  });

  test("refresh after an out-of-band edit shows drift; the next up repairs it; then refresh shows none", async () => {
    const { engine, dir, spec } = await deployed();
    fs.writeFileSync(path.join(dir, "hello.json"), JSON.stringify({ content: "changed-out-of-band", tags: ["b", "a"], revision: 1 }));

    const mark = engine.log.length;
    const drift = await engine.refresh();
    expect(methodsSince(engine, mark)).toEqual(["GetPluginInfo", "Configure", "Read", "Diff"]);
    const read = engine.log[mark + 2].request as { properties: { __provider: string }; inputs: { content: string } };
    expect(read.properties.__provider).toBe(spec.inputs.__provider);
    expect(read.inputs.content).toBe("v1");
    const refreshDiff = engine.log[mark + 3].request as { olds: { content: string }; news: { content: string } };
    expect(refreshDiff.olds.content).toBe("changed-out-of-band"); // refreshed outputs
    expect(refreshDiff.news.content).toBe("v1"); // old inputs
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ urn: spec.urn, op: "update", diff: { changes: DiffChanges.DIFF_SOME, replaces: [] } });
    expect(engine.outputs(spec.urn).content).toBe("changed-out-of-band");

    const steps = await engine.up([spec]);
    expect(steps.map((s) => s.op)).toEqual(["update"]);
    expect(readFile(dir, "hello")?.content).toBe("v1");
    expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
  });

  test("refresh after an out-of-band delete removes it from state; the next up creates it again", async () => {
    const { engine, dir, spec } = await deployed();
    fs.rmSync(path.join(dir, "hello.json"));
    const drift = await engine.refresh();
    expect(drift.map((d) => d.op)).toEqual(["delete"]);
    expect(engine.calls({ method: "Read" }).at(-1)!.response).toMatchObject({ id: "" });
    expect(engine.state.size).toBe(0);
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["create"]);
    expect(readFile(dir, "hello")).toMatchObject({ content: "v1" });
  });

  describe("preview with a dependent whose inputs come from the upstream's outputs", () => {
    /** B copies A: its name from A's size, content from A's revision, tags from both. */
    function downstream(providerString: string, upUrn: string): ResourceSpec {
      return {
        urn: `urn:pulumi:stack::proj::${NOTE_TYPE}::down`,
        inputs: (refs) => {
          const a = refs.outputs(upUrn);
          return {
            __provider: providerString,
            dir: a.dir,
            name: apply(a.size, (s) => `copy-${s}`),
            content: apply(a.revision, (r) => `copy of revision ${r}`),
            tags: [a.name, apply(a.revision, (r) => `rev-${r}`)],
          };
        },
      };
    }

    test("before the first up: unknowns reach the dependent's Check, which tolerates them", async () => {
      const dir = tmpDir();
      const up = await note("up", { dir, name: "up", content: "v1" });
      const down = downstream(up.inputs.__provider as string, up.urn);
      const engine = createEngine(host);
      const steps = await engine.preview([up, down]);
      expect(steps.map((s) => [s.urn.split("::").at(-1), s.op])).toEqual([
        ["up", "create"],
        ["down", "create"],
      ]);
      const check = engine.calls({ method: "Check", urn: down.urn })[0];
      expect(check.request).toMatchObject({ news: { dir, name: UNKNOWN, content: UNKNOWN, tags: ["up", UNKNOWN] } });
      expect(check.response).toMatchObject({ failures: [], inputs: { name: UNKNOWN, content: UNKNOWN } });
      expect(engine.calls({ method: "Create" })).toHaveLength(0);
      expect(fs.readdirSync(dir)).toEqual([]);
    });

    test("an upstream update makes the dependent's identity unknown: Diff says update, not replace; the up then updates it", async () => {
      const dir = tmpDir();
      const up = await note("up", { dir, name: "up", content: "v1" });
      const down = downstream(up.inputs.__provider as string, up.urn);
      const engine = createEngine(host);
      await engine.up([up, down]);
      const downId = engine.entry(down.urn).id;
      expect(engine.outputs(down.urn)).toMatchObject({ name: "copy-2", content: "copy of revision 1", tags: ["up", "rev-1"] });

      const up2 = await note("up", { dir, name: "up", content: "v2" });
      const mark = engine.log.length;
      const preview = await engine.preview([up2, down]);
      expect(preview.map((s) => s.op)).toEqual(["update", "update"]);
      expect(methodsSince(engine, mark)).toEqual(["GetPluginInfo", "Configure", "Check", "Diff", "Check", "Diff"]);
      const downDiff = engine.calls({ method: "Diff", urn: down.urn }).at(-1)!;
      expect(downDiff.request).toMatchObject({ news: { name: UNKNOWN, content: UNKNOWN, tags: ["up", UNKNOWN] } });
      expect(downDiff.response).toMatchObject({ changes: DiffChanges.DIFF_SOME, replaces: [] });
      expect(readFile(dir, "up")?.content).toBe("v1");

      const steps = await engine.up([up2, down]);
      expect(steps.map((s) => s.op)).toEqual(["update", "update"]);
      expect(engine.entry(down.urn).id).toBe(downId);
      expect(engine.outputs(down.urn)).toMatchObject({ name: "copy-2", content: "copy of revision 2", tags: ["up", "rev-2"] });
    });
  });

  test("check failures stop the run with the provider's failures as data; nothing is created", async () => {
    const dir = tmpDir();
    const bad = await note("bad", { dir: "relative/dir", name: "Bad Name", content: "x" });
    const engine = createEngine(host);
    const err = await engine.up([bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeploymentError);
    expect((err as DeploymentError).kind).toBe("checkFailed");
    expect((err as DeploymentError).details.failures).toEqual([
      { property: "dir", reason: "must be an absolute path" },
      { property: "name", reason: "lower-case letters, digits and dashes only" },
    ]);
    expect(engine.calls({ method: "Create" })).toHaveLength(0);
    expect(engine.state.size).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test("secrets: sent plain to the host (acceptSecrets=false), re-marked secret in state, not leaked in other outputs", async () => {
    const dir = tmpDir();
    const reg = await captureProvider(() => new Note("s1", { dir, name: "secret-note", content: pulumi.secret("p@ss-w0rd") }));
    const spec = specOf(reg, { additionalSecretOutputs: ["path"] });
    expect(isSecret(spec.inputs.content)).toBe(true); // how the SDK registers it

    const engine = createEngine(host);
    await engine.up([spec]);
    expect(engine.calls({ method: "Check" })[0].request).toMatchObject({ news: { content: "p@ss-w0rd" } });
    expect(engine.calls({ method: "Create" })[0].request).toMatchObject({ properties: { content: "p@ss-w0rd" } });

    const entry = engine.entry(spec.urn);
    expect(entry.inputs.content).toEqual({ [SECRET_SIG_KEY]: "1b47061264138c4ac30d75fd1eb44270", value: "p@ss-w0rd" });
    expect(entry.outputs.content).toEqual({ [SECRET_SIG_KEY]: "1b47061264138c4ac30d75fd1eb44270", value: "p@ss-w0rd" });
    expect(isSecret(entry.outputs.size)).toBe(false);
    expect(isSecret(entry.outputs.path)).toBe(true); // additionalSecretOutputs
    const withoutSecrets = JSON.stringify(entry.outputs, (_k, v) => (isSecret(v) ? "[secret]" : v));
    expect(withoutSecrets).not.toContain("p@ss-w0rd");

    // Why the engine strips: a wrapper sent as is reaches the provider as an object.
    const raw = await host.check({ urn: spec.urn, olds: {}, news: spec.inputs });
    expect(raw.failures).toEqual([{ property: "content", reason: expect.stringMatching(/expected string, received object/) }]);

    // An unchanged secret is no change.
    expect((await engine.up([spec])).map((s) => s.op)).toEqual(["same"]);
  });

  test("a create that fails after writing is a partial failure: recorded with its id, and the next up finishes it", async () => {
    const dir = tmpDir();
    setFaults(dir, { pf: { failAfterWrite: "service did not start" } });
    const spec = await note("pf", { dir, name: "pf", content: "v1" });
    const engine = createEngine(host);

    const err = (await engine.up([spec]).catch((e: unknown) => e)) as DeploymentError;
    expect(err).toBeInstanceOf(DeploymentError);
    expect(err.kind).toBe("initFailed");
    const cause = err.details.cause as HostRpcError;
    expect(cause.code).toBe(2);
    expect(cause.details).toBe("writing note pf: service did not start");
    expect(err.details.initFailure).toMatchObject({ id: path.join(dir, "pf.json"), reasons: ["service did not start"] });
    const entry = engine.entry(spec.urn);
    expect(entry.initErrors).toEqual(["service did not start"]);
    expect(entry.id).toBe(path.join(dir, "pf.json"));
    expect(stripSecrets(entry.outputs)).toMatchObject({ revision: 1, __provider: spec.inputs.__provider });

    setFaults(dir, {});
    const steps = await engine.up([spec]);
    expect(steps[0]).toMatchObject({ op: "update", diff: { changes: DiffChanges.DIFF_NONE } });
    expect(engine.entry(spec.urn).initErrors).toBeUndefined();
    expect(engine.outputs(spec.urn).revision).toBe(2);
    expect(writes(dir)).toEqual(["create pf", "update pf"]);
  });

  test("a partial failure whose properties lack __provider leaves a state that refresh cannot read, until an up", async () => {
    const dir = tmpDir();
    setFaults(dir, { pf: { failAfterWrite: "service did not start", omitProviderFromError: true } });
    const spec = await note("pf", { dir, name: "pf", content: "v1" });
    const engine = createEngine(host);
    await expect(engine.up([spec])).rejects.toThrow(/service did not start/);
    expect(engine.entry(spec.urn).outputs.__provider).toBeUndefined();

    setFaults(dir, {});
    const err = (await engine.refresh().catch((e: unknown) => e)) as DeploymentError;
    expect(err).toBeInstanceOf(DeploymentError);
    expect((err.details.cause as HostRpcError).details).toMatch(/code must be a string/);

    await engine.up([spec]); // Update takes the provider from the new inputs
    expect(engine.entry(spec.urn).outputs.__provider).toBe(spec.inputs.__provider);
    expect((await engine.refresh()).map((d) => d.op)).toEqual(["same"]);
  });

  test("a resource dropped from the program is deleted; destroy deletes dependents first", async () => {
    const dir = tmpDir();
    const a = await note("a", { dir, name: "a", content: "1" });
    const b = await note("b", { dir, name: "b", content: "2" });
    const c = await note("c", { dir, name: "c", content: "3" });
    const engine = createEngine(host);
    await engine.up([a, b, c]);

    const steps = await engine.up([a, c]);
    expect(steps.map((s) => [s.urn.split("::").at(-1), s.op])).toEqual([
      ["a", "same"],
      ["c", "same"],
      ["b", "delete"],
    ]);
    expect(readFile(dir, "b")).toBeUndefined();

    const mark = engine.log.length;
    await engine.destroy();
    expect(
      engine.log
        .slice(mark)
        .filter((r) => r.method === "Delete")
        .map((r) => r.urn!.split("::").at(-1)),
    ).toEqual(["c", "a"]);
    expect(engine.state.size).toBe(0);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".json"))).toEqual([]);
  });

  test("a provider without diff: the engine compares inputs itself (DIFF_UNKNOWN), so refresh shows no drift", async () => {
    const dir = tmpDir();
    const impl = path.join(dir, "echo.js");
    fs.writeFileSync(
      impl,
      `exports.provider = {
        async create(inputs) { return { id: "echo-" + inputs.x, outs: { ...inputs, live: "as created" } }; },
        async read(id, props) { return { id, props: { ...props, x: "changed out of band", live: "changed" } }; },
        async update(id, olds, news) { return { outs: { ...news, live: "updated" } }; },
      };`,
    );
    const echoProvider = lazyProvider(impl);
    class Echo extends pulumi.dynamic.Resource {
      constructor(name: string, x: string) {
        super(echoProvider, name, { x }, undefined, "echo", "Echo");
      }
    }
    const v1 = specOf(await captureProvider(() => new Echo("e", "one")));
    const v2 = specOf(await captureProvider(() => new Echo("e", "two")));
    const engine = createEngine(host);
    await engine.up([v1]);

    const same = await engine.up([v1]);
    expect(same[0]).toMatchObject({ op: "same", diff: { changes: DiffChanges.DIFF_NONE } });
    expect(engine.calls({ method: "Diff" })[0].response).toMatchObject({ changes: DiffChanges.DIFF_UNKNOWN });

    const changed = await engine.up([v2]);
    expect(changed[0]).toMatchObject({ op: "update", diff: { changes: DiffChanges.DIFF_SOME, diffs: ["x"] } });
    expect(engine.outputs(v2.urn)).toMatchObject({ x: "two", live: "updated" });

    const drift = await engine.refresh();
    expect(engine.outputs(v2.urn)).toMatchObject({ x: "changed out of band", live: "changed" });
    expect(drift[0]).toMatchObject({ op: "same", diff: { changes: DiffChanges.DIFF_NONE } });
  });

  describe("when the host dies mid-run", () => {
    test("the run fails with the operation left pending; after a restart the next up continues without writing twice", async () => {
      const dir = tmpDir();
      setFaults(dir, { slow: { holdMs: 60_000 } });
      const specs = [
        await note("a", { dir, name: "a", content: "1" }),
        await note("slow", { dir, name: "slow", content: "2" }),
        await note("c", { dir, name: "c", content: "3" }),
      ];
      const engine = createEngine(host);
      const settled = engine.up(specs).then(
        () => undefined,
        (e: unknown) => e,
      );
      await waitFor(() => fs.existsSync(path.join(dir, "slow.holding")), 20_000);
      const crashedPid = host.pid;
      await host.kill(); // SIGKILL to the host's process group: a crash

      const err = (await settled) as DeploymentError;
      expect(err).toBeInstanceOf(DeploymentError);
      expect(err.kind).toBe("rpc");
      expect(err.urn).toBe(specs[1].urn);
      expect((err.details.cause as HostRpcError).code).toBe(14); // UNAVAILABLE
      expect(processGroupAlive(crashedPid)).toBe(false);
      expect([...engine.state.keys()]).toEqual([specs[0].urn]);
      expect(engine.pendingOperations).toEqual([{ urn: specs[1].urn, type: "creating" }]);
      expect(writes(dir)).toEqual(["create a", "create slow"]);

      setFaults(dir, {});
      await host.restart();
      expect(host.pid).not.toBe(crashedPid);
      const steps = await engine.up(specs);
      expect(steps.map((s) => s.op)).toEqual(["same", "create", "create"]);
      expect(engine.events.map((e) => e.message).join("\n")).toMatch(
        /1 pending operations from previous deployment[\s\S]*slow, interrupted while creating/,
      );
      expect(writes(dir)).toEqual(["create a", "create slow", "create c"]); // slow adopted, not written again
      // The engine keeps pending creates after an up (it cannot know); an interactive refresh clears them.
      expect(engine.pendingOperations).toEqual([{ urn: specs[1].urn, type: "creating" }]);
      engine.clearPendingCreates();
      expect(engine.pendingOperations).toEqual([]);
      expect(engine.outputs(specs[1].urn)).toMatchObject({ name: "slow", revision: 1 });
      expect(engine.log.some((r) => r.hostPid === crashedPid) && engine.log.some((r) => r.hostPid === host.pid)).toBe(true);
    });
  });
});

describe("cleanup", () => {
  test("no host process is left behind", async () => {
    await stopAllHosts();
    expect(startedHostPids().length).toBeGreaterThanOrEqual(2);
    for (const pid of startedHostPids()) expect(processGroupAlive(pid)).toBe(false);
    expect(host.running).toBe(false);
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
