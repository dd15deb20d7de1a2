/**
 * The progress reporter (provider/progress.ts), the shell's progress-line reader (pool/shell.ts) and
 * the kit's use of them around a step (provider/resources/kit.ts `run`), in process.
 *
 * Real: the reporter, its formatting and ticker, the kit, the runner's validation and result typing.
 * Stands in: the sink (a recorder instead of stderr); Jest's fake timers for the ticker (the clock is
 * advanced by the test, so tick counts are exact and nothing depends on wall-clock time); the runner's
 * core (`setOperationRunner`: a stub that streams progress texts the way a running script's
 * Write-RdsProgress does, then answers a document), instead of pwsh.
 */
import { z } from "zod";
import { isRdsError } from "../../provider/errors";
import { resetOperationRunner, setOperationRunner, type OperationCall } from "../../provider/powershell/runner";
import { progressText, withoutProgressLines } from "../../provider/powershell/pool/shell";
import { DEFAULT_INTERVAL_MS, formatElapsed, progressIntervalMs, progressLine, setProgressSink, trackStep } from "../../provider/progress";
import { resourceKit } from "../../provider/resources/kit";

const HOST = "ls01.contoso.com";
let lines: string[];
const envBefore = { progress: process.env.RDS_PROGRESS, interval: process.env.RDS_PROGRESS_INTERVAL_SECONDS };

