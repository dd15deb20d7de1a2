/**
 * Progress records streamed out of a RUNNING operation script (Write-RdsProgress, RdsCommon.psm1) reach
 * the runner's `onProgress` while the script still runs: locally (the simulator's warm pwsh) and over
 * ssh (the record crosses Invoke-Command's information stream from the far side). Liveness is proved by
 * a handshake, not by time: the fixture says its first line, then waits for a file that this test
 * creates only when it has received that line; `sawGo` in the result says the file came.
 *
 * Real: the runner, the pool, the warm pwsh, Bootstrap.ps1 and RdsCommon.psm1; over ssh a real sshd on
 * 127.0.0.1 (test/transports/sshLab.ts) and PowerShell SSH remoting, the fixture shipped to the far
 * side. Stands in: the operation script (test/powershell/fixtures/Progress.ps1).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { z } from "zod";
import { isRdsError, type RdsError } from "../../provider/errors";
import { closeAll } from "../../provider/powershell/pool";
import { runOperation } from "../../provider/powershell/runner";
import type { Connection } from "../../provider/powershell/transport";
import { SshLab } from "../transports/sshLab";

jest.setTimeout(180_000);

const FIXTURE = path.join(__dirname, "fixtures", "Progress.ps1");
const LINES = ["first: attempt 1 (TermServLicensing: StartPending)", "second, non-ASCII kept: Zürich – ok", "third"];

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await closeAll();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the fixture on `connection` with the handshake in `goDir`; returns what reached onProgress (in
 * order) and the result, or the error.
 */
async function runWithHandshake(connection: Connection, goDir: string, extra: Record<string, unknown> = {}) {
  const goFile = path.join(goDir, "go");
  const received: string[] = [];
  const onProgress = (text: string) => {
    received.push(text);
    if (received.length === 1) fs.writeFileSync(goFile, "", { mode: 0o644 });
  };
  const run = runOperation(connection, {
    name: "test.progress",
    script: FIXTURE,
    args: { lines: LINES, goFile, waitSeconds: 60, fail: false, plainStderr: false, ...extra },
    result: z.object({ sawGo: z.boolean() }),
    onProgress,
  });
  return { received, run };
}

describe("locally (the simulator's warm pwsh)", () => {
  test("each line reaches onProgress while the script runs, in order, and nothing else does", async () => {
    const stateDir = tempDir("rds-progress-");
    const { received, run } = await runWithHandshake({ transport: "simulator", host: "ls01", stateDir }, tempDir("rds-go-"));
    expect(await run).toEqual({ sawGo: true });
    expect(received).toEqual(LINES);
  });

  test("a failing script's stderr keeps its own lines and not the progress lines; the lines still arrive", async () => {
    const stateDir = tempDir("rds-progress-");
    const { received, run } = await runWithHandshake({ transport: "simulator", host: "ls01", stateDir }, tempDir("rds-go-"), {
      fail: true,
      plainStderr: true,
    });
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRdsError(err)).toBe(true);
    const stderr = (err as RdsError).stderr ?? "";
    expect(stderr).toContain("a plain stderr line, not progress");
    expect(stderr).not.toContain("rds-progress");
    expect(stderr).not.toContain("first: attempt 1");
    expect(received).toEqual(LINES);
  });

  test("without a listener the script runs as before", async () => {
    const stateDir = tempDir("rds-progress-");
    const result = await runOperation(
      { transport: "simulator", host: "ls01", stateDir },
      {
        name: "test.progress",
        script: FIXTURE,
        args: { lines: LINES, goFile: "", waitSeconds: 0, fail: false, plainStderr: false },
        result: z.object({ sawGo: z.boolean() }),
      },
    );
    expect(result).toEqual({ sawGo: false });
  });
});

describe("over ssh (a real sshd, the script on the far side)", () => {
  const lab = new SshLab();
  beforeAll(() => lab.start(), 60_000);
  afterAll(async () => {
    await closeAll();
    await lab.stop();
  });

  test("each line crosses Invoke-Command while the script runs, in order; the password is in none", async () => {
    const stateDir = tempDir("rds-progress-ssh-");
    // The far side (the lab account) reads the go file: it lives in the state directory the lab shares.
    const connection = lab.connection("ls01.contoso.com", stateDir, "password");
    const { received, run } = await runWithHandshake(connection, stateDir);
    expect(await run).toEqual({ sawGo: true });
    expect(received).toEqual(LINES);
    for (const line of received) expect(line).not.toContain(lab.password);
  });
});
