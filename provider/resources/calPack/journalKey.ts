/**
 * The install journal's key: the secret the fingerprints are keyed with (HMAC), kept OUTSIDE the
 * journal folder, so that the journal folder alone (a backup, a CI cache, a folder shared between
 * machines) gives no way to test a guessed agreement number (README.md, "Never twice").
 *
 * Where: `$RDS_JOURNAL_KEY_FILE`, else `~/.pulumi-rds-licensing/journal.key` (beside the default
 * journal folder, not in it). 32 random bytes (hex), created once with O_EXCL (two processes agree on
 * one key), 0600 in a folder created 0700. A key file inside the journal folder, or readable by group
 * or others, is refused: either would put the key back next to what it protects.
 * Read in the host process at call time (never captured by the serialized provider), cached per path.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { userDataDir } from "../../paths";

export interface JournalKey {
  key: Buffer;
  /** Names the key in each entry without revealing it: the first 16 hex of SHA-256("rds-journal-key-id", key). */
  keyId: string;
}

export function journalKeyFile(): string {
  const fromEnv = process.env.RDS_JOURNAL_KEY_FILE;
  if (fromEnv && fromEnv.trim() !== "") return path.resolve(fromEnv);
  return path.join(userDataDir(), "journal.key");
}

function journalDirOf(): string {
  const fromEnv = process.env.RDS_JOURNAL_DIR;
  if (fromEnv && fromEnv.trim() !== "") return path.resolve(fromEnv);
  return path.join(userDataDir(), "journal");
}

const cache = new Map<string, JournalKey>();

function readKey(file: string): Buffer | undefined {
  let text: string;
  try {
    const st = fs.statSync(file);
    if ((st.mode & 0o077) !== 0)
      throw new Error(`the install journal key ${file} is readable by other users (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it`);
    text = fs.readFileSync(file, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return /^[0-9a-f]{64}$/.test(text) ? Buffer.from(text, "hex") : undefined;
}

function createKey(file: string): Buffer | undefined {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = crypto.randomBytes(32);
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  // Written in full under a temporary name, then linked in place exclusively: a reader never sees half a key.
  fs.writeFileSync(tmp, value.toString("hex"), { mode: 0o600, flag: "wx" });
  try {
    fs.linkSync(tmp, file);
    return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined; // another process made it first
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The key (created on first use). */
export function journalKey(): JournalKey {
  const file = journalKeyFile();
  const cached = cache.get(file);
  if (cached) return cached;
  const rel = path.relative(journalDirOf(), file);
  if (!rel.startsWith("..") && !path.isAbsolute(rel))
    throw new Error(`the install journal key ${file} lies inside the journal folder: set RDS_JOURNAL_KEY_FILE outside it`);
  let key = readKey(file) ?? createKey(file) ?? readKey(file);
  if (!key)
    throw new Error(`the install journal key ${file} is malformed (64 hex digits expected): restore it, or remove it to start a new key`);
  key = Buffer.from(key);
  const keyId = crypto.createHash("sha256").update("rds-journal-key-id\u0000").update(key).digest("hex").slice(0, 16);
  const value = { key, keyId };
  cache.set(file, value);
  return value;
}
