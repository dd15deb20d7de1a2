/**
 * The resource kernel (provider/resources/kit.ts) and the one PartialFailure (provider/errors.ts), in process.
 *
 * Real: the kit, the runner's validation and result handling, zod, the secret wrappers.
 * Stands in: the step that runs a script on a host: a runner core (the runner seam) that answers each
 * operation with a result document or an error document, as a script over the emulator would print it.
 */
import { z } from "zod";
import { ErrorCode, PartialFailure, RdsError, isPartialFailure, isRdsError } from "../../provider/errors";
import { resetOperationRunner, setOperationRunner, type OperationCall } from "../../provider/powershell/runner";
import { isSecretValue } from "../../provider/resources/secrets";
import { resourceKit, scrub } from "../../provider/resources/kit";
import type { Connection } from "../../provider/powershell/transport";

const connection: Connection = { transport: "simulator", host: "ls01.contoso.com" };
const kit = resourceKit<"get">({
  // A real folder: the runner checks that the script file exists before the core runs.
  folder: "licenseServer",
  secretFields: ["connection", "licenseCode"],
  secretValueFields: ["licenseCode"],
  timeoutsMs: { get: 60_000 },
  hints: { [ErrorCode.AccessDenied]: "the connection's account must be a local administrator" },
});

let calls: OperationCall[] = [];
function answer(document: unknown): void {
  calls = [];
  setOperationRunner(async (_connection, call) => {
    calls.push(call);
    return { document: document as never, durationMs: 1, stderr: "" };
  });
}
afterEach(() => resetOperationRunner());

const errorDocument = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  ok: false,
  error: { code, message, ...extra },
});

describe("secrets in and out", () => {
  test("decode removes every wrapper and splits __provider off; encode wraps the declared fields only", () => {
    const wrapped = kit.encode({ connection, licenseCode: "ABCDE-12345", quantity: 5 });
    expect(isSecretValue(wrapped.connection)).toBe(true);
    expect(isSecretValue(wrapped.licenseCode)).toBe(true);
    expect(wrapped.quantity).toBe(5);
    const { props, providerCode } = kit.decode({ ...wrapped, __provider: "code" });
    expect(props).toEqual({ connection, licenseCode: "ABCDE-12345", quantity: 5 });
    expect(providerCode).toBe("code");
  });

  test("encode drops undefined members at any depth (the host's Struct encoding throws on them)", () => {
    const out = kit.encode({ connection, calPacks: undefined, nested: { a: 1, b: undefined }, list: [{ c: undefined, d: 2 }] });
    expect(Object.keys(out)).toEqual(["connection", "nested", "list"]);
    expect(out.nested).toEqual({ a: 1 });
    expect(out.list).toEqual([{ d: 2 }]);
  });

  test("secretValues lists each secret as given and normalised, longest first", () => {
    expect(kit.secretValues({ licenseCode: "abcde-12345" })).toEqual(["abcde-12345", "ABCDE12345"]);
    expect(scrub("code ABCDE12345 refused", kit.secretValues({ licenseCode: "abcde-12345" }))).toBe("code [secret] refused");
  });
});

describe("parse", () => {
  const schema = z.object({ connection: z.object({ host: z.string() }), quantity: z.number().int() });

  test("a bad value is RDS_VALIDATION naming the field and the host, never a ZodError", () => {
    let caught: unknown;
    try {
      kit.parse(schema, { connection: { host: "ls01" }, quantity: "five" }, "installing CAL pack");
    } catch (e) {
      caught = e;
    }
    expect(isRdsError(caught)).toBe(true);
    expect((caught as RdsError).code).toBe(ErrorCode.Validation);
    expect((caught as RdsError).message).toMatch(/^installing CAL pack on ls01: quantity must be a number, got string/);
  });

  test("a secret value never reaches the message", () => {
    const withCode = z.object({ licenseCode: z.string().length(5, { message: "licenseCode ABCDE12345 is too long" }) });
    expect(() => kit.parse(withCode, { licenseCode: "ABCDE12345" }, "checking")).toThrow(/licenseCode \[secret\] is too long/);
  });
});

