/**
 * A `ProviderHost` that calls provider objects in this process instead of a host process over gRPC.
 * It does what the real dynamic-provider host (@pulumi/pulumi/cmd/dynamic-provider/index.js) does
 * around each call, so the engine (engine.ts) sees the same answers:
 * - the provider is found by the resource's `__provider` string (here: a key of `providers`, see
 *   `providerRef`, instead of serialized code), taken from `news` for Check/Diff/Update (from `olds`
 *   when the new one is unknown in Check/Diff) and from the properties for Create/Read/Delete; its own
 *   `configure` runs once per host "process", with the stack config;
 * - Configure answers acceptSecrets=false (and nothing else), Check passes inputs through when the
 *   provider has no `check` and always puts `__provider` back, Diff maps `changes` true/false/absent to
 *   DIFF_SOME/DIFF_NONE/DIFF_UNKNOWN and forwards only `replaces` and `deleteBeforeReplace`, outputs
 *   are the provider's `outs`/`props` plus `__provider`, Read without a `read` echoes the state;
 * - a value thrown by Create or Update with an `id` becomes an init failure (id, properties, reasons),
 *   any other throw a gRPC UNKNOWN error with the message (a numeric `code` is kept, as grpc-js does);
 * - every value crosses a Struct encoding both ways (undefined members dropped, numbers as doubles);
 * - secret wrappers are stripped on the way in: the host accepts no secrets, so under Pulumi a
 *   provider never sees one (the engine strips them already; this keeps a direct caller honest too).
 *
 * What differs from a process: no serialization of `__provider` (the objects are used as they are,
 * so a test can spy on them and on everything they import), `pid` is this process's, and `kill` only
 * forgets the configured providers and fails in-flight calls with UNAVAILABLE once they return (the
 * provider code itself is not interrupted).
 */
import type * as pulumi from "@pulumi/pulumi";
import { Config } from "@pulumi/pulumi/cmd/dynamic-provider/config";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import {
  DiffChanges,
  fromStruct,
  GrpcCode,
  HostRpcError,
  toStruct,
  type CallRecord,
  type CheckRequest,
  type CheckResult,
  type ConfigureResult,
  type CreateRequest,
  type CreateResponse,
  type DeleteRequest,
  type DiffRequest,
  type DiffResponse,
  type InitFailure,
  type ProviderHost,
  type ReadRequest,
  type ReadResponse,
  type UpdateRequest,
} from "./hostProtocol";
import { isSecret, stripSecrets, UNKNOWN, type Props } from "./secrets";

const PROVIDER_KEY = "__provider";

export interface InProcessHostOptions {
  /** The provider objects, by the `__provider` string their resources carry (e.g. from `providerRef`). */
  providers: Record<string, pulumi.dynamic.ResourceProvider>;
  /** Project name given to the providers' `configure` (PULUMI_NODEJS_PROJECT for a real host). Default "proj". */
  project?: string;
  /** Stack config, namespaced keys ("proj:key"); what `configure()` sends when given no args. */
  config?: Props;
}

/** The `__provider` string under which an in-process host finds the provider registered as `name`. */
export function providerRef(name: string): string {
  return `in-process:${name}`;
}

let callSeq = 0;

class InProcessHost implements ProviderHost {
  readonly log: CallRecord[] = [];
  readonly pid = process.pid;
  readonly port = 0;
  private alive = true;
  /** Bumped by every kill: a call that started in an earlier generation answers UNAVAILABLE. */
  private generation = 0;
  private config: Props = {};
  /** Providers configured in the current "process", by `__provider` string (the host's providerCache). */
  private configured = new Map<string, Promise<pulumi.dynamic.ResourceProvider>>();

  constructor(private readonly options: InProcessHostOptions) {}

  get running(): boolean {
    return this.alive;
  }

  stderr(): string {
    return "";
  }

  async kill(): Promise<void> {
    this.alive = false;
    this.generation++;
    this.configured = new Map();
    this.config = {};
  }

  async restart(): Promise<void> {
    await this.kill();
    this.alive = true;
  }

  close(): Promise<void> {
    return this.kill();
  }

  getPluginInfo(): Promise<{ version: string }> {
    return this.call("GetPluginInfo", undefined, {}, false, async () => ({ version: pulumiVersion() }));
  }

