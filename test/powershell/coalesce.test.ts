/**
 * Read coalescing (provider/powershell/coalesce.ts).
 *
 * Unit part — real: the Coalescer; stands in: the batch runner (a function that records each batch
 * and lets the test decide when its "script" starts). These fail if batching breaks: they count runs.
 * Pool part — real: the runner, the pool, pwsh, Bootstrap.ps1 and the simulator transport; the
 * "read" script is the Echo fixture, which returns the batch's envelope. The pool's own command hook
 * (onCommand) counts the invocations: 30 concurrent reads must be at most 3 scripts, not 30.
 */
import { z } from "zod";
import { Coalescer, type CoalesceOptions } from "../../provider/powershell/coalesce";
import { closeAll, configurePool, onCommand } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import { targetKey } from "../../provider/powershell/transport";
import { fixture, removeTempDirs, sim, tempDir } from "./support";

// These tests are about a pwsh per target (what the remote transports always get): the simulator's
// shared workers are off here and tested in sharedWorkers.test.ts.
configurePool({ simulatorWorkers: 0 });

const options =
  (o: Partial<CoalesceOptions> = {}) =>
  () => ({ windowMs: 5, maxWaitMs: 50, maxBatch: 256, followMs: 250, followQuietMs: 10, followMaxWaitMs: 1000, ...o });