beforeEach(() => {
  lines = [];
  setProgressSink((line) => lines.push(line));
  delete process.env.RDS_PROGRESS;
  delete process.env.RDS_PROGRESS_INTERVAL_SECONDS;
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
  setProgressSink(undefined);
  resetOperationRunner();
  for (const [name, value] of [
    ["RDS_PROGRESS", envBefore.progress],
    ["RDS_PROGRESS_INTERVAL_SECONDS", envBefore.interval],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("the reporter", () => {
  test("a line names the host and the event, on one line, cut when very long", () => {
    expect(progressLine(HOST, "installing the RDS-Licensing role: started")).toBe(
      "[rds] ls01.contoso.com: installing the RDS-Licensing role: started",
    );
    expect(progressLine(HOST, "two\nlines\r\tand a tab")).toBe("[rds] ls01.contoso.com: two lines and a tab");
    expect(progressLine(HOST, "x".repeat(1000)).length).toBeLessThan(450);
  });

  test("elapsed times read as people say them", () => {
    expect(formatElapsed(400)).toBe("0.4 s");
    expect(formatElapsed(12_300)).toBe("12 s");
    expect(formatElapsed(134_000)).toBe("2 min 14 s");
    expect(formatElapsed(3_780_000)).toBe("1 h 3 min");
  });

  test("the interval: 30 s by default, RDS_PROGRESS_INTERVAL_SECONDS when it is a positive number", () => {
    expect(progressIntervalMs()).toBe(DEFAULT_INTERVAL_MS);
    process.env.RDS_PROGRESS_INTERVAL_SECONDS = "0.25";
    expect(progressIntervalMs()).toBe(250);
    for (const bad of ["0", "-1", "soon", ""]) {
      process.env.RDS_PROGRESS_INTERVAL_SECONDS = bad;
      expect(progressIntervalMs()).toBe(DEFAULT_INTERVAL_MS);
    }
  });

  test("a step that ends before the first tick and said nothing stays silent", () => {
    const step = trackStep(HOST, "reading license server", { intervalMs: 1000 });
    jest.advanceTimersByTime(999);
    step.done();
    jest.advanceTimersByTime(5000);
    expect(lines).toEqual([]);
  });

  test("a step that says nothing never ticks, however long it runs", () => {
    const step = trackStep(HOST, "setting license server properties", { intervalMs: 1000 });
    jest.advanceTimersByTime(10_000);
    step.done();
    expect(lines).toEqual([]);
  });

  test("a long step ticks once per interval from its first line, then closes; nothing after the close", () => {
    const step = trackStep(HOST, "installing the RDS-Licensing role", { intervalMs: 1000 });
    // Before its first line (the wait for a pwsh, the operations queued before): nothing.
    jest.advanceTimersByTime(5000);
    step.note("started (Install-WindowsFeature RDS-Licensing)");
    jest.advanceTimersByTime(3000);
    step.done();
    step.note("too late");
    jest.advanceTimersByTime(3000);
    expect(lines.map((l) => l.replace(/\(\d[^)]*\)|in .*$/, "<t>"))).toEqual([
      "[rds] ls01.contoso.com: installing the RDS-Licensing role: started (Install-WindowsFeature RDS-Licensing)",
      "[rds] ls01.contoso.com: installing the RDS-Licensing role: still running <t>",
      "[rds] ls01.contoso.com: installing the RDS-Licensing role: still running <t>",
      "[rds] ls01.contoso.com: installing the RDS-Licensing role: still running <t>",
      "[rds] ls01.contoso.com: installing the RDS-Licensing role: done <t>",
    ]);
  });

  test("announce says started at once; a summary replaces done; a failure after speaking says so", () => {
    const announced = trackStep(HOST, "activating license server", { announce: true, intervalMs: 1000 });
    announced.done("activated (ActivateServerAutomatic)");
    const failing = trackStep(HOST, "preparing the license server", { intervalMs: 1000 });
    failing.note("waiting for the licensing service: attempt 1 (TermServLicensing: Stopped)");
    failing.failed();
    const quietFailure = trackStep(HOST, "reading license server", { intervalMs: 1000 });
    quietFailure.failed();
    expect(lines).toEqual([
      "[rds] ls01.contoso.com: activating license server: started",
      expect.stringMatching(/^\[rds\] ls01\.contoso\.com: activating license server: activated \(ActivateServerAutomatic\) in .+ s$/),
      "[rds] ls01.contoso.com: preparing the license server: waiting for the licensing service: attempt 1 (TermServLicensing: Stopped)",
      expect.stringMatching(/^\[rds\] ls01\.contoso\.com: preparing the license server: failed after .+ s$/),
    ]);
  });

  test("RDS_PROGRESS=0 silences every line, ticks included", () => {
    process.env.RDS_PROGRESS = "0";
    const step = trackStep(HOST, "installing the RDS-Licensing role", { announce: true, intervalMs: 1000 });
    step.note("started");
    jest.advanceTimersByTime(5000);
    step.done("done");
    expect(lines).toEqual([]);
  });

  test("a sink that throws never fails the step it reports on", () => {
    setProgressSink(() => {
      throw new Error("stderr closed");
    });
    const step = trackStep(HOST, "installing the RDS-Licensing role", { announce: true, intervalMs: 1000 });
    expect(() => {
      step.note("started");
      jest.advanceTimersByTime(2000);
      step.done();
    }).not.toThrow();
  });
});

describe("the shell's progress lines", () => {
  test("a marked line carries its text as a JSON string; anything else is not progress", () => {
    expect(progressText('##rds-progress## "attempt 2 (TermServLicensing: Stopped)"')).toBe("attempt 2 (TermServLicensing: Stopped)");
    expect(progressText('  ##rds-progress## "Z\\u00fcrich"\r')).toBe("Zürich");
    expect(progressText("##rds-progress## not json")).toBeUndefined();
    expect(progressText('##rds-progress## {"text":"an object"}')).toBeUndefined();
    expect(progressText("WARNING: something")).toBeUndefined();
  });

  test("the command's stderr text keeps every other line", () => {
    expect(withoutProgressLines('one\n##rds-progress## "a"\r\ntwo\n##rds-progress## "b"')).toBe("one\ntwo");
  });
});

describe("the kit around a step", () => {
  const kit = resourceKit<"wait">({ folder: "licenseServer", secretFields: [], timeoutsMs: { wait: 60_000 } });
  const SECRET = "ABCDE-12345-FGHIJ-67890-KLMNO-PQRST-UVWXY";
  const conn = { transport: "simulator" as const, host: HOST, stateDir: "/nonexistent-state" };

  /** A core whose script streams `texts`, then waits for `finish` (so the test may advance the clock meanwhile). */
  function streamingCore(texts: string[], ok = true) {
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    setOperationRunner(async (_connection, call: OperationCall) => {
      for (const text of texts) call.onProgress?.(text);
      started();
      await finished;
      const document = ok
        ? { ok: true as const, result: { attempts: 3, waitedMs: 1, serviceStarted: false } }
        : { ok: false as const, error: { code: "CLASS_NOT_READY", message: "not ready" } };
      return { document, durationMs: 1, stderr: "" };
    });
    return { running, finish };
  }

  const wait = {
    op: "wait" as const,
    args: {},
    result: z.object({ attempts: z.number(), waitedMs: z.number(), serviceStarted: z.boolean() }),
    doing: "preparing the license server",
    progress: { done: (r: { attempts: number }) => `the licensing service answered at attempt ${r.attempts}` },
  };

  test("the script's lines, the ticks and the close come out in order, the secret scrubbed from a line", async () => {
    process.env.RDS_PROGRESS_INTERVAL_SECONDS = "1";
    const core = streamingCore(["attempt 1 (TermServLicensing: Stopped)", `attempt 2 (a script must never say ${SECRET})`]);
    const run = kit.run(conn, wait, [SECRET]);
    await core.running;
    jest.advanceTimersByTime(2000);
    core.finish();
    await expect(run).resolves.toMatchObject({ attempts: 3 });
    expect(lines.map((l) => l.replace(/\([\d.]+ s\)|in [\d.]+ s$/, "<t>"))).toEqual([
      "[rds] ls01.contoso.com: preparing the license server: attempt 1 (TermServLicensing: Stopped)",
      "[rds] ls01.contoso.com: preparing the license server: attempt 2 (a script must never say [secret])",
      "[rds] ls01.contoso.com: preparing the license server: still running <t>",
      "[rds] ls01.contoso.com: preparing the license server: still running <t>",
      "[rds] ls01.contoso.com: preparing the license server: the licensing service answered at attempt 3 <t>",
    ]);
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  test("a failing step that spoke closes with failed; the error is the kit's, with its code", async () => {
    const core = streamingCore(["attempt 1 (TermServLicensing: Stopped)"], false);
    const run = kit.run(conn, wait);
    await core.running;
    core.finish();
    const err = await run.catch((e: unknown) => e);
    expect(isRdsError(err) && err.code).toBe("RDS_CLASS_NOT_READY");
    expect(lines).toEqual([
      "[rds] ls01.contoso.com: preparing the license server: attempt 1 (TermServLicensing: Stopped)",
      expect.stringMatching(/: preparing the license server: failed after .+ s$/),
    ]);
  });

  test("a step whose script said nothing prints nothing, its summary included", async () => {
    const core = streamingCore([]);
    const run = kit.run(conn, wait);
    await core.running;
    core.finish();
    await run;
    expect(lines).toEqual([]);
  });
});
