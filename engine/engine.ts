/**
 * The Pulumi engine's step logic, over a `ProviderHost` (grpcHost.ts: the real dynamic-provider host
 * process; inProcessHost.ts: provider objects in this process). It keeps a state (urn -> id, inputs,
 * outputs, init errors) and drives the host in the engine's order with the engine's request shapes
 * (engine step_generator.go, step.go, provider_plugin.go; see docs/architecture.md).
 *
 * What stands in for what: this is not the Pulumi CLI engine, and the program is given as data
 * (resources declared in dependency order; program.ts runs a real program on top of it). Not
 * emulated: parallelism (steps run one at a time; bench/driver.ts schedules them itself), `protect`,
 * `ignoreChanges`, `replaceOnChanges`, aliases, targets, dependents replaced by a
 * delete-before-replace, import.
 *
 * Values are kept in engine form: secrets are `secret(...)` wrappers, unknowns the sentinel string.
 * Each run (up, preview, refresh, destroy) starts with GetPluginInfo and Configure, as the CLI does with
 * the fresh plugin it launches per run (this engine reuses one host across runs instead: so a provider's
 * own `configure` runs once per host process, not once per run).
 */
import { DiffChanges, HostRpcError, GrpcCode, parseUrn, type CallRecord, type DiffResponse, type ProviderHost } from "./hostProtocol";
import { annotateSecrets, isSecret, markSecret, stripSecrets, UNKNOWN, type Props } from "./secrets";
import type { Refs, ResourceSpec } from "./spec";
import {
  DeploymentError,
  type DriftReport,
  type EngineEvent,
  type PendingOperation,
  type StateEntry,
  type Step,
  type StepOp,
} from "./state";

const RPC_METHODS = new Set(["getPluginInfo", "configure", "check", "diff", "create", "read", "update", "delete"]);

export interface EngineOptions {
  /** Stack config sent by Configure (namespaced keys; secrets wrapped). Default: none. */
  config?: Props;
}

export class Engine {
  /** urn -> state, in dependency order. */
  readonly state = new Map<string, StateEntry>();
  /** Old resources replaced (create-before-delete) whose delete has not happened yet. */
  readonly pendingDeletes: StateEntry[] = [];
  /** Operations started but not known to have finished (a crash in between). */
  readonly pendingOperations: PendingOperation[] = [];
  readonly events: EngineEvent[] = [];

  /** Every RPC this engine sent (across host restarts), oldest first. */
  readonly log: CallRecord[] = [];
  private recordedHost: ProviderHost;

  constructor(
    host: ProviderHost,
    private readonly options: EngineOptions = {},
  ) {
    this.recordedHost = this.recording(host);
  }

  /** The host, with every RPC recorded in this engine's `log`. */
  get host(): ProviderHost {
    return this.recordedHost;
  }

  /** Points the engine at another host (e.g. a second host process); the state stays. */
  useHost(host: ProviderHost): void {
    this.recordedHost = this.recording(host);
  }

