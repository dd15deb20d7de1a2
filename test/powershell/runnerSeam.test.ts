/**
 * The runner seam: setOperationRunner() replaces the step that runs a script, for the whole process.
 *
 * Real: runOperation's validation (connection, spec, args), the result-document parse and the
 * operation's zod schema, the error-document mapping. Stand-in: the core itself is a fake that
 * answers from recorded documents in process; no pwsh starts (checked through pool.poolStats()).
 */
import { z } from "zod";
import { ErrorCode } from "../../provider/errors";
import * as pool from "../../provider/powershell/pool";
import type { ResultDocument } from "../../provider/powershell/result";
import { type OperationCall, resetOperationRunner, runOperation, setOperationRunner } from "../../provider/powershell/runner";
import type { Connection } from "../../provider/powershell/transport";
import { fixture, rdsErrorOf } from "./support";

const conn: Connection = { transport: "simulator", host: "seam-01", stateDir: "/nonexistent-state-dir" };
const countSchema = z.object({ count: z.number().int() });

/** Installs a fake core that records each call (with the args it took) and answers with `document`. */
function fake(document: (call: OperationCall, args: Record<string, unknown>) => unknown) {
  const calls: { call: OperationCall; args: Record<string, unknown> }[] = [];
  setOperationRunner(async (_connection, call) => {
    const args = call.args();
    calls.push({ call, args });
    return { document: document(call, args) as ResultDocument, durationMs: 1, stderr: "" };
  });
  return calls;
}

afterEach(() => resetOperationRunner());

describe("setOperationRunner", () => {
  it("answers from the fake, through the operation's schema, and starts no pwsh", async () => {
    const started = pool.poolStats().started;
    const calls = fake(() => ({ ok: true, result: { count: 3, extra: "dropped by the schema" } }));
    const result = await runOperation(conn, {
      name: "seam.read",
      script: fixture("Echo"),
      args: { a: 1 },
      result: countSchema,
      timeoutMs: 5000,
    });
    expect(result).toEqual({ count: 3 });
    expect(calls).toHaveLength(1);
    expect(calls[0].args).toEqual({ a: 1 });
    expect(calls[0].call).toMatchObject({ name: "seam.read", script: fixture("Echo"), host: "seam-01", timeoutMs: 5000 });
    expect(pool.poolStats().started).toBe(started);
  });

  it("still validates: a result the schema refuses is RDS_INVALID_RESULT", async () => {
    fake(() => ({ ok: true, result: { count: "three" } }));
    const err = await rdsErrorOf(runOperation(conn, { name: "seam.read", script: fixture("Echo"), args: {}, result: countSchema }));
    expect(err.code).toBe(ErrorCode.InvalidResult);
    expect(err.message).toContain("result.count");
  });

  it("refuses a document no script could print (checked like pwsh's output)", async () => {
    fake(() => ({ ok: true })); // no `result`
    expect((await rdsErrorOf(runOperation(conn, { name: "seam.read", script: fixture("Echo"), args: {}, result: z.unknown() }))).code).toBe(
      ErrorCode.InvalidResult,
    );
    fake(() => ({ ok: false, error: { message: "no code" } }));
    expect((await rdsErrorOf(runOperation(conn, { name: "seam.read", script: fixture("Echo"), args: {}, result: z.unknown() }))).code).toBe(
      ErrorCode.InvalidResult,
    );
  });

  it("maps an error document to its typed error", async () => {
    fake(() => ({ ok: false, error: { code: "NOT_ACTIVATED", message: "the license server is not activated" } }));
    const err = await rdsErrorOf(runOperation(conn, { name: "seam.read", script: fixture("Echo"), args: {}, result: z.unknown() }));
    expect(err.code).toBe(ErrorCode.NotActivated);
    expect(err.message).toBe("running seam.read on seam-01: the license server is not activated");
  });

  it("takes function args when the fake runs the script, and checks them", async () => {
    let taken = 0;
    const calls = fake((_call, args) => ({ ok: true, result: { count: (args.ids as unknown[]).length } }));
    const op = { name: "seam.batch", script: fixture("Echo"), args: () => ({ ids: [1, 2, 3].slice(0, ++taken + 1) }), result: countSchema };
    expect(await runOperation(conn, op)).toEqual({ count: 2 });
    expect(taken).toBe(1);
    expect(calls[0].args).toEqual({ ids: [1, 2] });

    const bad = { ...op, args: () => [] as unknown as Record<string, unknown> };
    expect((await rdsErrorOf(runOperation(conn, bad))).code).toBe(ErrorCode.Validation);
  });

  it("keeps the checks before the core: an invalid connection never reaches the fake", async () => {
    const calls = fake(() => ({ ok: true, result: {} }));
    const err = await rdsErrorOf(
      runOperation({ transport: "simulator" } as unknown as Connection, {
        name: "seam.read",
        script: fixture("Echo"),
        args: {},
        result: z.unknown(),
      }),
    );
    expect(err.code).toBe(ErrorCode.Validation);
    expect(calls).toHaveLength(0);
  });

  it("resetOperationRunner puts the pool back", async () => {
    const calls = fake(() => ({ ok: true, result: {} }));
    resetOperationRunner();
    // The pool itself stands in here too (no pwsh): the point is which core is asked.
    const toPool = jest
      .spyOn(pool, "runOnTarget")
      .mockResolvedValue({ document: { ok: true, result: { count: 7 } }, durationMs: 1, stderr: "" });
    try {
      expect(await runOperation(conn, { name: "seam.read", script: fixture("Echo"), args: {}, result: countSchema })).toEqual({ count: 7 });
      expect(toPool).toHaveBeenCalledTimes(1);
      expect(calls).toHaveLength(0);
    } finally {
      toPool.mockRestore();
    }
  });
});
