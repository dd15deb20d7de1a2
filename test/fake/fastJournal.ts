/**
 * The directories and the journal setup every in-process reliability test (test/reliability/*.fast.test.ts)
 * shares, registered as the calling file's beforeAll/afterAll:
 * - `stateDir`: the emulator state directory the connections name. The fake world keeps every host in
 *   memory and never writes there; only its parent is made (and removed after the file).
 * - `journalDir`: the CAL pack install journal (RDS_JOURNAL_DIR for the file's duration). The journal
 *   fsyncs every entry, so it lives on a RAM disk (/dev/shm) when there is one: the disk does not set
 *   the pace.
 * - the journal's key stretching (crypto.scrypt, 50-100 ms a fingerprint by design) is a keyed SHA-256:
 *   the journal's logic is unchanged, only the cost of a fingerprint is cut.
 *
 * Call it at the top level of the test file, before the file's own beforeAll hooks (they run after
 * these, in the order they were declared).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface FastJournal {
  /** Never written: the connections' stateDir (the fake world is in memory). */
  stateDir: string;
  /** The install journal's directory (RDS_JOURNAL_DIR while the file runs). */
  journalDir: string;
}

/** A keyed SHA-256 with scrypt's callback signature (salt as the key, truncated to keylen). */
function fastScrypt(
  password: crypto.BinaryLike,
  salt: crypto.BinaryLike,
  keylen: number,
  _options: unknown,
  done: (err: Error | null, key: Buffer) => void,
): void {
  done(
    null,
    crypto
      .createHmac("sha256", salt as Buffer)
      .update(password as string)
      .digest()
      .subarray(0, keylen),
  );
}

/** Makes the directories now; sets the journal up before the file's tests and takes it all down after. */
export function useFastJournal(name: string): FastJournal {
  const stateDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), `rel-${name}-`)), "never-written");
  const journalDir = fs.existsSync("/dev/shm")
    ? fs.mkdtempSync(`/dev/shm/rel-${name}-journal-`)
    : fs.mkdtempSync(path.join(os.tmpdir(), `rel-${name}-journal-`));
  let scrypt: jest.SpyInstance | undefined;

  beforeAll(() => {
    process.env.RDS_JOURNAL_DIR = journalDir;
    // The module object itself (an `import * as` namespace has read-only bindings), as the journal calls it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above: the mutable module object
    scrypt = jest.spyOn(require("crypto") as typeof crypto, "scrypt").mockImplementation(fastScrypt as unknown as typeof crypto.scrypt);
  });

  afterAll(() => {
    scrypt?.mockRestore();
    delete process.env.RDS_JOURNAL_DIR;
    fs.rmSync(journalDir, { recursive: true, force: true });
    fs.rmSync(path.dirname(stateDir), { recursive: true, force: true });
  });

  return { stateDir, journalDir };
}
