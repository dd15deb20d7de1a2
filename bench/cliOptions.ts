/** The benchmarks' command-line options (`--name value`, `--flag`), read from process.argv. */

/** Whether `--name` is on the command line. */
export const flag = (name: string): boolean => process.argv.includes(`--${name}`);

/**
 * The positive number after `--name`, or `fallback` when the option is absent; `integer` refuses
 * fractions. A value that is not such a number stops the run with a message naming the option.
 */
export function numberOption(name: string, fallback: number, integer = true): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  const ok = integer ? Number.isInteger(value) && value > 0 : Number.isFinite(value) && value > 0;
  if (!ok) throw new Error(`--${name} needs a positive ${integer ? "integer" : "number"}`);
  return value;
}
