/**
 * Launches the REAL dynamic-provider host shipped in @pulumi/pulumi and drives it over gRPC with the
 * request shapes the engine uses (the notes, section 3; engine provider_plugin.go).
 *
 * What is real: the host process (`node node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js`),
 * gRPC, the generated stubs, Struct encoding, and whatever `__provider` string the caller sends.
 * What stands in: the engine (see engine.ts, which builds on this file).
 *
 * The wrappers here send exactly what they are given: stripping secrets before CRUD calls (as the engine
 * does for a host that answers acceptSecrets=false) is the caller's job; `stripSecrets` and
 * `annotateSecrets` below do it the engine's way.
 *
 * Every host started is tracked and killed (the whole process group) by `stopAllHosts`, which is
 * registered with Jest's `afterAll` when this module is loaded inside Jest, and runs again on exit.
 */
import { spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { packageRoot } from "../../provider/paths";

// ---------------------------------------------------------------------------------------------------
// Wire values: secrets and unknowns as the engine encodes them in a Struct.

/** Preview placeholder for a value not known yet (`rpc.unknownValue`). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** Key and signature of a secret wrapper (`rpc.specialSigKey`, `rpc.specialSecretSig`). */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export type Props = Record<string, unknown>;
export interface SecretValue<T = unknown> {
  [SECRET_SIG_KEY]: typeof SECRET_SIG;
  value: T;
}

/** A value marked secret, in engine/Struct form. */
export function secret<T>(value: T): SecretValue<T> {
  return { [SECRET_SIG_KEY]: SECRET_SIG, value } as SecretValue<T>;
}

export function isSecret(value: unknown): value is SecretValue {
  return typeof value === "object" && value !== null && (value as Props)[SECRET_SIG_KEY] === SECRET_SIG;
}

export function containsSecrets(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecrets);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsSecrets);
  return false;
}

/** Removes every secret wrapper, keeping the values: what the engine sends a host with acceptSecrets=false. */
export function stripSecrets<T>(value: T): T {
  if (isSecret(value)) return stripSecrets(value.value) as T;
  if (Array.isArray(value)) return value.map(stripSecrets) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripSecrets(v)])) as T;
  }
  return value;
}

/**
 * The engine's `annotateSecrets(outs, ins)`: for every key in `ins` also in `outs`, recurse when both
 * are objects; otherwise mark the out value secret when the in value contains a secret. Returns a copy.
 */
export function annotateSecrets(outs: Props | undefined, ins: Props | undefined): Props | undefined {
  if (!outs || !ins) return outs;
  const result: Props = { ...outs };
  for (const [key, inValue] of Object.entries(ins)) {
    if (!(key in result)) continue;
    const outValue = result[key];
    if (isPlainObject(outValue) && isPlainObject(inValue)) {
      result[key] = annotateSecrets(outValue, inValue);
    } else if (!isSecret(outValue) && containsSecrets(inValue)) {
      result[key] = secret(outValue);
    }
  }
  return result;
}

/** Marks the named top-level keys secret (as `additionalSecretOutputs` or `pulumi.secret` inputs do). */
export function markSecret(props: Props, keys: readonly string[] = []): Props {
  const result = { ...props };
  for (const k of keys) if (k in result && !isSecret(result[k])) result[k] = secret(result[k]);
  return result;
}

function isPlainObject(v: unknown): v is Props {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isSecret(v);
}

/** Struct encoding drops nothing the engine would send; `undefined` (which the engine cannot send) is dropped. */
export function toStruct(props: Props): Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(props)) as Record<string, never>);
}

