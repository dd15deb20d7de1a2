/**
 * Progress lines: one line per event of long work, on the provider host's stderr, so that a user of
 * `pulumi up` sees a role install, a service wait or a Clearinghouse call move.
 *
 * Why stderr: the Pulumi CLI reads the dynamic-provider host's stdout (after the port line) and
 * stderr line by line and shows every non-blank line as an info diagnostic of the update
 * (pkg/resource/plugin/plugin.go). The SDK's `pulumi.log` has no engine connection in that host (it
 * falls back to console.log), so a plain stderr line is the channel. provider/powershell/README.md
 * ("Progress lines") documents the format:
 *
 *     [rds] ls01.contoso.com: installing the RDS-Licensing role: started (Install-WindowsFeature RDS-Licensing)
 *     [rds] ls01.contoso.com: installing the RDS-Licensing role: still running (30 s)
 *     [rds] ls01.contoso.com: installing the RDS-Licensing role: done in 2 min 14 s
 *
 * A line names the host (host names are not secret) and what the step does; never a connection
 * field other than the host, never an envelope value. The texts a script streams are its own
 * wording (no secret by contract, and scrubbed again by the caller).
 *
 * `RDS_PROGRESS=0` silences every line; `RDS_PROGRESS_INTERVAL_SECONDS` (default 30) sets how often a
 * running step says it is still running. Tests replace the sink (`setProgressSink`).
 */

/** Where each line goes (without its newline). */
export type ProgressSink = (line: string) => void;

/** The prefix of every line: greppable, and what the bundled harness forwards from the host's stderr. */
export const PROGRESS_PREFIX = "[rds]";

/** How often a running step says so, by default (ms). */
export const DEFAULT_INTERVAL_MS = 30_000;

/** Longest text of one line: a script's text is its own, and one event must stay one readable line. */
const MAX_TEXT = 400;

const stderrSink: ProgressSink = (line) => {
  process.stderr.write(`${line}\n`);
};

let sink: ProgressSink = stderrSink;

/** Sends every line to `next` from now on (a test's recorder); `undefined` puts stderr back. */
export function setProgressSink(next: ProgressSink | undefined): void {
  sink = next ?? stderrSink;
}

/** False when `RDS_PROGRESS=0` (read at each event, so a test or a program may switch it). */
export function progressEnabled(): boolean {
  return process.env.RDS_PROGRESS !== "0";
}

/** The ticker interval: `RDS_PROGRESS_INTERVAL_SECONDS` (a positive number, fractions allowed), else 30 s. */
export function progressIntervalMs(): number {
  const raw = process.env.RDS_PROGRESS_INTERVAL_SECONDS;
  const seconds = raw === undefined || raw.trim() === "" ? NaN : Number(raw);
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(10, Math.round(seconds * 1000)) : DEFAULT_INTERVAL_MS;
}

/** "0.4 s", "12 s", "2 min 14 s", "1 h 3 min": for people, never asserted on. */
export function formatElapsed(ms: number): string {
  const safe = Math.max(0, ms);
  if (safe < 10_000) return `${(Math.round(safe / 100) / 10).toFixed(1)} s`;
  const totalSeconds = Math.round(safe / 1000);
  if (totalSeconds < 60) return `${totalSeconds} s`;
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes} min ${totalSeconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** One line of text: control characters (newlines included) become spaces, long texts are cut. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT - 1)}…` : flat;
}

/** The line for one event on one host. */
export function progressLine(host: string, text: string): string {
  return `${PROGRESS_PREFIX} ${oneLine(host)}: ${oneLine(text)}`;
}

/** Writes one event's line (unless silenced). A failing sink never fails the operation it reports on. */
export function reportProgress(host: string, text: string): void {
  if (!progressEnabled()) return;
  try {
    sink(progressLine(host, text));
  } catch {
    // Progress is a courtesy: a closed stderr must not turn a working deployment into a failed one.
  }
}

/** The progress of one step (one operation script) while it runs. */
export interface StepProgress {
  /** A line the running script streamed: `<label>: <text>`. */
  note(text: string): void;
  /**
   * The step succeeded: stops the ticker and, when the step said anything (a note, or it was
   * announced), closes with `<label>: <summary, default "done"> in <elapsed>`.
   */
  done(summary?: string): void;
  /** The step failed: stops the ticker; closes with `<label>: failed after <elapsed>` when it said anything. */
  failed(): void;
}

export interface StepProgressOptions {
  /** Print `<label>: started` at once (for a step that is long whatever it finds). Default false. */
  announce?: boolean;
  /** The ticker interval (ms). Default `progressIntervalMs()`. */
  intervalMs?: number;
  /** The clock (ms), for tests. Default Date.now. */
  now?: () => number;
}

/**
 * Starts following one step on `host`. Once the step has said something (its script's first line, or
 * "started" when announced), a ticker says `<label>: still running (<elapsed>)` every interval until
 * it ends, and the close says how long it took; elapsed times count from that first line, the start
 * of the work the user was told about (not the wait for a pwsh or for the operations queued before).
 * A step that says nothing stays silent, however long it takes: only the work a script announces
 * (a role install, a service wait, a Clearinghouse call, a pack install) is long work to report, and
 * a slow connection has its own lines (provider/powershell/connectLog.ts).
 */
export function trackStep(host: string, label: string, options: StepProgressOptions = {}): StepProgress {
  const now = options.now ?? Date.now;
  const created = now();
  let spokeAt: number | undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;
  let open = true;
  const elapsed = () => formatElapsed(now() - (spokeAt ?? created));
  const say = (text: string) => {
    if (spokeAt === undefined) {
      spokeAt = now();
      ticker = setInterval(() => {
        if (open) reportProgress(host, `${label}: still running (${elapsed()})`);
      }, options.intervalMs ?? progressIntervalMs());
      // A ticker must never keep a host (or a test) alive on its own.
      ticker.unref?.();
    }
    reportProgress(host, `${label}: ${text}`);
  };
  if (options.announce) say("started");
  const close = () => {
    open = false;
    if (ticker !== undefined) clearInterval(ticker);
  };
  return {
    note(text) {
      if (open) say(text);
    },
    done(summary) {
      if (!open) return;
      close();
      if (spokeAt !== undefined) reportProgress(host, `${label}: ${summary ?? "done"} in ${elapsed()}`);
    },
    failed() {
      if (!open) return;
      close();
      if (spokeAt !== undefined) reportProgress(host, `${label}: failed after ${elapsed()}`);
    },
  };
}
