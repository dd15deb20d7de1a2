/**
 * The tests' door to the provider hosts of engine/ (the real dynamic-provider host process over gRPC,
 * and the wire values it speaks), plus what only tests need: `stopAllHosts` registered with Jest's
 * `afterAll` (every host a test file started is stopped when the file ends), and `assertBuilt`.
 * Not a test file.
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT, stopAllHosts } from "../../engine/hostProcess";

export * from "../../engine/secrets";
export * from "../../engine/hostProtocol";
export * from "../../engine/hostProcess";
export * from "../../engine/grpcHost";

if (typeof afterAll === "function") afterAll(() => stopAllHosts());

/**
 * Fails fast when built JS is missing or older than its TypeScript source (the host runs bin/, tests
 * run sources). `sources` are paths relative to the project root: .ts files or directories (recursed).
 */
export function assertBuilt(sources: readonly string[]): void {
  const stale: string[] = [];
  const visit = (rel: string) => {
    const abs = path.join(PROJECT_ROOT, rel);
    if (fs.statSync(abs).isDirectory()) {
      for (const e of fs.readdirSync(abs)) visit(path.join(rel, e));
      return;
    }
    if (!rel.endsWith(".ts") || rel.endsWith(".d.ts")) return;
    const js = path.join(PROJECT_ROOT, "bin", rel.replace(/\.ts$/, ".js"));
    if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(abs).mtimeMs) stale.push(rel);
  };
  sources.forEach(visit);
  if (stale.length) throw new Error(`built JS missing or stale for ${stale.join(", ")}: run npx tsc -p tsconfig.json`);
}