function fromStruct(s: Struct | undefined): Props | undefined {
  return s ? (s.toJavaScript() as Props) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Requests and responses.

export const DiffChanges = { DIFF_UNKNOWN: 0, DIFF_NONE: 1, DIFF_SOME: 2 } as const;
export type DiffChangesValue = (typeof DiffChanges)[keyof typeof DiffChanges];

export interface ConfigureResult {
  acceptSecrets: boolean;
  supportsPreview: boolean;
  acceptResources: boolean;
  acceptOutputs: boolean;
}
export interface CheckRequest {
  urn: string;
  olds: Props;
  news: Props;
  randomSeed?: Uint8Array;
}
export interface CheckResult {
  inputs: Props | undefined;
  failures: { property: string; reason: string }[];
}
export interface DiffRequest {
  urn: string;
  id: string;
  /** Old OUTPUTS. */
  olds: Props;
  /** Checked new inputs. */
  news: Props;
  oldInputs?: Props;
  ignoreChanges?: string[];
}
export interface DiffResponse {
  changes: DiffChangesValue;
  replaces: string[];
  stables: string[];
  deleteBeforeReplace: boolean;
  diffs: string[];
}
export interface CreateRequest {
  urn: string;
  properties: Props;
  timeout?: number;
  preview?: boolean;
}
export interface CreateResponse {
  id: string;
  properties: Props;
}
export interface ReadRequest {
  urn: string;
  id: string;
  /** Old OUTPUTS; must hold `__provider`. */
  properties: Props;
  inputs?: Props;
}
export interface ReadResponse {
  /** "" means the resource is gone. */
  id: string;
  properties: Props | undefined;
  inputs: Props | undefined;
}
export interface UpdateRequest {
  urn: string;
  id: string;
  /** Old OUTPUTS. */
  olds: Props;
  /** New inputs; the host takes the provider from here. */
  news: Props;
  oldInputs?: Props;
  timeout?: number;
  preview?: boolean;
  ignoreChanges?: string[];
}
export interface DeleteRequest {
  urn: string;
  id: string;
  /** Old OUTPUTS; the provider code stored here is used. */
  properties: Props;
  oldInputs?: Props;
  timeout?: number;
}

/** The live state of a resource that was created but failed to initialise (`ErrorResourceInitFailed`). */
export interface InitFailure {
  id: string;
  properties: Props | undefined;
  inputs: Props | undefined;
  reasons: string[];
}

/** A failed RPC: gRPC code (2 UNKNOWN for a provider throw, 14 UNAVAILABLE for a dead host), details. */
export class HostRpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
    readonly initFailure?: InitFailure,
  ) {
    super(`${method}: ${details} (grpc code ${code})`);
    this.name = "HostRpcError";
  }
}

export interface CallRecord {
  seq: number;
  method: string;
  urn?: string;
  hostPid: number;
  /** The request as sent (plain JS form of the Structs). */
  request: unknown;
  response?: unknown;
  error?: { code: number; details: string; initFailure?: InitFailure };
  ms: number;
}

export interface HostOptions {
  /** Program directory: the host's cwd; `@pulumi/pulumi` and the provider modules must resolve from it. Default: the project root. */
  cwd?: string;
  /** Default "proj" (PULUMI_NODEJS_PROJECT, PULUMI_PROJECT). */
  project?: string;
  /** Default "stack" (PULUMI_NODEJS_STACK). */
  stack?: string;
  /** Stack config, namespaced keys ("proj:key"); values may be `secret(...)`. Sent in PULUMI_CONFIG and by `configure()`. */
  config?: Props;
  /** Extra environment for the host (e.g. RDS_SIM_STATE_DIR). */
  env?: Record<string, string | undefined>;
  /** How long to wait for the port line. Default 30 s. */
  startTimeoutMs?: number;
  /** Deadline of each RPC. Default 120 s. */
  callTimeoutMs?: number;
  /** Copy the host's stderr to this process's stderr as it arrives. Default: env HARNESS_HOST_LOG=1. */
  echoStderr?: boolean;
}

