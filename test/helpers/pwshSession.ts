/**
 * A warm pwsh for script and emulator tests. Real: pwsh itself and whatever module the test imports
 * (usually the WMI emulator, provider/emulator/RdsEmulator.psm1). Nothing is mocked here.
 *
 * Protocol: pwsh runs `-Command -` and reads one line per request. Each request line calls a bootstrap
 * function with three base64 arguments (request id, the PowerShell source, the test data), so neither the
 * code nor the data is ever spliced into command text. The bootstrap runs the code with
 * `$ErrorActionPreference = 'Stop'`, converts its output with
 * `ConvertTo-Json -Depth 20 -Compress -EscapeHandling EscapeNonAscii` (ASCII only, so lone surrogates and
 * NUL survive the pipe) and prints it between two marker lines.
 *
 * Test data: every string inside `data` travels as base64 of its UTF-16 code units and is decoded in pwsh,
 * so strings arrive byte for byte (NUL, newlines, quotes, `$()`, backticks, RTL marks, lone surrogates).
 * The code sees it as `$data` (hashtables for objects, object[] for arrays).
 */
import { spawn, type ChildProcess } from "child_process";
import * as path from "path";
import { findPwsh } from "../../provider/powershell/executable";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const EMULATOR_MODULE = path.join(REPO_ROOT, "provider", "emulator", "RdsEmulator.psm1");

/**
 * The pwsh executable: $PWSH, else the runner's own lookup (executable.ts: RDS_PWSH, PATH,
 * ~/.dotnet/tools, the project-local .tools/pwsh that npm test installs on a machine without one),
 * else `pwsh` from PATH (whose failure to start then says so).
 */
export function pwshExecutable(): string {
  if (process.env.PWSH) return process.env.PWSH;
  const found = findPwsh();
  return found.found ? found.path : "pwsh";
}

/** A PowerShell error that ended a `run`: the exception type, message and (for WMI errors) the HRESULT. */
export class PwshError extends Error {
  readonly exceptionType: string;
  /** Unsigned HRESULT of the exception (e.g. 2147749904 for WBEM_E_INVALID_CLASS). */
  readonly hresult: number;
  readonly errorId: string;
  readonly scriptStackTrace: string;
  constructor(info: { message: string; type: string; hresult: number; errorId: string; stack: string }) {
    super(info.message);
    this.name = "PwshError";
    this.exceptionType = info.type;
    this.hresult = info.hresult;
    this.errorId = info.errorId;
    this.scriptStackTrace = info.stack;
  }
}

const BEGIN = "<<<RDS-TEST-BEGIN ";
const END = "<<<RDS-TEST-END ";

// Defines the request runner, the data decoder and Invoke-Captured (run a block, return its output or
// the error it raised as data). This text is a constant of the test harness, not built from any value.
const BOOTSTRAP = String.raw`
function global:ConvertFrom-RdsTestData($Value) {
  if ($null -eq $Value) { return $null }
  if ($Value -is [System.Collections.IDictionary]) {
    if ($Value.Count -eq 1 -and $Value.Contains('__u16')) {
      # Raw UTF-16 code units (Encoding.Unicode would replace a lone surrogate with U+FFFD).
      $bytes = [Convert]::FromBase64String([string]$Value['__u16'])
      $chars = [char[]]::new($bytes.Length / 2)
      [System.Buffer]::BlockCopy($bytes, 0, $chars, 0, $bytes.Length)
      return [string]::new($chars)
    }
    $h = [ordered]@{}
    foreach ($k in $Value.Keys) { $h[$k] = ConvertFrom-RdsTestData $Value[$k] }
    return $h
  }
  if ($Value -is [System.Collections.IList]) {
    $a = [object[]]::new($Value.Count)
    for ($i = 0; $i -lt $Value.Count; $i++) { $a[$i] = ConvertFrom-RdsTestData $Value[$i] }
    return ,$a
  }
  $Value
}
function global:ConvertTo-RdsUnsignedHResult([int]$HResult) { [BitConverter]::ToUInt32([BitConverter]::GetBytes($HResult), 0) }
function global:Invoke-Captured([scriptblock]$Script) {
  try {
    $o = & $Script
    [pscustomobject]@{ ok = $true; output = $o }
  } catch {
    [pscustomobject]@{
      ok = $false
      hresult = (ConvertTo-RdsUnsignedHResult $_.Exception.HResult)
      type = $_.Exception.GetType().FullName
      message = $_.Exception.Message
      errorId = $_.FullyQualifiedErrorId
    }
  }
}
function global:Invoke-RdsTestRequest([string]$Id, [string]$CodeB64, [string]$DataB64) {
  $ErrorActionPreference = 'Stop'
  $payload = $null
  try {
    $code = [System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($CodeB64))
    $dataJson = [System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($DataB64))
    $data = ConvertFrom-RdsTestData (ConvertFrom-Json -InputObject $dataJson -AsHashtable -DateKind String -NoEnumerate)
    $sb = [scriptblock]::Create('param($data)' + [Environment]::NewLine + $code)
    $result = & $sb $data
    $payload = '{"ok":true,"value":' + (ConvertTo-Json -InputObject $result -Depth 20 -Compress -EscapeHandling EscapeNonAscii) + '}'
  } catch {
    $err = [ordered]@{
      message = [string]$_.Exception.Message
      type = $_.Exception.GetType().FullName
      hresult = (ConvertTo-RdsUnsignedHResult $_.Exception.HResult)
      errorId = [string]$_.FullyQualifiedErrorId
      stack = [string]$_.ScriptStackTrace
    }
    $payload = '{"ok":false,"error":' + (ConvertTo-Json -InputObject $err -Compress -EscapeHandling EscapeNonAscii) + '}'
  }
  [Console]::Out.WriteLine('${BEGIN}' + $Id + '>>>')
  [Console]::Out.WriteLine($payload)
  [Console]::Out.WriteLine('${END}' + $Id + '>>>')
  [Console]::Out.Flush()
}
`;

