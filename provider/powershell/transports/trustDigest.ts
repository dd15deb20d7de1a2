/**
 * The trust part of a remote target's pool key: a digest of every setting that decides whom a session
 * trusts and as whom it logs in (ssh: host keys, known_hosts file, password, key, passphrase; winrm:
 * user, password, certificate checks). Two connections to one endpoint share a warm session only
 * when all of these are equal, so a connection with another pinned host key, a wrong password or
 * `skipCertificateChecks` never rides on a session another connection opened: it opens its own, and
 * fails or succeeds on its own settings.
 *
 * Pool keys appear in log events and pool statistics, so the digest must not reveal a secret, not
 * even to a guess: it is an HMAC-SHA256 keyed with random bytes made when this module loads and kept
 * only in this process's memory (a key never reaches disk; another process computes other digests,
 * which is fine: pools are per process).
 */
import { createHmac, randomBytes } from "crypto";

const processKey = randomBytes(32);

/**
 * 32 hex characters that are equal for equal `settings` within this process and tell nothing about
 * them. `settings` must be JSON with a fixed key order (build it from an object literal).
 */
export function trustDigest(settings: Record<string, unknown>): string {
  return createHmac("sha256", processKey).update(JSON.stringify(settings)).digest("hex").slice(0, 32);
}