export interface ProviderHost {
  /** PID of the current host process (its own process group). Changes on restart. */
  readonly pid: number;
  readonly port: number;
  readonly running: boolean;
  /** Every RPC made through this object, across restarts. */
  readonly log: CallRecord[];
  /** What the current host process printed on stderr (last 64 KB). */
  stderr(): string;
  getPluginInfo(): Promise<{ version: string }>;
  /** Configure as the engine does: args = the stack config (secrets wrapped), acceptSecrets=true. Defaults to options.config. */
  configure(args?: Props): Promise<ConfigureResult>;
  check(req: CheckRequest): Promise<CheckResult>;
  diff(req: DiffRequest): Promise<DiffResponse>;
  create(req: CreateRequest): Promise<CreateResponse>;
  read(req: ReadRequest): Promise<ReadResponse>;
  update(req: UpdateRequest): Promise<{ properties: Props }>;
  delete(req: DeleteRequest): Promise<void>;
  /** Kills the host's process group with `signal` (default SIGKILL: a crash) and waits until it is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the current process (if running) and starts a fresh one with the same options (new pid, port). */
  restart(): Promise<void>;
  /** Stops the host (SIGTERM, then SIGKILL after 5 s) and closes the client. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Process management.

/** The project root (where package.json and node_modules are). */
export const PROJECT_ROOT = packageRoot();

const liveHosts = new Set<HostHandle>();
const startedPids: number[] = [];

/** PIDs (= process group ids) of every host started by this module, running or not. */
export function startedHostPids(): readonly number[] {
  return startedPids;
}

/** True while any process of the group `pgid` exists. */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Stops every host this module started and still running. */
export async function stopAllHosts(): Promise<void> {
  await Promise.all([...liveHosts].map((h) => h.close()));
}

if (typeof afterAll === "function") afterAll(() => stopAllHosts());
process.once("exit", () => {
  for (const h of liveHosts) h.killSync();
});

class HostHandle implements ProviderHost {
  readonly log: CallRecord[] = [];
  private closed!: Promise<void>;
  private exited = false;
  private stderrText = "";
  private client!: provrpc.ResourceProviderClient;
  pid = 0;
  port = 0;
  private static seq = 0;

  constructor(private readonly options: HostOptions) {}

  get running(): boolean {
    return !this.exited;
  }

  stderr(): string {
    return this.stderrText;
  }

