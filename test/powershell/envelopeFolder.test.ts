/**
 * The private envelope folder is checked before each use: a real folder (not a symlink), owned by
 * this process's user, mode 0700. A folder that no longer passes (its mode loosened, its owner
 * changed, replaced by a symlink, or removed and made again by someone else) is left alone, never
 * written to nor removed, and a new folder with a new name takes its place; when even a new folder
 * cannot be made safe, the operation is refused with RDS_HOST_UNREACHABLE naming the folder.
 *
 * Real: envelope.ts, the file system under the OS temp folder, chmod / chown / symlink (the owner
 * cases need root, which CI has; they are skipped when the tests do not run as root).
 * Stand-ins: for the refusal, `fs.mkdtempSync` is made to hand back a folder that is 0777 whatever
 * chmod does (the one way to get an unsafe new folder without a special file system); process.stderr
 * is captured to read the warning line.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ErrorCode, isRdsError } from "../../provider/errors";
import { removeEnvelopeDir, unsafeFolderReason, writeEnvelopeFile } from "../../provider/powershell/envelope";
import { removeTempDirs, tempDir } from "./support";

const envelope = { operation: "test.echo", host: "ls01.contoso.com", args: { secret: "s3cr3t-value" } };
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

let stderrLines: string[] = [];
let stderrSpy: jest.SpyInstance;

beforeEach(() => {
  stderrLines = [];
  stderrSpy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderrLines.push(chunk.toString());
    return true;
  });
});

afterEach(() => {
  stderrSpy.mockRestore();
  jest.restoreAllMocks();
  removeEnvelopeDir();
});

afterAll(() => removeTempDirs());

/** Writes an envelope and returns the folder it went into. */
function writeOne(): string {
  const file = writeEnvelopeFile(envelope);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  return path.dirname(file);
}

/** The folder a test tampered with: its content must not change and the pool must not remove it. */
function expectAbandoned(old: string, contentBefore: string[]): void {
  const now = writeOne();
  expect(now).not.toBe(old);
  expect(unsafeFolderReason(now)).toBeUndefined();
  expect(fs.readdirSync(old).sort()).toEqual(contentBefore);
  removeEnvelopeDir();
  expect(fs.existsSync(now)).toBe(false);
  expect(fs.existsSync(old)).toBe(true); // not ours any more: left alone
  expect(stderrLines.join("")).toContain(`the private envelope folder ${old} is no longer safe`);
  expect(stderrLines.join("")).not.toContain("s3cr3t-value");
}

describe("the private envelope folder", () => {
  it("is created fresh, 0700, owned by this user, and kept while it stays so", () => {
    const first = writeOne();
    expect(path.dirname(first)).toBe(os.tmpdir());
    expect(path.basename(first)).toMatch(/^rds-envelopes-/);
    expect(unsafeFolderReason(first)).toBeUndefined();
    expect(writeOne()).toBe(first);
    expect(stderrLines).toEqual([]);
  });

  it("is replaced by a new one, silently, when a temp cleaner removed it", () => {
    const first = writeOne();
    fs.rmSync(first, { recursive: true });
    const second = writeOne();
    expect(second).not.toBe(first);
    expect(stderrLines).toEqual([]);
  });

  it("is abandoned when its mode was loosened to 0777", () => {
    const old = writeOne();
    fs.chmodSync(old, 0o777);
    expect(unsafeFolderReason(old)).toBe("its mode is 0777, not 0700");
    const content = fs.readdirSync(old).sort();
    expectAbandoned(old, content);
    fs.rmSync(old, { recursive: true, force: true });
  });

  it("is abandoned when it was replaced by a symlink to a folder of someone else's choosing", () => {
    const old = writeOne();
    fs.rmSync(old, { recursive: true });
    const elsewhere = tempDir("rds-envelope-elsewhere");
    fs.chmodSync(elsewhere, 0o700);
    fs.symlinkSync(elsewhere, old);
    expect(unsafeFolderReason(old)).toBe("it is a symbolic link");
    expectAbandoned(old, []);
    expect(fs.readdirSync(elsewhere)).toEqual([]); // nothing went through the link
    fs.rmSync(old, { force: true });
  });

  (isRoot ? it : it.skip)("is abandoned when another user owns it (as root: chown to nobody)", () => {
    const old = writeOne();
    fs.chownSync(old, NOBODY, NOBODY);
    expect(unsafeFolderReason(old)).toBe(`it is owned by uid ${NOBODY}, not by this process's uid 0`);
    expectAbandoned(old, fs.readdirSync(old).sort());
    fs.rmSync(old, { recursive: true, force: true });
  });

  (isRoot ? it : it.skip)("is abandoned when it was removed and made again by another user under the same name", () => {
    const old = writeOne();
    fs.rmSync(old, { recursive: true });
    fs.mkdirSync(old, { mode: 0o700 });
    fs.chownSync(old, NOBODY, NOBODY);
    expectAbandoned(old, []);
    fs.rmSync(old, { recursive: true, force: true });
  });

  it("refuses the operation, naming the folder, when even a new folder cannot be made safe", () => {
    const loose = tempDir("rds-envelope-loose");
    fs.chmodSync(loose, 0o777);
    // The fs module object itself (this file's `fs` is a namespace copy whose properties cannot be spied on).
    const fsModule = jest.requireActual<typeof fs>("fs");
    jest.spyOn(fsModule, "mkdtempSync").mockReturnValue(loose);
    // A file system that ignores modes: chmod succeeds and changes nothing.
    jest.spyOn(fsModule, "chmodSync").mockImplementation(() => undefined);
    let caught: unknown;
    try {
      writeEnvelopeFile(envelope);
    } catch (err) {
      caught = err;
    }
    expect(isRdsError(caught)).toBe(true);
    if (!isRdsError(caught)) return;
    expect(caught.code).toBe(ErrorCode.HostUnreachable);
    expect(caught.host).toBe(envelope.host);
    expect(caught.operation).toBe(envelope.operation);
    expect(caught.message).toBe(
      `running test.echo on ls01.contoso.com: the private envelope folder ${loose} cannot be made safe to use: its mode is 0777, not 0700; the operation was not run (check the temp folder, $TMPDIR)`,
    );
    expect(fs.readdirSync(loose)).toEqual([]);
  });
});