  configure(args: Props = this.options.config ?? {}): Promise<ConfigureResult> {
    return this.call("Configure", undefined, { args, acceptSecrets: true, acceptResources: true }, false, async () => {
      const wire = fromWire(args);
      // The host unwraps top-level secrets only, and keeps no `__provider` in the config.
      this.config = Object.fromEntries(
        Object.entries(wire)
          .filter(([k]) => k !== PROVIDER_KEY)
          .map(([k, v]) => [k, isSecret(v) ? v.value : v]),
      );
      return { acceptSecrets: false, supportsPreview: false, acceptResources: false, acceptOutputs: false };
    });
  }

  check(r: CheckRequest): Promise<CheckResult> {
    return this.call("Check", r.urn, { olds: r.olds, news: r.news }, false, async () => {
      const olds = fromWire(r.olds);
      const news = fromWire(r.news);
      const provider = await this.provider(news[PROVIDER_KEY] === UNKNOWN ? olds : news);
      let inputs = news;
      let failures: { property: string; reason: string }[] = [];
      if (provider.check) {
        const result = await provider.check(olds, news);
        if (result.inputs) inputs = result.inputs;
        if (result.failures) failures = result.failures.map((f) => ({ property: f.property, reason: f.reason }));
      }
      inputs[PROVIDER_KEY] = news[PROVIDER_KEY];
      return { inputs: toWire(inputs), failures };
    });
  }

  diff(r: DiffRequest): Promise<DiffResponse> {
    return this.call("Diff", r.urn, { id: r.id, olds: r.olds, news: r.news, oldInputs: r.oldInputs ?? {} }, false, async () => {
      const olds = fromWire(r.olds);
      const news = fromWire(r.news);
      const provider = await this.provider(news[PROVIDER_KEY] === UNKNOWN ? olds : news);
      const res: DiffResponse = { changes: DiffChanges.DIFF_UNKNOWN, replaces: [], stables: [], deleteBeforeReplace: false, diffs: [] };
      if (provider.diff) {
        const result = await provider.diff(r.id, olds, news);
        if (result.changes === true) res.changes = DiffChanges.DIFF_SOME;
        else if (result.changes === false) res.changes = DiffChanges.DIFF_NONE;
        if (result.replaces?.length) res.replaces = [...result.replaces];
        if (result.deleteBeforeReplace) res.deleteBeforeReplace = true;
      }
      return res;
    });
  }

  create(r: CreateRequest): Promise<CreateResponse> {
    return this.call("Create", r.urn, { properties: r.properties }, true, async () => {
      const props = fromWire(r.properties);
      const provider = await this.provider(props);
      const result = await provider.create(props);
      return { id: result.id ?? "", properties: toWire(withProvider(result.outs, props)) };
    });
  }

  read(r: ReadRequest): Promise<ReadResponse> {
    return this.call("Read", r.urn, { id: r.id, properties: r.properties, inputs: r.inputs }, false, async () => {
      const props = fromWire(r.properties);
      const provider = await this.provider(props);
      if (!provider.read) return { id: r.id, properties: props, inputs: undefined };
      const result = await provider.read(r.id, props);
      return {
        id: result.id ?? "",
        properties: toWire(withProvider(result.props, props)),
        inputs: result.inputs ? toWire(withProvider(result.inputs, props)) : undefined,
      };
    });
  }

  update(r: UpdateRequest): Promise<{ properties: Props }> {
    return this.call("Update", r.urn, { id: r.id, olds: r.olds, news: r.news, oldInputs: r.oldInputs ?? {} }, true, async () => {
      const olds = fromWire(r.olds);
      const news = fromWire(r.news);
      const provider = await this.provider(news);
      const result = provider.update ? ((await provider.update(r.id, olds, news)) ?? {}) : {};
      return { properties: toWire(withProvider(result.outs, news)) };
    });
  }

  delete(r: DeleteRequest): Promise<void> {
    return this.call("Delete", r.urn, { id: r.id, properties: r.properties, oldInputs: r.oldInputs ?? {} }, false, async () => {
      const props = fromWire(r.properties);
      const provider = await this.provider(props);
      if (provider.delete) await provider.delete(r.id, props);
    });
  }

