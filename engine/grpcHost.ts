/**
 * The REAL dynamic-provider host (hostProcess.ts) driven over gRPC with the request shapes the engine
 * uses (engine provider_plugin.go): the generated stubs, Struct encoding, and whatever `__provider`
 * string the caller sends.
 *
 * The wrappers send exactly what they are given: stripping secrets before CRUD calls (as the engine
 * does for a host that answers acceptSecrets=false) is the caller's job (engine.ts does it).
 */
import { randomBytes } from "crypto";
import * as grpc from "@grpc/grpc-js";
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import * as statusproto from "@pulumi/pulumi/proto/status_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import {
  fromStruct,
  HostRpcError,
  parseUrn,
  toStruct,
  type CallRecord,
  type CheckRequest,
  type CheckResult,
  type ConfigureResult,
  type CreateRequest,
  type CreateResponse,
  type DeleteRequest,
  type DiffChangesValue,
  type DiffRequest,
  type DiffResponse,
  type InitFailure,
  type ProviderHost,
  type ReadRequest,
  type ReadResponse,
  type UpdateRequest,
} from "./hostProtocol";
import { HostProcess, type HostOptions } from "./hostProcess";
import { stripSecrets, type Props } from "./secrets";

let callSeq = 0;

class GrpcProviderHost extends HostProcess implements ProviderHost {
  readonly log: CallRecord[] = [];
  private client?: provrpc.ResourceProviderClient;

  constructor(private readonly hostOptions: HostOptions) {
    super(hostOptions);
  }

  override async start(): Promise<number> {
    const port = await super.start();
    this.client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return port;
  }

  override async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    // The client stays open until the process is gone, so in-flight calls fail as they would in a crash.
    await super.kill(signal);
    this.client?.close();
  }

  async restart(): Promise<void> {
    await this.close();
    await this.start();
  }

  private call<Req, Res>(
    method: string,
    urn: string | undefined,
    request: unknown,
    send: (
      client: provrpc.ResourceProviderClient,
      cb: (err: grpc.ServiceError | null, res: Req) => void,
      options: Partial<grpc.CallOptions>,
    ) => void,
    decode: (res: Req) => Res,
  ): Promise<Res> {
    const started = Date.now();
    const record: CallRecord = { seq: ++callSeq, method, urn, hostPid: this.pid, request, ms: 0 };
    this.log.push(record);
    return new Promise<Res>((resolve, reject) => {
      send(
        this.client!,
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
        { deadline: Date.now() + (this.hostOptions.callTimeoutMs ?? 120_000) },
      );
    });
  }

  getPluginInfo(): Promise<{ version: string }> {
    return this.call<plugproto.PluginInfo, { version: string }>(
      "GetPluginInfo",
      undefined,
      {},
      (c, cb, o) => c.getPluginInfo(new Empty(), new grpc.Metadata(), o, cb),
      (r) => ({ version: r.getVersion() }),
    );
  }

  configure(args: Props = this.hostOptions.config ?? {}): Promise<ConfigureResult> {
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
      (c, cb, o) => c.configure(req, new grpc.Metadata(), o, cb),
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
      (c, cb, o) => c.check(req, new grpc.Metadata(), o, cb),
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
      (c, cb, o) => c.diff(req, new grpc.Metadata(), o, cb),
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
      (c, cb, o) => c.create(req, new grpc.Metadata(), o, cb),
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
      (c, cb, o) => c.read(req, new grpc.Metadata(), o, cb),
      (res) => ({
        id: res.getId(),
        properties: fromStruct(res.getProperties()),
        inputs: res.hasInputs() ? fromStruct(res.getInputs()) : undefined,
      }),
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
      (c, cb, o) => c.update(req, new grpc.Metadata(), o, cb),
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
      (c, cb, o) => c.delete(req, new grpc.Metadata(), o, cb),
      () => undefined,
    );
  }
}

/** Starts a host process and waits for its port. Close it with `close()`, or let `stopAllHosts` do it. */
export async function startProviderHost(options: HostOptions = {}): Promise<ProviderHost> {
  const host = new GrpcProviderHost(options);
  await host.start();
  return host;
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
