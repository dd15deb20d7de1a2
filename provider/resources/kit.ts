/**
 * The resource kernel: the plumbing every resource provider shares, written once.
 *
 * A provider (provider/resources/<name>/provider.ts) keeps only its decisions and its steps; the kit
 * owns what sits around them:
 * - secrets: the engine strips secret wrappers before calling a host that accepts no secrets, so the
 *   kit unwraps what comes in and wraps the resource's secret fields in every answer (secrets.ts);
 * - inputs: parsed with the resource's zod schema; a bad value is always an RdsError RDS_VALIDATION
 *   naming the field and the fix, never a raw ZodError;
 * - steps: one operation script on one host through the runner, with the resource's timeout for it,
 *   the runner's error rephrased as `<doing> on <host>: <cause>` (code and WMI details kept, every
 *   secret value scrubbed);
 * - partial success: one PartialFailure (errors.ts) carrying the id and what is live now;
 * - codes: every error that leaves a provider method ends with its stable `[RDS_…]` code, and an
 *   error nobody expected becomes RDS_INTERNAL rather than a bare stack;
 * - progress: each step is followed by a progress tracker (../progress.ts) labelled with what it
 *   does: the lines its script streams, then "still running" lines while it runs, and a closing line.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { checkWithSchema, fixItReason, issuePath, valueAt } from "../check";
import { ErrorCode, PartialFailure, RdsError, isPartialFailure, isRdsError, withCodeSuffix, type RdsErrorDetails } from "../errors";
import { providerFile } from "../paths";
import { trackStep } from "../progress";
import { runOperation } from "../powershell/runner";
import type { Connection } from "../powershell/transport";
import { unwrapSecrets, wrapSecrets } from "./secrets";
import { operationTimeout } from "./timeouts";

export type Props = Record<string, unknown>;

/** What a resource tells the kit about itself. */
export interface ResourceKitSpec<Op extends string> {
  /** The resource's folder under provider/resources/, also the prefix of its operation names. */
  readonly folder: string;
  /** Top-level fields wrapped as secrets in every answer (the connection holds credentials). */
  readonly secretFields: readonly string[];
  /**
   * Top-level text fields whose values must never appear in a message (license codes, agreement
   * numbers): scrubbed from every error, in the forms a script may print them (as given, normalised).
   */
  readonly secretValueFields?: readonly string[];
  /** Default timeout of each operation script, in ms (`$RDS_OPERATION_TIMEOUT_MS` replaces all). */
  readonly timeoutsMs: Readonly<Record<Op, number>>;
  /**
   * Text added to the cause of an error with this code, for this resource's users: e.g. who must be
   * an administrator where for RDS_ACCESS_DENIED.
   */
  readonly hints?: Partial<Readonly<Record<ErrorCode, string>>>;
}

/** One step: an operation script of the resource on one host. */
export interface Step<Op extends string, T> {
  readonly op: Op;
  /** The operation's arguments (data in the envelope, never PowerShell source). */
  readonly args: Props | (() => Props);
  readonly result: z.ZodType<T>;
  /** What the step does, for messages: "activating license server". */
  readonly doing: string;
  /** The operation name when it is not `<folder>.<op>` (kept stable: logs and tests name it). */
  readonly name?: string;
  /** What the user sees of this step beyond its "still running" lines and its script's own lines. */
  readonly progress?: StepProgressSpec<T>;
}

/**
 * The progress lines of a step (../progress.ts), all labelled `<host>: <doing>: `. A step passes on
 * the lines its script streams (Write-RdsProgress); once it said something it also says "still
 * running (<elapsed>)" every interval, and closes with "done in <elapsed>". A silent step stays silent.
 */
export interface StepProgressSpec<T> {
  /** Say "started" at once: for a step that is long whatever it finds. */
  readonly announce?: boolean;
  /** The closing line's text for this result ("activated (ActivateServerAutomatic)"); undefined: the default. */
  readonly done?: (result: T) => string | undefined;
}