  async start(): Promise<void> {
    const cwd = this.options.cwd ?? PROJECT_ROOT;
    const script = path.join(cwd, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
    if (!fs.existsSync(script)) throw new Error(`no dynamic-provider host at ${script}: is ${cwd} a program directory?`);
    const project = this.options.project ?? "proj";
    const config = this.options.config ?? {};
    const plainConfig = Object.fromEntries(Object.entries(stripSecrets(config)).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_NODEJS_PROJECT: project,
      PULUMI_PROJECT: project,
      PULUMI_NODEJS_STACK: this.options.stack ?? "stack",
      PULUMI_CONFIG: JSON.stringify(plainConfig),
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(Object.keys(config).filter((k) => containsSecrets(config[k]))),
      ...this.options.env,
    };
    const child = spawn(process.execPath, [script, "127.0.0.1:0"], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.exited = false;
    this.stderrText = "";
    this.pid = child.pid ?? 0;
    if (!this.pid) throw new Error("could not spawn the dynamic-provider host");
    startedPids.push(this.pid);
    liveHosts.add(this);
    this.closed = new Promise((resolve) =>
      child.once("close", () => {
        this.exited = true;
        liveHosts.delete(this);
        resolve();
      }),
    );
    const echo = this.options.echoStderr ?? process.env.HARNESS_HOST_LOG === "1";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      this.stderrText = (this.stderrText + d).slice(-65536);
      if (echo) process.stderr.write(`[host ${this.pid}] ${d}`);
    });
    this.port = await new Promise<number>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => fail(new Error(`host ${this.pid} printed no port within ${this.options.startTimeoutMs ?? 30000} ms`)), this.options.startTimeoutMs ?? 30_000);
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(new Error(`${e.message}\nstderr: ${this.stderrText}`));
      };
      const onData = (d: string) => {
        out += d;
        const nl = out.indexOf("\n");
        if (nl < 0) return;
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.stdout!.resume(); // keep draining anything the provider prints later
        const port = Number(out.slice(0, nl).trim());
        if (Number.isInteger(port) && port > 0) resolve(port);
        else fail(new Error(`host ${this.pid} printed "${out.slice(0, nl)}" instead of a port`));
      };
      child.stdout!.setEncoding("utf8").on("data", onData);
      child.once("close", (code, signal) => fail(new Error(`host ${this.pid} exited (code ${code}, signal ${signal}) before printing its port`)));
    }).catch(async (e) => {
      await this.kill("SIGKILL");
      throw e;
    });
    this.client = new provrpc.ResourceProviderClient(`127.0.0.1:${this.port}`, grpc.credentials.createInsecure());
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    // The client stays open until the process is gone, so in-flight calls fail as they would in a crash.
    if (!this.exited) {
      try {
        process.kill(-this.pid, signal);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
      }
      await this.closed;
    }
    this.client?.close();
  }

  killSync(): void {
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }

  async close(): Promise<void> {
    const timer = setTimeout(() => this.killSync(), 5000);
    try {
      await this.kill("SIGTERM");
    } finally {
      clearTimeout(timer);
    }
  }

  async restart(): Promise<void> {
    await this.close();
    await this.start();
  }

  // -------------------------------------------------------------------------------------------------
  // RPCs.

  private call<Req, Res>(method: string, urn: string | undefined, request: unknown, send: (cb: (err: grpc.ServiceError | null, res: Req) => void, options: Partial<grpc.CallOptions>) => void, decode: (res: Req) => Res): Promise<Res> {
    const started = Date.now();
    const record: CallRecord = { seq: ++HostHandle.seq, method, urn, hostPid: this.pid, request, ms: 0 };
    this.log.push(record);
    return new Promise<Res>((resolve, reject) => {
      send(
        (err, res) => {
          record.ms = Date.now() - started;
          if (err) {
            const failure = initFailureOf(err);
            record.error = { code: err.code, details: err.details, ...(failure ? { initFailure: failure } : {}) };
            reject(new HostRpcError(method, err.code, err.details, failure));
            return;
          }
          try {
            const decoded = decode(res);
            record.response = decoded;
            resolve(decoded);
          } catch (e) {
            reject(e);
          }
        },
        { deadline: Date.now() + (this.options.callTimeoutMs ?? 120_000) },
      );
    });
  }

  getPluginInfo(): Promise<{ version: string }> {
    return this.call<plugproto.PluginInfo, { version: string }>("GetPluginInfo", undefined, {}, (cb, o) => this.client.getPluginInfo(new Empty(), new grpc.Metadata(), o, cb), (r) => ({ version: r.getVersion() }));
  }

  configure(args: Props = this.options.config ?? {}): Promise<ConfigureResult> {
    const req = new provproto.ConfigureRequest();
    req.setArgs(toStruct(args));
    // The engine also sends the older flat spelling, "<pkg>:config:<key>" = plain string value.
    for (const [k, v] of Object.entries(stripSecrets(args))) {
      req.getVariablesMap().set(`pulumi-nodejs:config:${k}`, typeof v === "string" ? v : JSON.stringify(v));
    }
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    req.setSendsOldInputs(true);
    req.setSendsOldInputsToDelete(true);
    return this.call<provproto.ConfigureResponse, ConfigureResult>(
      "Configure",
      undefined,
      { args, acceptSecrets: true, acceptResources: true },
      (cb, o) => this.client.configure(req, new grpc.Metadata(), o, cb),
      (r) => ({
        acceptSecrets: r.getAcceptsecrets(),
        supportsPreview: r.getSupportspreview(),
        acceptResources: r.getAcceptresources(),
        acceptOutputs: r.getAcceptoutputs(),
      }),
    );
  }

  check(r: CheckRequest): Promise<CheckResult> {
    const req = new provproto.CheckRequest();
    const { name, type } = parseUrn(r.urn);
    req.setUrn(r.urn).setName(name).setType(type);
    req.setOlds(toStruct(r.olds));
    req.setNews(toStruct(r.news));
    req.setRandomseed(r.randomSeed ?? randomBytes(32));
    return this.call<provproto.CheckResponse, CheckResult>(
      "Check",
      r.urn,
      { olds: r.olds, news: r.news },
      (cb, o) => this.client.check(req, new grpc.Metadata(), o, cb),
      (res) => ({
        inputs: fromStruct(res.getInputs()),
        failures: res.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
      }),
    );
  }

  diff(r: DiffRequest): Promise<DiffResponse> {
    const req = new provproto.DiffRequest();
    const { name, type } = parseUrn(r.urn);
    req.setUrn(r.urn).setName(name).setType(type).setId(r.id);
    req.setOlds(toStruct(r.olds));
    req.setNews(toStruct(r.news));
    req.setOldInputs(toStruct(r.oldInputs ?? {}));
    req.setIgnorechangesList(r.ignoreChanges ?? []);
    return this.call<provproto.DiffResponse, DiffResponse>(
      "Diff",
      r.urn,
      { id: r.id, olds: r.olds, news: r.news, oldInputs: r.oldInputs ?? {} },
      (cb, o) => this.client.diff(req, new grpc.Metadata(), o, cb),
      (res) => ({
        changes: res.getChanges() as DiffChangesValue,
        replaces: res.getReplacesList(),
        stables: res.getStablesList(),
        deleteBeforeReplace: res.getDeletebeforereplace(),
        diffs: res.getDiffsList(),
      }),
    );
  }

  create(r: CreateRequest): Promise<CreateResponse> {
    const req = new provproto.CreateRequest();
    const { name, type } = parseUrn(r.urn);
    req.setUrn(r.urn).setName(name).setType(type);
    req.setProperties(toStruct(r.properties));
    req.setTimeout(r.timeout ?? 0);
    req.setPreview(r.preview ?? false);
    return this.call<provproto.CreateResponse, CreateResponse>(
      "Create",
      r.urn,
      { properties: r.properties },
      (cb, o) => this.client.create(req, new grpc.Metadata(), o, cb),
      (res) => ({ id: res.getId(), properties: fromStruct(res.getProperties()) ?? {} }),
    );
  }

  read(r: ReadRequest): Promise<ReadResponse> {
    const req = new provproto.ReadRequest();
    const { name, type } = parseUrn(r.urn);
    req.setUrn(r.urn).setName(name).setType(type).setId(r.id);
    req.setProperties(toStruct(r.properties));
    if (r.inputs) req.setInputs(toStruct(r.inputs));
    return this.call<provproto.ReadResponse, ReadResponse>(
      "Read",
      r.urn,
      { id: r.id, properties: r.properties, inputs: r.inputs },
      (cb, o) => this.client.read(req, new grpc.Metadata(), o, cb),
      (res) => ({ id: res.getId(), properties: fromStruct(res.getProperties()), inputs: res.hasInputs() ? fromStruct(res.getInputs()) : undefined }),
    );
  }

  update(r: UpdateRequest): Promise<{ properties: Props }> {
    const req = new provproto.UpdateRequest();
    const { name, type } = parseUrn(r.urn);
    req.setUrn(r.urn).setName(name).setType(type).setId(r.id);
    req.setOlds(toStruct(r.olds));
    req.setNews(toStruct(r.news));
    req.setOldInputs(toStruct(r.oldInputs ?? {}));
    req.setTimeout(r.timeout ?? 0);
    req.setPreview(r.preview ?? false);
    req.setIgnorechangesList(r.ignoreChanges ?? []);
    return this.call<provproto.UpdateResponse, { properties: Props }>(
      "Update",
      r.urn,
      { id: r.id, olds: r.olds, news: r.news, oldInputs: r.oldInputs ?? {} },
      (cb, o) => this.client.update(req, new grpc.Metadata(), o, cb),
      (res) => ({ properties: fromStruct(res.getProperties()) ?? {} }),
    );
  }

  delete(r: DeleteRequest): Promise<void> {
    const req = new provproto.DeleteRequest();
    const { name, type } = parseUrn(r.urn);
    req.setUrn(r.urn).setName(name).setType(type).setId(r.id);
    req.setProperties(toStruct(r.properties));
    req.setOldInputs(toStruct(r.oldInputs ?? {}));
    req.setTimeout(r.timeout ?? 0);
    return this.call<Empty, void>(
      "Delete",
      r.urn,
      { id: r.id, properties: r.properties, oldInputs: r.oldInputs ?? {} },
      (cb, o) => this.client.delete(req, new grpc.Metadata(), o, cb),
      () => undefined,
    );
  }
}