/** A batch runner whose scripts start only when the test says so. */
function controlledRunner() {
  const batches: { key: string; items?: number[]; start: () => void; fail: (e: unknown) => void }[] = [];
  const run = (key: string, _first: number, take: () => readonly number[]) =>
    new Promise<readonly number[]>((resolve, reject) => {
      const batch = {
        key,
        items: undefined as number[] | undefined,
        start: () => {
          batch.items = [...take()];
          resolve(batch.items.map((i) => i * 10));
        },
        fail: (e: unknown) => reject(e),
      };
      batches.push(batch);
    });
  return { batches, run };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** A coalescer whose scripts start at once (take) and finish when the test says so. */
function startedAtOnce(opts: () => CoalesceOptions) {
  const batches: { items: number[]; finish: () => void }[] = [];
  const c = new Coalescer<number, number>(
    (_key, _first, take) =>
      new Promise<readonly number[]>((resolve) => {
        const items = [...take()];
        batches.push({ items, finish: () => resolve(items.map((i) => i * 10)) });
      }),
    opts,
  );
  return { batches, c };
}

describe("Coalescer", () => {
  it("runs 30 concurrent reads of one target as two batches: the first at once, the other 29 together", async () => {
    const runs: number[][] = [];
    const c = new Coalescer<number, number>(async (_key, _first, take) => {
      const items = [...take()];
      runs.push(items);
      return items.map((i) => i * 10);
    }, options());
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => c.join("ls01", i)));
    expect(runs).toEqual([[0], Array.from({ length: 29 }, (_, i) => i + 1)]);
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i * 10));
  });

  it("a lone read goes at once: it waits for no window", async () => {
    const { batches, run } = controlledRunner();
    const c = new Coalescer<number, number>(run, options({ windowMs: 10_000, maxWaitMs: 10_000 }));
    const one = c.join("ls01", 1);
    expect(batches).toHaveLength(1); // handed over synchronously
    batches[0].start();
    expect(await one).toBe(10);
  });

  it("while a batch is in flight the next one waits for it, and gathers the reads its finish releases", async () => {
    const { batches, c } = startedAtOnce(options({ windowMs: 30, maxWaitMs: 1000 }));
    const first = c.join("ls01", 1);
    expect(batches).toHaveLength(1); // running, in flight until it finishes
    const wave = Array.from({ length: 15 }, (_, i) => c.join("ls01", i + 2));
    await tick(100);
    expect(batches).toHaveLength(1); // not handed over while the first is in flight
    batches[0].finish();
    await first; // the first finished: its caller's slot frees, and the engine sends one more read
    const follower = c.join("ls01", 17);
    await tick(100);
    expect(batches).toHaveLength(2);
    batches[1].finish();
    expect(batches[1].items).toEqual(Array.from({ length: 16 }, (_, i) => i + 2));
    expect(await Promise.all([...wave, follower])).toEqual(Array.from({ length: 16 }, (_, i) => (i + 2) * 10));
  });

  it("a read soon after a batch of several waits for the rest of its wave; long after, a lone read goes at once", async () => {
    const { batches, c } = startedAtOnce(options({ windowMs: 30, followMs: 300, followQuietMs: 30, maxWaitMs: 1000 }));
    const wave = [c.join("ls01", 1), c.join("ls01", 2), c.join("ls01", 3)]; // 1 goes at once; 2 and 3 gather while it runs
    batches[0].finish();
    await wave[0];
    await tick(80);
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3]]);
    batches[1].finish(); // two slots free up; their next reads come a little apart
    await Promise.all(wave);
    const followers = [c.join("ls01", 4)];
    await tick(15);
    expect(batches).toHaveLength(2); // the first follower does not go alone
    followers.push(c.join("ls01", 5));
    await tick(80);
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3], [4, 5]]);
    batches[2].finish();
    expect(await Promise.all(followers)).toEqual([40, 50]);
    await tick(350); // past followMs
    const lone = c.join("ls01", 6);
    expect(batches).toHaveLength(4);
    batches[3].finish();
    expect(await lone).toBe(60);
  });

  it("a next wave whose reads come further apart than a first wave's (a loaded host) still gathers, even after a straggler's batch of one", async () => {
    const { batches, c } = startedAtOnce(options({ windowMs: 30, followMs: 2000, followQuietMs: 150, maxWaitMs: 1000 }));
    const first = [1, 2, 3].map((i) => c.join("ls01", i)); // [1] at once, [2, 3] gathered
    batches[0].finish();
    await first[0];
    await tick(60); // [2, 3] handed over and running
    const straggler = c.join("ls01", 4); // joins while [2, 3] runs: a batch of one after it
    batches[1].finish();
    await Promise.all(first);
    await tick(60);
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3], [4]]);
    batches[2].finish();
    await straggler;
    await tick(300); // the host works through the results: the next wave comes late...
    const wave = [c.join("ls01", 5)];
    await tick(100); // ...and its reads 100 ms apart, beyond the first wave's 30 ms quiet time
    wave.push(c.join("ls01", 6));
    await tick(60);
    expect(batches).toHaveLength(3); // still gathering: the batch of one did not end the wave, and 150 ms of quiet has not passed
    await tick(150);
    expect(batches.map((b) => b.items)).toEqual([[1], [2, 3], [4], [5, 6]]);
    batches[3].finish();
    expect(await Promise.all(wave)).toEqual([50, 60]);
  });

  it("keeps a handed-over batch open until its script starts, then starts a new one", async () => {
    const { batches, run } = controlledRunner();
    const c = new Coalescer<number, number>(run, options());
    const first = [c.join("ls01", 1), c.join("ls01", 2)];
    await tick();
    expect(batches).toHaveLength(1); // handed over, waiting for the target
    const late = c.join("ls01", 3); // the target is busy: joins the batch that has not started
    await tick();
    expect(batches).toHaveLength(1);
    batches[0].start();
    const after = c.join("ls01", 4); // after the start: a new batch
    await tick();
    expect(batches).toHaveLength(2);
    batches[1].start();
    expect(await Promise.all([...first, late, after])).toEqual([10, 20, 30, 40]);
    expect(batches.map((b) => b.items)).toEqual([[1, 2, 3], [4]]);
  });

  it("never mixes targets", async () => {
    const { batches, run } = controlledRunner();
    const c = new Coalescer<number, number>(run, options());
    const all = [c.join("ls01", 1), c.join("ls02", 2), c.join("ls01", 3)];
    await tick();
    expect(batches.map((b) => b.key).sort()).toEqual(["ls01", "ls02"]);
    batches.forEach((b) => b.start());
    await Promise.all(all);
    expect(batches.find((b) => b.key === "ls01")!.items).toEqual([1, 3]);
    expect(batches.find((b) => b.key === "ls02")!.items).toEqual([2]);
  });

  it("gives every caller of a failed batch the failure", async () => {
    const { batches, run } = controlledRunner();
    const c = new Coalescer<number, number>(run, options());
    const all = [1, 2, 3].map((i) => c.join("ls01", i));
    await tick();
    const boom = new Error("pwsh would not start");
    batches[0].fail(boom);
    const settled = await Promise.allSettled(all);
    expect(settled.map((s) => (s.status === "rejected" ? s.reason : "fulfilled"))).toEqual([boom, boom, boom]);
    // The failed batch is closed: the next read runs a batch of its own.
    const next = c.join("ls01", 4);
    await tick();
    expect(batches).toHaveLength(2);
    batches[1].start();
    expect(await next).toBe(40);
  });

  it("rejects every caller when the runner returns the wrong number of results", async () => {
    const c = new Coalescer<number, number>(async (_k, _f, take) => take().slice(1), options());
    const settled = await Promise.allSettled([c.join("ls01", 1), c.join("ls01", 2)]);
    expect(settled.every((s) => s.status === "rejected")).toBe(true);
  });

  it("hands a full batch over at once and starts a new one (maxBatch)", async () => {
    const { batches, run } = controlledRunner();
    const c = new Coalescer<number, number>(run, options({ maxBatch: 2, windowMs: 10_000, maxWaitMs: 10_000 }));
    const all = [1, 2, 3].map((i) => c.join("ls01", i));
    expect(batches).toHaveLength(1); // full: handed over without waiting for the window
    batches[0].start();
    await tick();
    expect(batches[0].items).toEqual([1, 2]);
    expect(batches).toHaveLength(1); // 3 waits for its window
    c.join("ls01", 4).catch(() => undefined);
    expect(batches).toHaveLength(2); // 3 and 4: full
    batches[1].start();
    expect(await Promise.all(all)).toEqual([10, 20, 30]);
  });

  it("windowMs 0 turns coalescing off: one run per read, even while the target is busy", async () => {
    const { batches, run } = controlledRunner();
    const c = new Coalescer<number, number>(run, options({ windowMs: 0 }));
    const all = Array.from({ length: 5 }, (_, i) => c.join("ls01", i));
    expect(batches).toHaveLength(5);
    batches.forEach((b) => b.start());
    expect(await Promise.all(all)).toEqual([0, 10, 20, 30, 40]);
    expect(batches.map((b) => b.items)).toEqual([[0], [1], [2], [3], [4]]);
  });
});