export interface ResourceKit<Op extends string> {
  readonly spec: ResourceKitSpec<Op>;
  /** The engine's props with every secret wrapper removed, `__provider` split off. */
  decode(raw: Props | undefined): { props: Props; providerCode: unknown };
  /** A copy of `props` with the resource's secret fields wrapped (absent ones stay absent). */
  encode<T extends object | undefined>(props: T): T;
  /** check(): failures as data, the checked inputs re-wrapped. `extra` adds resource-specific failures. */
  check(schema: z.ZodType<unknown>, raw: Props, extra?: (props: Props) => pulumi.dynamic.CheckFailure[]): pulumi.dynamic.CheckResult;
  /** The inputs parsed with `schema`, or RDS_VALIDATION naming each field and its fix. */
  parse<T>(schema: z.ZodType<T>, props: Props, doing: string): T;
  /** Runs one step; failures are RdsErrors in the resource's words, secrets scrubbed. */
  run<T>(connection: Connection, step: Step<Op, T>, secrets?: readonly string[]): Promise<T>;
  /** Rephrases any error as `<doing> on <host>: <cause>` (code and details kept, secrets scrubbed). */
  rephrase(error: unknown, doing: string, host: string, secrets?: readonly string[]): RdsError;
  /** The secret values of these props, in every form a text may hold them. */
  secretValues(props: Props | undefined): string[];
  /** A partial success to throw: `properties` are the outputs now (wrapped here, `__provider` added). */
  partial(id: string, outputs: Props, providerCode: unknown, failure: unknown, done: readonly string[], host: string): PartialFailure;
  /** Wraps a provider method so that whatever it throws carries a code (and no secret value). */
  guard<A extends unknown[], R>(method: (...args: A) => Promise<R>, secretsOf?: (...args: A) => string[]): (...args: A) => Promise<R>;
}

/** The cause part of a message `<doing> on <host>: <cause>` (the runner says `running <op> on <host>: ...`). */
function causeOf(message: string, host: string | undefined): string {
  if (!host) return message;
  const marker = ` on ${host}: `;
  const at = message.indexOf(marker);
  return at >= 0 ? message.slice(at + marker.length) : message;
}

/** Replaces every secret value in a text with "[secret]" (no script message should hold one: belt and braces). */
export function scrub(text: string, secrets: readonly string[]): string;
export function scrub(text: string | undefined, secrets: readonly string[]): string | undefined;
export function scrub(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (text === undefined) return undefined;
  let out = text;
  for (const s of secrets) out = out.split(s).join("[secret]");
  return out;
}

/** The details of an RdsError worth keeping when it is rephrased (WMI method, class, return value...). */
function detailsOf(e: RdsError, host: string, secrets: readonly string[]): RdsErrorDetails {
  return {
    host: e.host ?? host,
    operation: e.operation,
    durationMs: e.durationMs,
    stderr: scrub(e.stderr, secrets),
    returnValue: e.returnValue,
    wmiName: e.wmiName,
    method: e.method,
    className: e.className,
    scriptCode: e.scriptCode,
    cause: e,
  };
}

/** An error nobody expected, as an RdsError (RDS_INTERNAL) with its original kept as the cause. */
function internal(error: unknown, secrets: readonly string[]): RdsError {
  const text = error instanceof Error ? error.message : String(error);
  const e = new RdsError(ErrorCode.Internal, scrub(`unexpected error in the provider: ${text}`, secrets), { cause: error });
  if (error instanceof Error && error.stack) e.stack = scrub(error.stack, secrets);
  return e;
}