describe("run one step", () => {
  test("runs the resource's script with its timeout and returns the validated result", async () => {
    answer({ ok: true, result: { value: 3 } });
    const got = await kit.run(connection, { op: "get", args: { a: 1 }, result: z.object({ value: z.number() }), doing: "reading" });
    expect(got).toEqual({ value: 3 });
    expect(calls).toHaveLength(1);
    expect(calls[0].name).toBe("licenseServer.get");
    expect(calls[0].script).toMatch(/resources[\\/]licenseServer[\\/]get\.ps1$/);
    expect(calls[0].args()).toEqual({ a: 1 });
    expect(calls[0].timeoutMs).toBe(60_000);
  });

  test("the runner's error in the resource's words: code, WMI details and the hint kept", async () => {
    answer(errorDocument("WMI_ERROR", "", { returnValue: 0x80041003, method: "ActivateServer", className: "Win32_TSLicenseServer" }));
    const run = kit.run(connection, { op: "get", args: {}, result: z.unknown(), doing: "activating license server" });
    const err = (await run.catch((e) => e)) as RdsError;
    expect(err.code).toBe(ErrorCode.AccessDenied);
    expect(err.message).toBe(
      "activating license server on ls01.contoso.com: Win32_TSLicenseServer.ActivateServer returned WBEM_E_ACCESS_DENIED (0x80041003): " +
        "the connection's account must be a local administrator",
    );
    expect(err.method).toBe("ActivateServer");
    expect(err.className).toBe("Win32_TSLicenseServer");
    expect(err.wmiName).toBe("WBEM_E_ACCESS_DENIED");
    expect(err.operation).toBe("licenseServer.get");
  });

  test("a secret value a script message holds is scrubbed", async () => {
    answer(errorDocument("REJECTED", "the Clearinghouse refused ABCDE12345"));
    const run = kit.run(connection, { op: "get", args: {}, result: z.unknown(), doing: "installing CAL pack" }, ["ABCDE12345"]);
    const err = (await run.catch((e) => e)) as RdsError;
    expect(err.code).toBe(ErrorCode.Rejected);
    expect(err.message).toBe("installing CAL pack on ls01.contoso.com: the Clearinghouse refused [secret]");
  });

  test("a result the schema refuses is RDS_INVALID_RESULT", async () => {
    answer({ ok: true, result: { value: "three" } });
    const err = (await kit
      .run(connection, { op: "get", args: {}, result: z.object({ value: z.number() }), doing: "reading" })
      .catch((e) => e)) as RdsError;
    expect(err.code).toBe(ErrorCode.InvalidResult);
  });
});

describe("guard: every error leaves with its code", () => {
  test("an RdsError gets its code at the end, once", async () => {
    const method = kit.guard(async () => {
      throw new RdsError(ErrorCode.NotActivated, "installing CAL pack on ls01: not activated");
    });
    const err = (await method().catch((e) => e)) as RdsError;
    expect(err.message).toBe("installing CAL pack on ls01: not activated [RDS_NOT_ACTIVATED]");
    const again = kit.guard(async () => {
      throw err;
    });
    expect(((await again().catch((e) => e)) as RdsError).message).toBe(err.message);
  });

  test("anything else becomes RDS_INTERNAL, scrubbed, its original kept as the cause", async () => {
    const bug = new TypeError("cannot read ABCDE12345 of undefined");
    const method = kit.guard(
      async (_props: Record<string, unknown>) => {
        throw bug;
      },
      (props) => kit.secretValues(props),
    );
    const err = (await method({ licenseCode: "ABCDE12345" }).catch((e) => e)) as RdsError;
    expect(err.code).toBe(ErrorCode.Internal);
    expect(err.message).toBe("unexpected error in the provider: cannot read [secret] of undefined [RDS_INTERNAL]");
    expect(err.cause).toBe(bug);
  });
});

describe("partial success", () => {
  test("one PartialFailure: id, wrapped outputs with __provider, what was done, the code at the end", () => {
    const failure = new RdsError(ErrorCode.ClearinghouseUnreachable, "activating license server on ls01: no route");
    const p = kit.partial(
      "ls01",
      { connection, licenseCode: "X", status: "pending", __provider: "stale" },
      "provider-code",
      failure,
      ["set the contact"],
      "ls01",
    );
    expect(p).toBeInstanceOf(PartialFailure);
    expect(isPartialFailure(p)).toBe(true);
    expect(p.id).toBe("ls01");
    expect(p.code).toBe(ErrorCode.ClearinghouseUnreachable);
    expect(p.message).toBe("activating license server on ls01: no route (already done: set the contact) [RDS_CLEARINGHOUSE_UNREACHABLE]");
    expect(p.reasons).toEqual([p.message]);
    expect(isSecretValue(p.properties.connection)).toBe(true);
    expect(p.properties.__provider).toBe("provider-code");
    expect(p.properties.status).toBe("pending");
  });

  test("guard lets a PartialFailure through unchanged (the host needs its id and properties)", async () => {
    const p = kit.partial("id", {}, undefined, new RdsError(ErrorCode.Timeout, "x"), [], "h");
    const err = await kit
      .guard(async () => {
        throw p;
      })()
      .catch((e) => e);
    expect(err).toBe(p);
  });
});