/** Strings become { __u16: base64(UTF-16LE) } so that every code unit survives JSON and the pipe. */
function encodeData(value: unknown): unknown {
  if (typeof value === "string") return { __u16: Buffer.from(value, "utf16le").toString("base64") };
  if (Array.isArray(value)) return value.map(encodeData);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = encodeData(v);
    return out;
  }
  return value ?? null;
}

function b64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

interface Pending {
  id: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const live = new Set<PwshSession>();

/** Sessions started and not yet closed (tests assert this is empty at the end). */
export function liveSessionCount(): number {
  return live.size;
}

export class PwshSession {
  private readonly child: ChildProcess;
  private buffer = "";
  private stderr = "";
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private counter = 0;
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(child: ChildProcess) {
    this.child = child;
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => this.onStdout(chunk));
    child.stderr!.on("data", (chunk: string) => {
      this.stderr += chunk;
      if (this.stderr.length > 65536) this.stderr = this.stderr.slice(-65536);
    });
    this.exitPromise = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        this.exited = true;
        live.delete(this);
        if (this.pending) {
          clearTimeout(this.pending.timer);
          this.pending.reject(new Error(`pwsh exited (code ${code}, signal ${signal}) during a request; stderr:\n${this.stderr}`));
          this.pending = undefined;
        }
        resolve();
      });
    });
  }

  /** Start a warm pwsh (about a second) and install the request bootstrap. */
  static async start(options: { env?: NodeJS.ProcessEnv } = {}): Promise<PwshSession> {
    const child = spawn(pwshExecutable(), ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", "-"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    const session = new PwshSession(child);
    live.add(session);
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", () => resolve());
      child.once("error", reject);
    });
    // The bootstrap goes in as one line that decodes and dot-sources it.
    child.stdin!.write(
      `. ([scriptblock]::Create([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('${b64(BOOTSTRAP)}'))))\n`,
    );
    await session.run("$PSVersionTable.PSVersion.ToString()");
    return session;
  }

  /** Import the emulator module (globally) and point it at a state directory and the host "we are on". */
  async importEmulator(stateDir: string, hostName: string): Promise<void> {
    await this.run(
      "Import-Module -Name $data.module -Force -Global; Set-RdsEmulatorContext -StateDir $data.stateDir -HostName $data.hostName",
      { module: EMULATOR_MODULE, stateDir, hostName },
    );
  }

  /**
   * Run test-authored PowerShell. `$data` holds the decoded test data. Resolves with the output parsed from
   * ConvertTo-Json (null for no output, the item for one, an array for several); rejects with PwshError
   * when the code raises an error (ErrorActionPreference is Stop).
   */
  run<T = unknown>(psCode: string, data: unknown = null, timeoutMs = 90_000): Promise<T> {
    const next = this.queue.then(() => this.send<T>(psCode, data, timeoutMs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private send<T>(psCode: string, data: unknown, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`pwsh has exited; stderr:\n${this.stderr}`));
    const id = `r${++this.counter}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`pwsh request timed out after ${timeoutMs} ms; stderr:\n${this.stderr}`));
        this.child.kill("SIGKILL");
      }, timeoutMs);
      this.pending = { id, resolve: resolve as (v: unknown) => void, reject, timer };
      const dataJson = JSON.stringify(encodeData(data));
      this.child.stdin!.write(`Invoke-RdsTestRequest '${id}' '${b64(psCode)}' '${b64(dataJson)}'\n`);
    });
  }

  private onStdout(chunk: string): void {
    this.buffer += chunk;
    const pending = this.pending;
    if (!pending) return;
    const begin = `${BEGIN}${pending.id}>>>`;
    const end = `${END}${pending.id}>>>`;
    const b = this.buffer.indexOf(begin);
    const e = this.buffer.indexOf(end);
    if (b < 0 || e < 0) return;
    const body = this.buffer.slice(b + begin.length, e).trim();
    this.buffer = this.buffer.slice(e + end.length);
    clearTimeout(pending.timer);
    this.pending = undefined;
    let parsed: {
      ok: boolean;
      value?: unknown;
      error?: { message: string; type: string; hresult: number; errorId: string; stack: string };
    };
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      pending.reject(new Error(`unparseable pwsh output: ${body.slice(0, 500)} (${String(err)})`));
      return;
    }
    if (parsed.ok) pending.resolve(parsed.value ?? null);
    else pending.reject(new PwshError(parsed.error!));
  }

  /** Stop pwsh: `exit`, then SIGKILL if it has not gone within 5 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    try {
      this.child.stdin!.write("exit\n");
      this.child.stdin!.end();
    } catch {
      // stdin already closed: the exit wait below decides.
    }
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exitPromise;
    clearTimeout(timer);
  }
}
