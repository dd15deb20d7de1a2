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
 * Secrets never reach the journal: an entry holds a fingerprint, scrypt(salt, HMAC-SHA256(key,
 * declaration)), keyed with a secret kept OUTSIDE the journal folder (journalKey.ts) and stretched with
 * a random per-directory salt: the journal folder alone (a backup, a copied CI cache) gives no way to
 * test a guessed agreement number, and with the key too every guess still costs a scrypt. Version 1
 * entries (scrypt without the key) are still read: the entry of the declaration at hand is recognised
 * by its old fingerprint and rewritten as version 2 (`resolveEntries`). Entries are one JSON file each
 * (0600, directory 0700), written atomically (temp file + rename), so concurrent creates never share
 * a file.
 *
 * Where: `$RDS_JOURNAL_DIR`, else `~/.pulumi-rds-licensing/journal`, on the machine that runs
 * `pulumi up` (read in the host process at call time, never captured by the serialized provider).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { userDataDir } from "../../paths";
import { journalKey as secretKey } from "./journalKey";

export type JournalStatus = "pending" | "installed" | "returned";

export interface JournalEntry {
  /** 1: fingerprint = scrypt(salt, declaration); 2: scrypt(salt, HMAC(key, declaration)) under `keyId`. */
  version: 1 | 2;
  /** Version 2: which key made the fingerprints (journalKey.ts `keyId`): under another key they cannot be compared. */
  keyId?: string;
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
  return path.join(userDataDir(), "journal");
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

/** The canonical JSON of a declaration (which holds the secret data). */
function canonical(declaration: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(declaration)
      .sort()
      .map((k) => [k, declaration[k] ?? null]),
  );
}

function stretch(text: string, dir: string): Promise<string> {
  const s = salt(dir);
  return new Promise((resolve, reject) => {
    crypto.scrypt(text, s, 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key.toString("hex"))));
  });
}

/** The fingerprint of a declaration (version 2): scrypt(salt, HMAC-SHA256(key, canonical JSON)). */
export async function fingerprint(declaration: Record<string, unknown>, dir: string = journalDir()): Promise<string> {
  const keyed = crypto.createHmac("sha256", secretKey().key).update(canonical(declaration)).digest("hex");
  return stretch(keyed, dir);
}

/** The version 1 fingerprint (scrypt(salt, canonical JSON)): only to recognise entries written before the key. */
export async function fingerprintV1(declaration: Record<string, unknown>, dir: string = journalDir()): Promise<string> {
  return stretch(canonical(declaration), dir);
}

/** The id of the key fingerprints are made with now (written into every version 2 entry). */
export function currentKeyId(): string {
  return secretKey().keyId;
}

/** A version 2 entry made under another key: its fingerprints cannot be compared with this declaration's. */
export function isUnverifiable(e: JournalEntry): boolean {
  return e.version === 2 && e.keyId !== currentKeyId();
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
      if (e && (e.version === 1 || e.version === 2) && e.host === want) out.push(e);
    } catch {
      // A torn or foreign file: ignore it.
    }
  }
  return out;
}

export function newEntry(fields: Omit<JournalEntry, "version" | "keyId" | "createdAt" | "updatedAt">): JournalEntry {
  const now = new Date().toISOString();
  return { version: 2, keyId: currentKeyId(), ...fields, host: fields.host.toLowerCase(), createdAt: now, updatedAt: now };
}

export function withStatus(entry: JournalEntry, status: JournalStatus, keyPackId?: number): JournalEntry {
  return {
    ...entry,
    status,
    ...(keyPackId === undefined ? {} : { keyPackId }),
    updatedAt: new Date().toISOString(),
  };
}

/** A declaration as the journal knows it: its journalKey and its (version 2) fingerprints. */
export interface JournalIdentity {
  journalKey: string;
  fingerprint: string;
  codeFingerprint?: string;
}

/**
 * The entries of a host, with this declaration's version 1 entries upgraded: an entry written before
 * the key (version 1) whose journalKey and old fingerprint are this declaration's is rewritten as
 * version 2 (the old file removed), so adoption keeps working across the upgrade and the old
 * fingerprint leaves the disk. Other resources' version 1 entries stay as they are (their declarations
 * are not known here); they still claim their packs. The old fingerprint is only computed while
 * version 1 entries of this journalKey exist on this host.
 */
export async function resolveEntries(
  host: string,
  me: JournalIdentity,
  content: Record<string, unknown>,
  dir: string = journalDir(),
): Promise<JournalEntry[]> {
  const entries = entriesFor(host, dir);
  const old = entries.filter((e) => e.version === 1 && e.journalKey === me.journalKey);
  if (old.length === 0) return entries;
  const v1 = await fingerprintV1(content, dir);
  return entries.map((e) => {
    if (!old.includes(e) || e.fingerprint !== v1) return e;
    const upgraded: JournalEntry = {
      ...e,
      version: 2,
      keyId: currentKeyId(),
      fingerprint: me.fingerprint,
      ...(e.codeFingerprint === undefined ? {} : { codeFingerprint: me.codeFingerprint }),
    };
    writeEntry(upgraded, dir);
    removeEntry(e, dir);
    return upgraded;
  });
}

/**
 * The entries this declaration can be compared with: an entry of the same journalKey written under
 * another key (the key file was lost or replaced) may be this resource's own, unprovable now, so it
 * claims nothing: its pack stays a candidate (RDS_AMBIGUOUS_PACK asks), never silently skipped and
 * installed again. Other resources' entries claim their packs whatever their key.
 */
export function comparableEntries(entries: readonly JournalEntry[], me: Pick<JournalIdentity, "journalKey">): JournalEntry[] {
  return entries.filter((e) => !(isUnverifiable(e) && e.journalKey === me.journalKey));
}