/** Starts a host and waits for its port. Close it with `close()`, or let `stopAllHosts` do it. */
export async function startProviderHost(options: HostOptions = {}): Promise<ProviderHost> {
  const host = new HostHandle(options);
  await host.start();
  return host;
}

/** `urn:pulumi:<stack>::<project>::<type>::<name>`; a parent chain `a$b` in the type keeps the last. */
export function parseUrn(urn: string): { stack: string; project: string; type: string; name: string } {
  const parts = urn.split("::");
  if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) throw new Error(`not a URN: ${urn}`);
  const qualified = parts[2];
  return {
    stack: parts[0].slice("urn:pulumi:".length),
    project: parts[1],
    type: qualified.slice(qualified.lastIndexOf("$") + 1),
    name: parts.slice(3).join("::"),
  };
}

export function makeUrn(type: string, name: string, project = "proj", stack = "stack"): string {
  return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}

/** The `ErrorResourceInitFailed` detail packed by the host into `grpc-status-details-bin`, if any. */
function initFailureOf(err: grpc.ServiceError): InitFailure | undefined {
  const bins = err.metadata?.get("grpc-status-details-bin") ?? [];
  for (const bin of bins) {
    const status = statusproto.Status.deserializeBinary(typeof bin === "string" ? Buffer.from(bin, "base64") : new Uint8Array(bin));
    for (const any of status.getDetailsList()) {
      const detail = any.unpack(provproto.ErrorResourceInitFailed.deserializeBinary, "pulumirpc.ErrorResourceInitFailed");
      if (detail) {
        return {
          id: detail.getId(),
          properties: detail.hasProperties() ? fromStruct(detail.getProperties()) : undefined,
          inputs: detail.hasInputs() ? fromStruct(detail.getInputs()) : undefined,
          reasons: detail.getReasonsList(),
        };
      }
    }
  }
  return undefined;
}

/**
 * Fails fast when built JS is missing or older than its TypeScript source (the host runs bin/, tests
 * run sources). `sources` are paths relative to the project root: .ts files or directories (recursed).
 */
export function assertBuilt(sources: readonly string[]): void {
  const stale: string[] = [];
  const visit = (rel: string) => {
    const abs = path.join(PROJECT_ROOT, rel);
    if (fs.statSync(abs).isDirectory()) {
      for (const e of fs.readdirSync(abs)) visit(path.join(rel, e));
      return;
    }
    if (!rel.endsWith(".ts") || rel.endsWith(".d.ts")) return;
    const js = path.join(PROJECT_ROOT, "bin", rel.replace(/\.ts$/, ".js"));
    if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(abs).mtimeMs) stale.push(rel);
  };
  sources.forEach(visit);
  if (stale.length) throw new Error(`built JS missing or stale for ${stale.join(", ")}: run npx tsc -p tsconfig.json`);
}
