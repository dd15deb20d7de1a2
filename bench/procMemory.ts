/**
 * Peak memory of a process from /proc (Linux): VmHWM is the peak resident set size since the last
 * reset; writing "5" to /proc/<pid>/clear_refs resets it (Linux >= 4.0), which gives a peak per phase.
 * Where the reset is refused, the peak is since the process started (reported as such).
 */
import * as fs from "fs";

function statusField(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak RSS (bytes) since the last reset, or undefined off Linux / for a gone process. */
export function peakRss(pid: number): number | undefined {
  return statusField(pid, "VmHWM");
}

/** Current RSS (bytes). */
export function currentRss(pid: number): number | undefined {
  return statusField(pid, "VmRSS");
}

/** Resets the peak to the current RSS; false when the kernel refused (then peaks are since start). */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export const mib = (bytes: number | undefined) => (bytes === undefined ? NaN : Math.round((bytes / 1048576) * 10) / 10);
