/**
 * The envelope (JSON in): how an operation's arguments reach a script without ever being part of
 * PowerShell source text. The runner writes `{operation, host, args}` as base64 of UTF-8 JSON to a
 * file with a random name in a private temp directory (0700 directory, 0600 file); Bootstrap.ps1
 * reads and deletes it; the runner deletes it again in a finally in case pwsh never got to it.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface Envelope {
  /** Operation name, e.g. "licenseServer.read". */
  operation: string;
  host: string;
  args: Record<string, unknown>;
}

let privateDir: string | undefined;

/** The process's private envelope directory (created 0700 on first use, removed at exit by the pool). */
export function envelopeDir(): string {
  if (privateDir !== undefined && fs.existsSync(privateDir)) return privateDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-envelopes-"));
  fs.chmodSync(dir, 0o700);
  privateDir = dir;
  return dir;
}

/** Removes the private envelope directory (at process exit). Synchronous, never throws. */
export function removeEnvelopeDir(): void {
  if (privateDir === undefined) return;
  try {
    fs.rmSync(privateDir, { recursive: true, force: true });
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
  const file = path.join(envelopeDir(), `${crypto.randomBytes(16).toString("hex")}.env`);
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
