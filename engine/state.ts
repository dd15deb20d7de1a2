/**
 * What the engine records: the state of each resource, pending operations, events, the steps of a run,
 * and why a run stopped.
 */
import type { DiffResponse, InitFailure } from "./hostProtocol";
import type { Props } from "./secrets";

export interface StateEntry {
  urn: string;
  type: string;
  id: string;
  /** Inputs as checked (engine form: secrets wrapped). */
  inputs: Props;
  /** Outputs (engine form: secrets wrapped, re-marked from same-named secret inputs). */
  outputs: Props;
  /** Reasons of an init failure (partial success); the next `up` updates the resource even without a diff. */
  initErrors?: string[];
}

export type StepOp = "same" | "create" | "update" | "replace" | "delete";

export interface Step {
  urn: string;
  op: StepOp;
  /** The Diff response that decided it (none for creates and deletes). */
  diff?: DiffResponse;
  /** The checked inputs (preview: may hold the unknown sentinel). */
  inputs?: Props;
}

export interface DriftReport {
  urn: string;
  /** "same": no drift; "update": live state differs from the program's inputs; "delete": gone. */
  op: "same" | "update" | "delete";
  /** The Diff(olds = refreshed outputs, news = old inputs) response; absent when gone. */
  diff?: DiffResponse;
  /** Outputs before and after the read (engine form). */
  before: Props;
  after?: Props;
}

export interface PendingOperation {
  urn: string;
  type: "creating" | "updating" | "deleting";
}

export interface EngineEvent {
  severity: "info" | "warning" | "error";
  urn?: string;
  message: string;
}

/** Why a run stopped. The completed steps and the state up to the failure are kept. */
export class DeploymentError extends Error {
  constructor(
    readonly kind: "checkFailed" | "initFailed" | "rpc",
    readonly urn: string,
    message: string,
    readonly steps: Step[],
    readonly details: {
      failures?: { property: string; reason: string }[];
      initFailure?: InitFailure;
      cause?: unknown;
    } = {},
  ) {
    super(message);
    this.name = "DeploymentError";
  }
}