  /** The host's getProvider: look the provider up by `__provider`, configure it on first use. */
  private provider(props: Props): Promise<pulumi.dynamic.ResourceProvider> {
    const ref = props[PROVIDER_KEY];
    if (typeof ref !== "string") return Promise.reject(new Error(`the resource carries no ${PROVIDER_KEY} string`));
    let ready = this.configured.get(ref);
    if (!ready) {
      const provider = this.options.providers[ref];
      if (!provider) return Promise.reject(new Error(`no in-process provider for ${PROVIDER_KEY} "${ref}"`));
      const config = new Config(this.config, this.options.project ?? "proj");
      ready = (async () => {
        if (provider.configure) await provider.configure({ config });
        return provider;
      })();
      this.configured.set(ref, ready);
    }
    return ready;
  }

  /**
   * Runs one RPC: logs it, answers UNAVAILABLE when the host is down (or went down meanwhile), and
   * turns a throw into the error the real host would send (`initFailures`: Create and Update pack an
   * init failure for an error carrying an `id`).
   */
  private async call<Res>(
    method: string,
    urn: string | undefined,
    request: unknown,
    initFailures: boolean,
    run: () => Promise<Res>,
  ): Promise<Res> {
    const started = Date.now();
    const record: CallRecord = { seq: ++callSeq, method, urn, hostPid: this.pid, request, ms: 0 };
    this.log.push(record);
    const generation = this.generation;
    const fail = (error: HostRpcError): never => {
      record.ms = Date.now() - started;
      record.error = { code: error.code, details: error.details, ...(error.initFailure ? { initFailure: error.initFailure } : {}) };
      throw error;
    };
    if (!this.alive) fail(new HostRpcError(method, GrpcCode.UNAVAILABLE, "the in-process host is not running"));
    let response: Res;
    try {
      response = await run();
    } catch (e) {
      if (generation !== this.generation)
        fail(new HostRpcError(method, GrpcCode.UNAVAILABLE, "the in-process host was killed during the call", undefined, e));
      fail(rpcErrorOf(method, e, initFailures));
    }
    if (generation !== this.generation)
      fail(new HostRpcError(method, GrpcCode.UNAVAILABLE, "the in-process host was killed during the call"));
    record.ms = Date.now() - started;
    record.response = response!;
    return response!;
  }
}

/** Starts an in-process host over `options.providers`. */
export function startInProcessHost(options: InProcessHostOptions): ProviderHost {
  return new InProcessHost(options);
}

/** A request as the host decodes it: through a Struct, secret wrappers stripped. */
function fromWire(props: Props): Props {
  return stripSecrets(fromStruct(toStruct(props)) ?? {});
}

/** A response as the host encodes it (Struct.fromJavaScript throws on undefined members, as in the host). */
function toWire(props: Props): Props {
  return Struct.fromJavaScript(props as Record<string, never>).toJavaScript() as Props;
}

/** The host's resultIncludingProvider: the provider's result with `__provider` copied from the request. */
function withProvider(result: Props | undefined, props: Props): Props {
  return Object.assign(result ?? {}, { [PROVIDER_KEY]: props[PROVIDER_KEY] });
}

/** The status the host's gRPC server sends for a thrown value (grpc-js serverErrorToStatus; the host's grpcResponseFromError). */
function rpcErrorOf(method: string, e: unknown, initFailures: boolean): HostRpcError {
  const x = (typeof e === "object" && e !== null ? e : {}) as {
    message?: unknown;
    code?: unknown;
    details?: unknown;
    id?: unknown;
    properties?: unknown;
    reasons?: unknown;
  };
  const message = typeof e === "object" && e !== null ? ("message" in x ? String(x.message) : "Unknown Error") : String(e);
  if (initFailures) {
    // Create and Update answer UNKNOWN with the message, whatever the error's own code.
    let failure: InitFailure | undefined;
    if (x.id) {
      failure = {
        id: String(x.id),
        properties: toWire((x.properties as Props) || {}),
        inputs: undefined,
        reasons: Array.isArray(x.reasons) ? x.reasons.map(String) : [],
      };
    }
    return new HostRpcError(method, GrpcCode.UNKNOWN, message, failure, e);
  }
  if (typeof x.code === "number" && Number.isInteger(x.code)) {
    return new HostRpcError(method, x.code, typeof x.details === "string" ? x.details : message, undefined, e);
  }
  return new HostRpcError(method, GrpcCode.UNKNOWN, message, undefined, e);
}

/** The SDK version the real host reports in GetPluginInfo. */
function pulumiVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require("@pulumi/pulumi/version") as { version: string }).version;
}