describe("Coalescer on the real pool", () => {
  const stateDir = tempDir("rds-coalesce-test");
  afterAll(async () => {
    await closeAll();
    removeTempDirs();
  });

  it("30 concurrent reads of one target are at most 3 pwsh invocations, each read answered with its own item", async () => {
    const conn = sim("coalesce-ls", stateDir);
    const key = targetKey(conn);
    const echoed = z.object({ envelope: z.object({ args: z.object({ ids: z.array(z.number()) }) }) });
    const reads = new Coalescer<number, number>(async (_key, _first, take) => {
      const out = await runOperation(conn, {
        name: "test.readMany",
        script: fixture("Echo"),
        args: () => ({ ids: [...take()] }),
        result: echoed,
      });
      return out.envelope.args.ids.map((id) => id * 10);
    }, options());
    // Warm the target first: a cold start would hold every read in one batch anyway.
    expect(await reads.join(key, -1)).toBe(-10);

    const commands: string[] = [];
    const stop = onCommand((command, event) => {
      if (event.key === key && command.startsWith("Invoke-RdsOperation")) commands.push(command);
    });
    try {
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => reads.join(key, i)));
      expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i * 10));
    } finally {
      stop();
    }
    expect(commands.length).toBeGreaterThanOrEqual(1);
    expect(commands.length).toBeLessThanOrEqual(3);
  });
});