  private recording(host: ProviderHost): ProviderHost {
    // Route every RPC through a recorder, so the log holds this engine's calls only (a host may be shared).
    const log = this.log;
    return new Proxy(host, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== "function" || !RPC_METHODS.has(key as string)) return value;
        return async (...args: unknown[]) => {
          const before = target.log.length;
          try {
            return await value.apply(target, args);
          } finally {
            log.push(...target.log.slice(before));
          }
        };
      },
    });
  }

  /** The RPCs of one method and/or URN. */
  calls(filter: { method?: string; urn?: string } = {}) {
    return this.log.filter((c) => (!filter.method || c.method === filter.method) && (!filter.urn || c.urn === filter.urn));
  }

  /** Outputs of a resource with secrets unwrapped (for assertions). */
  outputs(urn: string): Props {
    return stripSecrets(this.entry(urn).outputs);
  }

  entry(urn: string): StateEntry {
    const e = this.state.get(urn);
    if (!e) throw new Error(`no resource ${urn} in state`);
    return e;
  }

  /** `pulumi up`: check, then create / diff+update / replace, then delete what the program dropped. */
  async up(resources: readonly ResourceSpec[]): Promise<Step[]> {
    await this.begin();
    // As the engine does: warn, keep pending creates (only an interactive refresh clears them), drop the rest.
    this.reportPendingOperations();
    this.clearPendingOperations((op) => op.type !== "creating");
    const steps: Step[] = [];
    const wanted = new Set(resources.map((r) => r.urn));
    const refs: Refs = {
      outputs: (urn) => this.entry(urn).outputs,
      id: (urn) => this.entry(urn).id,
    };
    for (const spec of resources) {
      await this.upOne(spec, refs, steps);
    }
    await this.deletePhase(wanted, steps);
    this.reorder(resources.map((r) => r.urn));
    return steps;
  }

  /** `pulumi preview`: check and diff only, with unknowns where an upstream resource is changing. */
  async preview(resources: readonly ResourceSpec[]): Promise<Step[]> {
    await this.begin();
    const steps: Step[] = [];
    const planned = new Map<string, { op: StepOp; outputs: Props }>();
    const refs: Refs = {
      outputs: (urn) => {
        const p = planned.get(urn);
        if (!p) throw new Error(`${urn} is not declared before its dependent`);
        if (p.op === "same") return p.outputs;
        // No provider preview (supportsPreview=false): the engine hands back the new inputs as outputs,
        // and the SDK reports every other declared output as unknown.
        return new Proxy(p.outputs, {
          get: (target, key) => (typeof key === "string" && !(key in target) ? UNKNOWN : (target as Props)[key as string]),
        });
      },
      id: (urn) => {
        const p = planned.get(urn);
        return p?.op === "same" || p?.op === "update" ? this.entry(urn).id : UNKNOWN;
      },
    };
    for (const spec of resources) {
      const news = this.programInputs(spec, refs);
      const old = this.state.get(spec.urn);
      const checked = await this.check(spec.urn, old ? old.inputs : {}, news, steps);
      if (!old) {
        steps.push({ urn: spec.urn, op: "create", inputs: checked });
        planned.set(spec.urn, { op: "create", outputs: checked });
        continue;
      }
      const diff = await this.diff(old, checked);
      const op = this.decide(old, diff);
      if (op === "replace") await this.check(spec.urn, {}, news, steps);
      steps.push({ urn: spec.urn, op, diff, inputs: checked });
      planned.set(spec.urn, { op, outputs: op === "same" ? old.outputs : checked });
    }
    const wanted = new Set(resources.map((r) => r.urn));
    for (const entry of [...this.state.values()].reverse()) {
      if (!wanted.has(entry.urn)) steps.push({ urn: entry.urn, op: "delete" });
    }
    return steps;
  }

  /**
   * `pulumi refresh`: Read every resource (old outputs, old inputs); an empty id removes it. Drift is
   * the engine's refresh diff: Diff(olds = refreshed outputs, news = old inputs).
   */
  async refresh(): Promise<DriftReport[]> {
    await this.begin();
    // refresh clears pending operations, except creates (those need the interactive prompt).
    this.clearPendingOperations((op) => op.type !== "creating");
    const reports: DriftReport[] = [];
    for (const entry of [...this.state.values()]) {
      let read: { id: string; properties?: Props; inputs?: Props; initErrors?: string[] };
      try {
        read = await this.host.read({
          urn: entry.urn,
          id: entry.id,
          properties: stripSecrets(entry.outputs),
          inputs: stripSecrets(entry.inputs),
        });
      } catch (e) {
        const failure = e instanceof HostRpcError ? e.initFailure : undefined;
        if (!failure) throw new DeploymentError("rpc", entry.urn, `refreshing ${entry.urn}: ${(e as Error).message}`, [], { cause: e });
        // A partial failure does not fail a refresh: the engine warns and keeps the init errors.
        this.events.push({
          severity: "warning",
          urn: entry.urn,
          message: `Refreshed resource is in an unhealthy state: ${failure.reasons.join("; ")}`,
        });
        read = { id: failure.id || entry.id, properties: failure.properties, inputs: failure.inputs, initErrors: failure.reasons };
      }
      if (!read.id) {
        this.state.delete(entry.urn);
        reports.push({ urn: entry.urn, op: "delete", before: entry.outputs });
        continue;
      }
      const outputs = annotateSecrets(read.properties ?? {}, entry.outputs)!;
      const inputs = read.inputs ? annotateSecrets(read.inputs, entry.inputs)! : entry.inputs;
      // A successful read clears init errors; a partially failed one records its own.
      const refreshed: StateEntry = { urn: entry.urn, type: entry.type, id: read.id, inputs, outputs };
      if (read.initErrors?.length) refreshed.initErrors = read.initErrors;
      this.state.set(entry.urn, refreshed);
      const diff = await this.resolveUnknownDiff(
        await this.host.diff({
          urn: entry.urn,
          id: refreshed.id,
          olds: stripSecrets(refreshed.outputs),
          news: stripSecrets(entry.inputs),
          oldInputs: stripSecrets(refreshed.inputs),
        }),
        refreshed.inputs,
        entry.inputs,
      );
      reports.push({
        urn: entry.urn,
        op: diff.changes === DiffChanges.DIFF_SOME ? "update" : "same",
        diff,
        before: entry.outputs,
        after: outputs,
      });
    }
    return reports;
  }

  /** `pulumi destroy`: Delete everything, dependents first. */
  async destroy(): Promise<Step[]> {
    await this.begin();
    const steps: Step[] = [];
    while (this.pendingDeletes.length) {
      const old = this.pendingDeletes[this.pendingDeletes.length - 1];
      await this.deleteEntry(old, steps, () => this.pendingDeletes.pop());
    }
    for (const entry of [...this.state.values()].reverse()) {
      await this.deleteEntry(entry, steps, () => this.state.delete(entry.urn));
      steps.push({ urn: entry.urn, op: "delete" });
    }
    return steps;
  }

  /** What an interactive `pulumi refresh` offers for pending creates: forget them (the resource may exist untracked). */
  clearPendingCreates(): void {
    this.clearPendingOperations((op) => op.type === "creating");
  }

  // -------------------------------------------------------------------------------------------------
  // The building blocks of `up`, public for drivers that order the steps themselves (program.ts runs
  // one per registration of a real program; bench/driver.ts runs them in parallel).

  /** What every run starts with: GetPluginInfo, then Configure with the stack config. */
  async begin(): Promise<void> {
    await this.host.getPluginInfo();
    await this.host.configure(this.options.config ?? {});
  }

  /** Warns about operations a previous run left pending (an interrupted run). */
  reportPendingOperations(): void {
    if (!this.pendingOperations.length) return;
    const list = this.pendingOperations.map((op) => `* ${op.urn}, interrupted while ${op.type}`).join("\n");
    this.events.push({
      severity: "warning",
      message: `Attempting to deploy or update resources with ${this.pendingOperations.length} pending operations from previous deployment.\n${list}`,
    });
  }

  private clearPendingOperations(which: (op: PendingOperation) => boolean): void {
    for (let i = this.pendingOperations.length - 1; i >= 0; i--) {
      if (which(this.pendingOperations[i])) this.pendingOperations.splice(i, 1);
    }
  }

  private programInputs(spec: ResourceSpec, refs: Refs): Props {
    const raw = typeof spec.inputs === "function" ? spec.inputs(refs) : spec.inputs;
    // The SDK never sends undefined members.
    const inputs = markSecret(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)), spec.secretInputs);
    const provider = isSecret(inputs.__provider) ? inputs.__provider.value : inputs.__provider;
    if (typeof provider !== "string")
      throw new Error(`${spec.urn}: inputs carry no __provider string (take them from a capture.ts registration)`);
    return inputs;
  }

  /** Check; failures stop the run. Returns the checked inputs with secretness re-applied. */
  private async check(urn: string, olds: Props, news: Props, steps: Step[]): Promise<Props> {
    let res;
    try {
      res = await this.host.check({ urn, olds: stripSecrets(olds), news: stripSecrets(news) });
    } catch (e) {
      throw new DeploymentError("rpc", urn, `checking ${urn}: ${(e as Error).message}`, steps, { cause: e });
    }
    if (res.failures.length) {
      const text = res.failures.map((f) => `${f.property}: ${f.reason}`).join("; ");
      throw new DeploymentError("checkFailed", urn, `${urn} has invalid inputs: ${text}`, steps, { failures: res.failures });
    }
    return annotateSecrets(res.inputs ?? {}, news)!;
  }

  private async diff(old: StateEntry, checked: Props): Promise<DiffResponse> {
    const res = await this.host.diff({
      urn: old.urn,
      id: old.id,
      olds: stripSecrets(old.outputs),
      news: stripSecrets(checked),
      oldInputs: stripSecrets(old.inputs),
    });
    return this.resolveUnknownDiff(res, old.inputs, checked);
  }

  /** DIFF_UNKNOWN: the engine compares old inputs with new inputs itself. */
  private async resolveUnknownDiff(res: DiffResponse, oldInputs: Props, newInputs: Props): Promise<DiffResponse> {
    if (res.changes !== DiffChanges.DIFF_UNKNOWN) return res;
    const a = stripSecrets(oldInputs);
    const b = stripSecrets(newInputs);
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => stableJson(a[k]) !== stableJson(b[k]));
    return { ...res, changes: keys.length ? DiffChanges.DIFF_SOME : DiffChanges.DIFF_NONE, diffs: keys };
  }

  private decide(old: StateEntry, diff: DiffResponse): StepOp {
    if (diff.changes === DiffChanges.DIFF_SOME) return diff.replaces.length ? "replace" : "update";
    // Unchanged but initialisation failed last time: an empty update "continues" it.
    return old.initErrors?.length ? "update" : "same";
  }

  /** One resource's step of `up`: check, then create, or diff and same / update / replace. Appends to `steps`. */
  async upOne(spec: ResourceSpec, refs: Refs, steps: Step[]): Promise<void> {
    const urn = spec.urn;
    const type = parseUrn(urn).type;
    const news = this.programInputs(spec, refs);
    const old = this.state.get(urn);
    const checked = await this.check(urn, old ? old.inputs : {}, news, steps);
    if (!old) {
      await this.create(spec, type, checked, steps);
      steps.push({ urn, op: "create", inputs: checked });
      return;
    }
    let diff: DiffResponse;
    try {
      diff = await this.diff(old, checked);
    } catch (e) {
      throw new DeploymentError("rpc", urn, `diffing ${urn}: ${(e as Error).message}`, steps, { cause: e });
    }
    const op = this.decide(old, diff);
    if (op === "same") {
      // The engine keeps the old outputs and takes the new inputs.
      this.state.set(urn, { ...old, inputs: checked });
      steps.push({ urn, op, diff, inputs: checked });
      return;
    }
    if (op === "update") {
      await this.update(spec, old, checked, steps);
      steps.push({ urn, op, diff, inputs: checked });
      return;
    }
    // Replace: Check again with empty olds, then create-before-delete unless asked otherwise.
    const rechecked = await this.check(urn, {}, news, steps);
    if (diff.deleteBeforeReplace || spec.deleteBeforeReplace) {
      await this.deleteEntry(old, steps, () => this.state.delete(urn));
      await this.create(spec, type, rechecked, steps);
    } else {
      // The old resource is marked for deletion only once its replacement exists (even partially).
      try {
        await this.create(spec, type, rechecked, steps);
      } catch (e) {
        if (e instanceof DeploymentError && e.kind === "initFailed") this.pendingDeletes.push(old);
        throw e;
      }
      this.pendingDeletes.push(old);
    }
    steps.push({ urn, op: "replace", diff, inputs: rechecked });
  }

  private async create(spec: ResourceSpec, type: string, checked: Props, steps: Step[]): Promise<void> {
    const op: PendingOperation = { urn: spec.urn, type: "creating" };
    this.pendingOperations.push(op);
    let res;
    try {
      res = await this.host.create({ urn: spec.urn, properties: stripSecrets(checked) });
    } catch (e) {
      this.failOperation(e, op, spec, type, checked, steps, "creating");
    }
    this.removeOperation(op);
    this.state.set(spec.urn, { urn: spec.urn, type, id: res.id, inputs: checked, outputs: this.outputsOf(res.properties, checked, spec) });
  }

  private async update(spec: ResourceSpec, old: StateEntry, checked: Props, steps: Step[]): Promise<void> {
    const op: PendingOperation = { urn: spec.urn, type: "updating" };
    this.pendingOperations.push(op);
    let res;
    try {
      res = await this.host.update({
        urn: spec.urn,
        id: old.id,
        olds: stripSecrets(old.outputs),
        news: stripSecrets(checked),
        oldInputs: stripSecrets(old.inputs),
      });
    } catch (e) {
      this.failOperation(e, op, spec, old.type, checked, steps, "updating", old);
    }
    this.removeOperation(op);
    this.state.set(spec.urn, {
      urn: spec.urn,
      type: old.type,
      id: old.id,
      inputs: checked,
      outputs: this.outputsOf(res.properties, checked, spec),
    });
  }

  /** Records a partial failure in state (or leaves the operation pending when the host died), then throws. */
  private failOperation(
    e: unknown,
    op: PendingOperation,
    spec: ResourceSpec,
    type: string,
    checked: Props,
    steps: Step[],
    doing: string,
    old?: StateEntry,
  ): never {
    const failure = e instanceof HostRpcError ? e.initFailure : undefined;
    if (failure) {
      // A partial create records the new inputs; a partial update keeps the OLD inputs with the new
      // outputs (engine test TestUpdatePartialFailure), so the next up diffs against them again.
      this.removeOperation(op);
      this.state.set(spec.urn, {
        urn: spec.urn,
        type,
        id: old ? old.id : failure.id, // the engine ignores the id of an update's init failure
        inputs: old ? old.inputs : checked,
        outputs: this.outputsOf(failure.properties ?? {}, checked, spec),
        initErrors: failure.reasons,
      });
      throw new DeploymentError(
        "initFailed",
        spec.urn,
        `${doing} ${spec.urn}: ${failure.reasons.join("; ") || (e as Error).message}`,
        steps,
        { initFailure: failure, cause: e },
      );
    }
    // A provider error (gRPC UNKNOWN, the engine's StatusUnknown) or a dead host: nothing recorded.
    // The engine clears the operation when the provider answered; a lost connection leaves it pending.
    if (!(e instanceof HostRpcError) || e.code !== GrpcCode.UNAVAILABLE) this.removeOperation(op);
    throw new DeploymentError("rpc", spec.urn, `${doing} ${spec.urn}: ${(e as Error).message}`, steps, { cause: e });
  }

  /**
   * The delete phase of `up`: replaced resources (newest first), then the resources the program no
   * longer declares (`wanted` holds those it does), in reverse order.
   */
  async deletePhase(wanted: ReadonlySet<string>, steps: Step[]): Promise<void> {
    while (this.pendingDeletes.length) {
      const old = this.pendingDeletes[this.pendingDeletes.length - 1];
      await this.deleteEntry(old, steps, () => this.pendingDeletes.pop());
    }
    for (const entry of [...this.state.values()].reverse()) {
      if (wanted.has(entry.urn)) continue;
      await this.deleteEntry(entry, steps, () => this.state.delete(entry.urn));
      steps.push({ urn: entry.urn, op: "delete" });
    }
  }

  /** Deletes one resource; `onDone` drops it from wherever it is tracked once the provider confirmed. */
  async deleteEntry(entry: StateEntry, steps: Step[], onDone: () => void): Promise<void> {
    const op: PendingOperation = { urn: entry.urn, type: "deleting" };
    this.pendingOperations.push(op);
    try {
      await this.host.delete({
        urn: entry.urn,
        id: entry.id,
        properties: stripSecrets(entry.outputs),
        oldInputs: stripSecrets(entry.inputs),
      });
    } catch (e) {
      if (!(e instanceof HostRpcError) || e.code !== GrpcCode.UNAVAILABLE) this.removeOperation(op);
      throw new DeploymentError("rpc", entry.urn, `deleting ${entry.urn}: ${(e as Error).message}`, steps, { cause: e });
    }
    this.removeOperation(op);
    onDone();
  }

  private removeOperation(op: PendingOperation): void {
    const i = this.pendingOperations.indexOf(op);
    if (i >= 0) this.pendingOperations.splice(i, 1);
  }

  /** Outputs as the engine stores them: secret where a same-named input was, plus additionalSecretOutputs. */
  private outputsOf(properties: Props, checked: Props, spec: ResourceSpec): Props {
    return markSecret(annotateSecrets(properties, checked)!, spec.additionalSecretOutputs);
  }

  /** Orders the state as the program declared its resources (resources no longer declared last). */
  reorder(programOrder: readonly string[]): void {
    const entries = [...this.state.entries()];
    const rank = (urn: string) => {
      const i = programOrder.indexOf(urn);
      return i < 0 ? programOrder.length : i;
    };
    entries.sort(([a], [b]) => rank(a) - rank(b));
    this.state.clear();
    for (const [k, v] of entries) this.state.set(k, v);
  }
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Props)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

/** An engine over `host`, with an empty state. */
export function createEngine(host: ProviderHost, options: EngineOptions = {}): Engine {
  return new Engine(host, options);
}
