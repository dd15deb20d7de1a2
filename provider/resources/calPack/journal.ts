/**
 * The install journal: what makes "never install twice" hold across a crash (README, "Never twice").
 *
 * Before install.ps1 runs, create writes an entry `pending` with the KeyPackIds present before the
 * call; when the call returns it records `installed` with the new KeyPackId; just before create
 * returns to the engine it records `returned`. A later create for the same resource and the same
 * declaration finds the entry:
 * - `installed` (KeyPackId known) and the pack still there: the install happened and the engine never
 *   heard of it: adopt that pack (proven identity, not a guess);
 * - `pending`: the one pack that appeared since (matching the declaration) is ours; none means the
 *   call never installed anything (install again); several means RDS_AMBIGUOUS_PACK;
 * - `returned`: the engine got the pack; a second create with the same declaration is a forced
 *   replacement or a lost state, which the ambiguity check handles (never silently).
 * Entries `returned`/`installed` of other resources also keep their packs out of the ambiguity
 * candidates (those packs are claimed). Delete removes the entries of the pack it removes.
 *
 * Secrets never reach the journal: an entry holds a fingerprint, scrypt(salt, declaration) with a
 * random per-directory salt and a deliberately slow cost, so a 7-digit agreement number cannot be
 * recovered by trying every value. Entries are one JSON file each (0600, directory 0700), written
 * atomically (temp file + rename), so concurrent creates never share a file.
 *
 * Where: `$RDS_JOURNAL_DIR`, else `~/.pulumi-rds-licensing/journal`, on the machine that runs
 * `pulumi up` (read in the host process at call time, never captured by the serialized provider).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export type JournalStatus = "pending" | "installed" | "returned";

export interface JournalEntry {
  version: 1;
  /** "<project>/<stack>/<resource name>" from the class ("" when the provider is used without it). */
  journalKey: string;
  /** The license server host, lower case. */
  host: string;
  /** scrypt fingerprint of the declaration (program, secret data, version, type, quantity, host). */
  fingerprint: string;
  /**
   * scrypt fingerprint of a single-use code alone (retail license code, license key pack id): tells
   * which resource already installed a code the Clearinghouse refuses as used. Absent for the
   * agreement and Open License programs (their numbers are not single use).
   */
  codeFingerprint?: string;
  status: JournalStatus;
  /** Known once install.ps1 returned (or adoption chose it). */
  keyPackId?: number;
  /** The KeyPackIds on the server just before the install call. */
  packsBefore: number[];
  /** Not secret: for a human reading the journal. */
  program: string;
  productVersion: string;
  calType: string;
  createdAt: string;
  updatedAt: string;
}

/** scrypt cost: N = 2^15 takes about 50-100 ms here; every guess of a secret costs the same. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

export function journalDir(): string {
  const fromEnv = process.env.RDS_JOURNAL_DIR;
  if (fromEnv && fromEnv.trim() !== "") return path.resolve(fromEnv);
  return path.join(os.homedir(), ".pulumi-rds-licensing", "journal");
}

function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** The per-directory salt, created once (exclusively, so two processes agree on one salt). */
function salt(dir: string): Buffer {
  ensureDir(dir);
  const file = path.join(dir, "salt");
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const hex = fs.readFileSync(file, "utf8").trim();
      if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, "hex");
      // Another process is between create and write: wait a little.
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      try {
        const fd = fs.openSync(file, "wx", 0o600);
        const value = crypto.randomBytes(32);
        fs.writeSync(fd, value.toString("hex"));
        fs.closeSync(fd);
        return value;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  throw new Error(`reading the install journal salt in ${dir}: the file stays malformed; remove it`);
}

/** The fingerprint of a declaration: scrypt over its canonical JSON (which holds the secret data). */
export function fingerprint(declaration: Record<string, unknown>, dir: string = journalDir()): Promise<string> {
  const text = JSON.stringify(
    Object.keys(declaration)
      .sort()
      .map((k) => [k, declaration[k] ?? null]),
  );
  const s = salt(dir);
  return new Promise((resolve, reject) => {
    crypto.scrypt(text, s, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key.toString("hex"))));
  });
}

function entryFile(dir: string, e: Pick<JournalEntry, "host" | "journalKey" | "fingerprint">): string {
  const name = crypto.createHash("sha256").update(`${e.host}\u0000${e.journalKey}\u0000${e.fingerprint}`).digest("hex");
  return path.join(dir, `${name}.json`);
}

/** Writes (or replaces) an entry atomically. */
export function writeEntry(entry: JournalEntry, dir: string = journalDir()): void {
  ensureDir(dir);
  const file = entryFile(dir, entry);
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(entry, null, 2));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function removeEntry(entry: JournalEntry, dir: string = journalDir()): void {
  try {
    fs.unlinkSync(entryFile(dir, entry));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

/** Every entry for a host (files that do not parse are skipped: a journal never blocks an operation). */
export function entriesFor(host: string, dir: string = journalDir()): JournalEntry[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: JournalEntry[] = [];
  const want = host.toLowerCase();
  for (const name of names) {
    if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
    try {
      const e = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as JournalEntry;
      if (e && e.version === 1 && e.host === want) out.push(e);
    } catch {
      // A torn or foreign file: ignore it.
    }
  }
  return out;
}

export function newEntry(fields: Omit<JournalEntry, "version" | "createdAt" | "updatedAt">): JournalEntry {
  const now = new Date().toISOString();
  return { version: 1, ...fields, host: fields.host.toLowerCase(), createdAt: now, updatedAt: now };
}

export function withStatus(entry: JournalEntry, status: JournalStatus, keyPackId?: number): JournalEntry {
  return {
    ...entry,
    status,
    ...(keyPackId === undefined ? {} : { keyPackId }),
    updatedAt: new Date().toISOString(),
  };
}
