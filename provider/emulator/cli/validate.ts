/** Value validation: a bad value is a UsageError (exit 2) naming the argument and the accepted values. */
import type { Command, Parsed } from "./command";
import { UsageError } from "./errors";
import { printable } from "./format";

export function req(p: Parsed, option: string, cmd: Command): string {
  const v = p.values[option];
  if (v === undefined) {
    const spec = cmd.options[option];
    throw new UsageError(`missing option --${option}${spec?.value ? ` <${spec.value}>` : ""}${spec ? ` (${spec.help})` : ""}`, cmd);
  }
  return v as string;
}

export function oneOf<T extends string>(label: string, value: string, accepted: readonly T[], cmd: Command): T {
  const hit = accepted.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!hit) throw new UsageError(`${label} must be one of ${accepted.join(", ")} (got '${printable(value)}')`, cmd);
  return hit;
}

export function wholeNumber(label: string, value: string, min: number, max: number, cmd: Command): number {
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < min || Number(trimmed) > max) {
    throw new UsageError(`${label} must be a whole number from ${min} to ${max} (got '${printable(value)}')`, cmd);
  }
  return Number(trimmed);
}

export function boolValue(label: string, value: string, cmd: Command): boolean {
  const v = value.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  throw new UsageError(`${label} must be true or false (also accepted: yes/no, on/off, 1/0; got '${printable(value)}')`, cmd);
}

export function hostArg(p: Parsed, cmd: Command, name = "host"): string {
  const h = p.positionals[name] ?? (p.values[name] as string | undefined);
  if (h === undefined) throw new UsageError(`missing argument <${name}>`, cmd);
  if (h.trim() === "") throw new UsageError(`<${name}> must not be empty`, cmd);
  if (Buffer.byteLength(h, "utf8") > 100) throw new UsageError(`<${name}> must be at most 100 bytes of UTF-8`, cmd);
  return h;
}

/** The product ID for clearinghouse commands: a positional or --product-id, or --host (exactly one). */
export function productSource(p: Parsed, cmd: Command): { host?: string; productId?: string } {
  const positional = p.positionals.productId;
  const flag = p.values["product-id"] as string | undefined;
  const host = p.values.host as string | undefined;
  const ids = [positional, flag].filter((v) => v !== undefined);
  if (ids.length > 1) throw new UsageError("give the product ID once (as an argument or with --product-id)", cmd);
  const productId = ids[0];
  if (productId !== undefined && host !== undefined) throw new UsageError("give either a product ID or --host, not both", cmd);
  if (productId === undefined && host === undefined) {
    throw new UsageError(
      `missing product ID: give ${"productId" in p.positionals ? "<productId>" : "--product-id <ID>"} or --host <HOST>`,
      cmd,
    );
  }
  if (host !== undefined) return { host: hostArg({ values: { host }, positionals: {} }, cmd) };
  if (productId!.trim() === "") throw new UsageError("the product ID must not be empty", cmd);
  return { productId: productId! };
}

// ------------------------------------------------------------------------------------------------
// pwsh
