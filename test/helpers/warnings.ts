/**
 * Captures what a program warns: `pulumi.log.warn` without an engine (under the harness's mocks, or in
 * process) writes `warning: [runtime] <text>` to console.warn.
 */
export async function withWarnings<T>(body: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const spy = jest.spyOn(console, "warn").mockImplementation((...parts: unknown[]) => void warnings.push(parts.map(String).join(" ")));
  try {
    return { result: await body(), warnings };
  } finally {
    spy.mockRestore();
  }
}
