/**
 * A concurrent driver over engine/engine.ts: the engine emulation runs one step at a time; the
 * Pulumi engine runs up to `--parallel` (16) resource operations at once, each as soon as the
 * resources it depends on are done (dependents first on destroy). This driver keeps the engine's
 * per-resource step logic (check, create / diff+update, the secret handling, through its building
 * blocks `begin`, `upOne` and `deleteEntry`, as engine/program.ts does) and adds the scheduling: a dependency graph and a limit on operations in flight.
 *
 * It times each resource operation (all its RPCs: up = Check + Create or Check + Diff [+ Update];
 * refresh = Read + Diff; destroy = Delete) as the engine would see it.
 */
import { createEngine, type Engine } from "../engine/engine";
import { DiffChanges, type ProviderHost } from "../engine/hostProtocol";
import { annotateSecrets, stripSecrets } from "../engine/secrets";
import type { Refs } from "../engine/spec";
import type { Step } from "../engine/state";
import type { FleetNode, Kind } from "./fleet";

export interface OpRecord {
  urn: string;
  kind: Kind;
  /** Wall-clock start and end (performance.timeOrigin + performance.now()). */
  start: number;
  end: number;
  ms: number;
  /** What the step turned out to be (create, same, update, read, delete...). */
  op: string;
}

export interface PhaseRun {
  records: OpRecord[];
  errors: { urn: string; message: string }[];
  start: number;
  end: number;
}

export const now = () => performance.timeOrigin + performance.now();

/** At most `limit` tasks at once. */
class Limiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

export class ConcurrentEngine {
  readonly engine: Engine;

  constructor(
    host: ProviderHost,
    private readonly nodes: readonly FleetNode[],
    private readonly parallel: number,
  ) {
    this.engine = createEngine(host);
  }

  /** Points the engine at another host process (the state stays). */
  useHost(host: ProviderHost): void {
    this.engine.useHost(host);
  }

  /** Runs `work` per node once its `after` nodes are done, at most `parallel` at once. */
  private async schedule(
    after: (n: FleetNode) => string[],
    work: (n: FleetNode) => Promise<string>,
    nodes: readonly FleetNode[] = this.nodes,
  ): Promise<PhaseRun> {
    await this.engine.begin();
    const limiter = new Limiter(this.parallel);
    const done = new Map<string, Promise<void>>();
    const records: OpRecord[] = [];
    const errors: PhaseRun["errors"] = [];
    const byUrn = new Map(this.nodes.map((n) => [n.spec.urn, n]));
    const start = now();
    const visit = (n: FleetNode): Promise<void> => {
      const known = done.get(n.spec.urn);
      if (known) return known;
      const p = (async () => {
        await Promise.all(after(n).map((u) => visit(byUrn.get(u)!)));
        await limiter.run(async () => {
          const t0 = now();
          const op = await work(n);
          const t1 = now();
          records.push({ urn: n.spec.urn, kind: n.kind, start: t0, end: t1, ms: t1 - t0, op });
        });
      })();
      // A failure stops the dependents (their promise rejects too), as `pulumi up` does.
      const settled = p.catch((e: unknown) => {
        errors.push({ urn: n.spec.urn, message: (e as Error).message });
        throw e;
      });
      done.set(n.spec.urn, settled);
      return settled;
    };
    await Promise.allSettled(nodes.map(visit));
    return { records, errors: dedupe(errors), start, end: now() };
  }

  /** `pulumi up` with `parallel` operations in flight. */
  up(): Promise<PhaseRun> {
    const refs: Refs = { outputs: (urn) => this.engine.entry(urn).outputs, id: (urn) => this.engine.entry(urn).id };
    return this.schedule(
      (n) => n.deps,
      async (n) => {
        const steps: Step[] = [];
        await this.engine.upOne(n.spec, refs, steps);
        return steps.map((s) => s.op).join("+") || "none";
      },
    );
  }

  /** `pulumi refresh` (of the resources `only` selects, like `--target`): Read + Diff of each, all at once up to `parallel`. */
  refresh(only: (n: FleetNode) => boolean = () => true): Promise<PhaseRun> {
    return this.schedule(
      () => [],
      async (n) => {
        const entry = this.engine.entry(n.spec.urn);
        const host = this.engine.host;
        const read = await host.read({
          urn: entry.urn,
          id: entry.id,
          properties: stripSecrets(entry.outputs),
          inputs: stripSecrets(entry.inputs),
        });
        if (!read.id) {
          this.engine.state.delete(entry.urn);
          return "gone";
        }
        const outputs = annotateSecrets(read.properties ?? {}, entry.outputs)!;
        const inputs = read.inputs ? annotateSecrets(read.inputs, entry.inputs)! : entry.inputs;
        this.engine.state.set(entry.urn, { ...entry, id: read.id, inputs, outputs });
        const diff = await host.diff({
          urn: entry.urn,
          id: read.id,
          olds: stripSecrets(outputs),
          news: stripSecrets(entry.inputs),
          oldInputs: stripSecrets(inputs),
        });
        return diff.changes === DiffChanges.DIFF_SOME ? "drift" : "read";
      },
      this.nodes.filter(only),
    );
  }

  /** `pulumi destroy`: each resource once everything that depends on it is deleted. */
  destroy(): Promise<PhaseRun> {
    const dependents = new Map<string, string[]>();
    for (const n of this.nodes) for (const d of n.deps) dependents.set(d, [...(dependents.get(d) ?? []), n.spec.urn]);
    return this.schedule(
      (n) => dependents.get(n.spec.urn) ?? [],
      async (n) => {
        const entry = this.engine.state.get(n.spec.urn);
        if (!entry) return "absent";
        await this.engine.deleteEntry(entry, [], () => this.engine.state.delete(entry.urn));
        return "delete";
      },
    );
  }
}

function dedupe(errors: PhaseRun["errors"]): PhaseRun["errors"] {
  // A dependency's failure is reported by each dependent too: keep the first line per message.
  const seen = new Set<string>();
  return errors.filter((e) => (seen.has(e.message) ? false : (seen.add(e.message), true)));
}
