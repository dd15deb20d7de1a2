/**
 * The envelope (JSON in): how an operation's arguments reach a script without ever being part of
 * PowerShell source text. The runner writes `{operation, host, args}` as base64 of UTF-8 JSON to a
 * file with a random name in a private temp directory (0700 directory, 0600 file); Bootstrap.ps1
 * reads and deletes it; the runner deletes it again in a finally in case pwsh never got to it. The
 * directory is checked (a real folder, our uid, 0700) before each envelope goes into it.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ErrorCode, RdsError } from "../errors";

export interface Envelope {
  /** Operation name, e.g. "licenseServer.read". */
  operation: string;
  host: string;
  args: Record<string, unknown>;
}

let privateDir: string | undefined;

/** The reason a folder that is simply gone gets (a temp cleaner removed it: a new one is made, silently). */
const MISSING = "it does not exist";

/**
 * Why a folder is not a private folder of this process, or undefined when it is: it must be a real
 * folder (lstat: a symlink is refused, never followed), owned by this process's user, mode 0700.
 */
export function unsafeFolderReason(dir: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? MISSING : `it cannot be examined (${(err as NodeJS.ErrnoException).code})`;
  }
  if (stat.isSymbolicLink()) return "it is a symbolic link";
  if (!stat.isDirectory()) return "it is not a folder";
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return `it is owned by uid ${stat.uid}, not by this process's uid ${uid}`;
  const mode = stat.mode & 0o777;
  if (process.platform !== "win32" && mode !== 0o700) return `its mode is ${mode.toString(8).padStart(4, "0")}, not 0700`;
  return undefined;
}

/** Thrown by envelopeDir when even a new folder fails the check; writeEnvelopeFile words it for the operation. */
class UnsafeFolderError extends Error {}

/** A new folder with a name nobody has used (mkdtemp), mode 0700, checked before it is used. */
function newPrivateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-envelopes-"));
  // mkdtemp asks for 0700 less the umask: a umask that takes the owner's own bits away is undone here.
  if (unsafeFolderReason(dir) !== undefined) fs.chmodSync(dir, 0o700);
  const reason = unsafeFolderReason(dir);
  if (reason !== undefined) {
    throw new UnsafeFolderError(`the private envelope folder ${dir} cannot be made safe to use: ${reason}`);
  }
  return dir;
}

/**
 * The process's private envelope folder: created fresh (0700) on first use, checked before every use,
 * removed when the pool closes or the process exits. A folder that is no longer ours as it was made
 * (its mode loosened, its owner changed, turned into a symlink, or removed and made again by someone
 * else) is abandoned, neither written to nor removed, and a new folder with a new name takes its
 * place: no envelope ever goes into a folder another user could read. One stderr line says so.
 * Throws UnsafeFolderError when even a new folder fails the check (a temp folder on a file system
 * that ignores modes, say).
 */
export function envelopeDir(): string {
  if (privateDir !== undefined) {
    const reason = unsafeFolderReason(privateDir);
    if (reason === undefined) return privateDir;
    if (reason !== MISSING) {
      process.stderr.write(
        `pulumi-rds-licensing: the private envelope folder ${privateDir} is no longer safe (${reason}); it is left alone and a new one is used\n`,
      );
    }
    privateDir = undefined;
  }
  privateDir = newPrivateDir();
  return privateDir;
}

/** Removes the private envelope folder (pool closed, process exit) if it is still ours. Synchronous, never throws. */
export function removeEnvelopeDir(): void {
  if (privateDir === undefined) return;
  try {
    if (unsafeFolderReason(privateDir) === undefined) fs.rmSync(privateDir, { recursive: true, force: true });
  } catch {
    // best effort at exit
  }
  privateDir = undefined;
}

/** base64 of the UTF-8 JSON of an envelope. Throws a plain Error (no contents) if it cannot be serialized. */
export function encodeEnvelope(envelope: Envelope): string {
  let json: string;
  try {
    json = JSON.stringify(envelope);
  } catch (err) {
    // The message of a JSON error names a type (BigInt, circular), never a value.
    throw new Error(`the operation arguments cannot be serialized to JSON: ${(err as Error).message}`);
  }
  return Buffer.from(json, "utf8").toString("base64");
}

/** Writes an envelope to a new 0600 file with a random name in the private directory; returns its absolute path. */
export function writeEnvelopeFile(envelope: Envelope): string {
  const encoded = encodeEnvelope(envelope);
  let dir: string;
  try {
    dir = envelopeDir();
  } catch (err) {
    if (!(err instanceof UnsafeFolderError)) throw err;
    // Nothing ran: the provider refuses to write the arguments (secrets among them) where others could read them.
    throw new RdsError(
      ErrorCode.HostUnreachable,
      `running ${envelope.operation} on ${envelope.host}: ${err.message}; the operation was not run (check the temp folder, $TMPDIR)`,
      { host: envelope.host, operation: envelope.operation },
    );
  }
  const file = path.join(dir, `${crypto.randomBytes(16).toString("hex")}.env`);
  fs.writeFileSync(file, encoded, { mode: 0o600, flag: "wx" });
  return file;
}

/** Deletes an envelope file if it is still there. Never throws. */
export function removeEnvelopeFile(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // already gone, or the directory was removed at exit
  }
}

/**
 * A PowerShell single-quoted string literal for a trusted value (a package or temp path). Doubles
 * every character PowerShell treats as a single quote (' and the curly quotes U+2018..U+201B).
 * Refuses control characters: a command is one line of stdin. Never use it for user values: those
 * travel in envelope files.
 */
export function quotePowerShellLiteral(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) {
    throw new Error("a path in a pwsh command must not contain control characters or line separators");
  }
  return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, (quote) => quote + quote)}'`;
}

/** The one command that runs an operation. Only two paths appear in it: the script and the envelope file. */
export function operationCommand(scriptPath: string, envelopePath: string): string {
  return `Invoke-RdsOperation -ScriptPath ${quotePowerShellLiteral(scriptPath)} -EnvelopePath ${quotePowerShellLiteral(envelopePath)}`;
}
