/**
 * What the engine sends a resource provider and what it gets back: the request and response shapes of
 * the provider RPCs as the Pulumi engine uses them for a dynamic-provider host, and `ProviderHost`, the
 * interface both hosts implement (grpcHost.ts: the real host process over gRPC; inProcessHost.ts: the
 * same contract, calling provider objects in this process).
 */
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type { Props } from "./secrets";

export const DiffChanges = { DIFF_UNKNOWN: 0, DIFF_NONE: 1, DIFF_SOME: 2 } as const;
export type DiffChangesValue = (typeof DiffChanges)[keyof typeof DiffChanges];

/** gRPC status codes the engine tells apart: a provider error, and a host that is gone. */
export const GrpcCode = { UNKNOWN: 2, UNAVAILABLE: 14 } as const;

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

/**
 * A failed RPC: gRPC code (2 UNKNOWN for a provider throw, 14 UNAVAILABLE for a dead host), details.
 * `cause` is the value the provider threw, when the host runs in this process (over gRPC only its
 * message and init-failure detail survive).
 */
export class HostRpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
    readonly initFailure?: InitFailure,
    cause?: unknown,
  ) {
    super(`${method}: ${details} (grpc code ${code})`, cause === undefined ? undefined : { cause });
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
  /** Configure as the engine does: args = the stack config (secrets wrapped), acceptSecrets=true. Defaults to the host's configured stack config. */
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

/** Struct encoding drops nothing the engine would send; `undefined` (which the engine cannot send) is dropped. */
export function toStruct(props: Props): Struct {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(props)) as Record<string, never>);
}

export function fromStruct(s: Struct | undefined): Props | undefined {
  return s ? (s.toJavaScript() as Props) : undefined;
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