/**
 * A copy without `undefined` members, at any depth: the dynamic-provider host encodes every answer as
 * a protobuf Struct, and Struct.fromJavaScript throws on `undefined` ("Unexpected struct type"), which
 * would fail the whole operation (a refresh of a session host without calPacks did).
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, withoutUndefined(v)]),
    ) as T;
  }
  return value;
}

export function resourceKit<Op extends string>(spec: ResourceKitSpec<Op>): ResourceKit<Op> {
  const script = (op: string) => providerFile(`resources/${spec.folder}/${op}.ps1`);

  function secretValues(props: Props | undefined): string[] {
    const out = new Set<string>();
    for (const field of spec.secretValueFields ?? []) {
      const v = props?.[field];
      if (typeof v !== "string" || v.length < 4) continue;
      out.add(v);
      out.add(v.replace(/[-\s]/g, "").toUpperCase());
    }
    // Longest first, so a value that contains another is scrubbed whole.
    return [...out].sort((a, b) => b.length - a.length);
  }

  function rephrase(error: unknown, doing: string, host: string, secrets: readonly string[] = []): RdsError {
    if (!isRdsError(error)) {
      const e = internal(error, secrets);
      e.message = scrub(`${doing} on ${host}: ${e.message}`, secrets);
      e.host = host;
      return e;
    }
    const hint = spec.hints?.[error.code];
    const cause = causeOf(error.message, error.host ?? host) + (hint && !error.message.includes(hint) ? `: ${hint}` : "");
    return new RdsError(error.code, scrub(`${doing} on ${host}: ${cause}`, secrets), detailsOf(error, host, secrets));
  }

  function finalError(error: unknown, secrets: readonly string[]): Error {
    if (isPartialFailure(error)) return error;
    const e = isRdsError(error) ? error : internal(error, secrets);
    e.message = scrub(withCodeSuffix(e.message, e.code), secrets);
    return e;
  }

  return {
    spec,
    decode(raw) {
      const { __provider: providerCode, ...props } = unwrapSecrets(raw ?? {}) as Props;
      return { props, providerCode };
    },
    encode(props) {
      return wrapSecrets(withoutUndefined(props), spec.secretFields);
    },
    check(schema, raw, extra) {
      const news = unwrapSecrets(raw);
      const res = checkWithSchema(schema, news);
      const { __provider: _ignored, ...props } = news;
      const failures = [...(res.failures ?? []), ...(extra ? extra(props) : [])];
      const inputs = wrapSecrets(withoutUndefined(res.inputs), spec.secretFields);
      return failures.length > 0 ? { inputs, failures } : { inputs };
    },
    parse(schema, props, doing) {
      const { __provider: _ignored, ...rest } = props;
      const parsed = schema.safeParse(rest);
      if (parsed.success) return parsed.data;
      const connection = rest.connection as { host?: unknown } | undefined;
      const host = typeof connection?.host === "string" ? ` on ${connection.host}` : "";
      const reasons = parsed.error.issues.map((issue) => {
        const where = issuePath(issue.path) || "(inputs)";
        const reason = fixItReason(issue as Parameters<typeof fixItReason>[0], valueAt(rest, issue.path));
        return reason.startsWith(where) ? reason : `${where}: ${reason}`;
      });
      throw new RdsError(ErrorCode.Validation, scrub(`${doing}${host}: ${reasons.join("; ")}`, secretValues(rest)));
    },
    async run(connection, step, secrets = []) {
      const host = typeof connection?.host === "string" ? connection.host : "(unknown host)";
      const progress = trackStep(host, step.doing, { announce: step.progress?.announce });
      try {
        const result = await runOperation(connection, {
          name: step.name ?? `${spec.folder}.${step.op}`,
          script: script(step.op),
          args: step.args,
          result: step.result,
          timeoutMs: operationTimeout(spec.timeoutsMs[step.op]),
          // A script's lines never hold a secret (RdsCommon.psm1 Write-RdsProgress): scrubbed all the same.
          onProgress: (text) => progress.note(scrub(text, secrets)),
        });
        progress.done(step.progress?.done?.(result));
        return result;
      } catch (e) {
        progress.failed();
        throw rephrase(e, step.doing, connection.host, secrets);
      }
    },
    rephrase,
    secretValues,
    partial(id, outputs, providerCode, failure, done, host) {
      // The host does not add __provider to an init failure's properties: without it the engine could
      // not read or delete the recorded resource later.
      const properties: Props = wrapSecrets(withoutUndefined({ ...outputs }), spec.secretFields);
      delete properties.__provider;
      if (providerCode !== undefined) properties.__provider = providerCode;
      const rds = isRdsError(failure) ? failure : rephrase(failure, "finishing", host);
      return new PartialFailure(id, properties, rds, done);
    },
    guard(method, secretsOf) {
      return async (...args) => {
        try {
          return await method(...args);
        } catch (e) {
          throw finalError(e, secretsOf ? secretsOf(...args) : []);
        }
      };
    },
  };
}
