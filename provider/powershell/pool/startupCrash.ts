/**
 * What to tell the user when a pwsh crashed before it answered its first command.
 *
 * A pwsh that dies at start with SIGSEGV or SIGABRT (or, on Windows, an access violation, a stack
 * overflow or a .NET fail-fast) has, as its best-known cause, a corrupt startup profile in the
 * account's PowerShell cache folder: pwsh processes of one account that exit together can leave it
 * corrupt, and every later pwsh of that account then dies the same way until the file is deleted
 * (PowerShell/PowerShell#26528, dotnet/runtime#121977; seen in this project's ssh lab, where every
 * remote pwsh then exited with 139). The provider's own pwsh on Linux and macOS cannot hit it
 * (startupProfile.ts); a target's pwsh, or the provider's on Windows, can. Nothing here is retried:
 * every new pwsh of that account would crash the same way.
 */

/** A crash by a signal, as a shell reports its child's (128 + the signal number): the ssh exec channel's remote shell. */
const CRASH_EXIT_CODES = new Map<number, string>([
  [132, "SIGILL"],
  [134, "SIGABRT"],
  [135, "SIGBUS"],
  [139, "SIGSEGV"],
]);

const CRASH_SIGNALS = new Set<string>(["SIGILL", "SIGABRT", "SIGBUS", "SIGSEGV"]);

/**
 * Windows exit codes of a crashed process (NTSTATUS, and the .NET runtime's internal error), unsigned
 * and signed as they may arrive. Unverified here (no Windows): which of them a crash reaches us with.
 */
const WINDOWS_CRASH_CODES = new Map<number, string>([
  [0xc0000005, "access violation"],
  [0xc00000fd, "stack overflow"],
  [0xc0000409, "fail fast"],
  [0x80131506, ".NET runtime internal error"],
]);

/** The kind of crash an exit is (`SIGSEGV`, `access violation`...), or undefined for an ordinary exit. */
export function crashKind(exitCode: number | null, signal: string | null): string | undefined {
  if (signal !== null) return CRASH_SIGNALS.has(signal) ? signal : undefined;
  if (exitCode === null) return undefined;
  return CRASH_EXIT_CODES.get(exitCode) ?? WINDOWS_CRASH_CODES.get(exitCode >>> 0);
}

/** The sentence a crash before the first answer adds to the session's error: the likely cause and its fix. */
export function startupCrashAdvice(kind: string): string {
  return (
    `pwsh crashed (${kind}) before it answered; a known cause is a corrupt PowerShell startup profile of that account, ` +
    "left by pwsh processes that exited together (PowerShell issue 26528): delete StartupProfileData-NonInteractive " +
    "and StartupProfileData-SSHServerMode from its PowerShell cache folder (~/.cache/powershell on Linux and macOS, " +
    "%LOCALAPPDATA%\\Microsoft\\PowerShell on Windows; %LOCALAPPDATA%\\Microsoft\\Windows\\PowerShell for Windows PowerShell 5.1), " +
    "then run again"
  );
}

/** `; text` to end a message with, or nothing. */
export function suffix(text: string | undefined): string {
  return text === undefined ? "" : `; ${text}`;
}
