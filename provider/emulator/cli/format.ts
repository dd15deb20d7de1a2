/** Output: terminal-safe text, tables, key/value blocks, value names, and JSON-or-human emission. */
import type { Context } from "./command";
import { FAULTS, LICENSING_TYPES, WBEM_NAMES } from "./values";

/** Shows control characters (and only those) escaped, so a hostile name cannot drive the terminal. */
export function printable(s: unknown): string {
  if (s === null || s === undefined) return "";
  // Control characters are exactly what this pattern is for.
  // eslint-disable-next-line no-control-regex
  return String(s).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const map: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return map[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
}

export function table(headers: string[], rows: string[][]): string[] {
  const cells = rows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [fmt(headers), ...cells.map(fmt)];
}

export function kv(pairs: Array<[string, string]>, indent = "  "): string[] {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${indent}${`${k}:`.padEnd(width)} ${v}`);
}

export function modeName(n: number | null | undefined): string {
  if (n === null || n === undefined) return "not set";
  return `${LICENSING_TYPES[n] ?? "unknown"} (${n})`;
}

export function wbem(code: number): string {
  if (code === 0) return "0";
  return `0x${code.toString(16).toUpperCase().padStart(8, "0")} ${WBEM_NAMES[code] ?? ""}`.trimEnd();
}

export function day(iso: string | null | undefined): string {
  if (!iso) return "-";
  return iso.slice(0, 10);
}

export function moment(iso: string | null | undefined): string {
  if (!iso) return "-";
  return iso.replace("T", " ").replace(/\.\d+/, "").replace(/Z$/, "Z");
}

export function yesNo(b: boolean): string {
  return b ? "yes" : "no";
}

export function emit(ctx: Context, json: unknown, human: () => string[]): void {
  if (ctx.json) ctx.out(JSON.stringify(json, null, 2) + "\n");
  else ctx.out(human().join("\n") + "\n");
}

/** Faults that differ from their defaults, as `name value`. */
export function activeFaults(f: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const name of FAULTS) {
    const v = f[name];
    if (v === undefined) continue;
    const isDefault = name === "failureStyle" ? v === "return" : v === false || v === 0;
    if (!isDefault) out.push(`${name} ${String(v)}`);
  }
  return out;
}
