/**
 * The package as `npm pack` makes it, and what the tarball test checks in its file list: where the
 * Markdown links of the packed docs lead, and what the packed source maps point at. Not a test file.
 */
import { execFileSync } from "child_process";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");

export interface PackedPackage {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the package (no `package/` prefix), sorted. */
  files: string[];
  entryCount: number;
  /** Bytes, unpacked. */
  unpackedSize: number;
  /** Bytes of the .tgz. */
  size: number;
}

/**
 * `npm pack` of the project into `destination`. With `--ignore-scripts`: the `prepack` script
 * rebuilds bin/provider from scratch, which would pull the built files from under the provider hosts
 * of the test files running beside this one; the tests pack the build `npm test` made before the
 * suite (test/run.sh), and `fileWithoutSource` catches a stale file in it.
 */
export function packProject(destination: string): PackedPackage {
  const out = execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", destination], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [report] = JSON.parse(out) as {
    filename: string;
    files: { path: string }[];
    entryCount: number;
    unpackedSize: number;
    size: number;
  }[];
  return {
    tarball: path.join(destination, report.filename),
    files: report.files.map((f) => f.path).sort(),
    entryCount: report.entryCount,
    unpackedSize: report.unpackedSize,
    size: report.size,
  };
}

/** Relative link targets of a Markdown text (no URLs, no bare anchors; the `#anchor` part dropped), outside code. */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
  const targets: string[] = [];
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue;
    targets.push(decodeURI(target.split("#")[0]));
  }
  return targets;
}

export interface ResolvedLink {
  /** The packed Markdown file the link is in. */
  from: string;
  /** The target, relative to the package root (posix). */
  target: string;
}

/** Every relative link of the packed Markdown files, resolved against the file's folder. */
export function packedDocLinks(files: readonly string[], read: (file: string) => string): ResolvedLink[] {
  return files
    .filter((f) => f.endsWith(".md"))
    .flatMap((from) =>
      relativeLinks(read(from)).map((link) => ({ from, target: path.posix.normalize(path.posix.join(path.posix.dirname(from), link)) })),
    );
}

/**
 * Whether a link target is meant to be inside the package: under a top-level folder the package ships
 * (provider/, bin/), or a file at its root (LICENSE). Other targets (examples/, docs/, test/...) are
 * the repository's: npmjs.com resolves them against `repository`, a copy in node_modules cannot.
 */
export function pointsIntoPackage(target: string, files: readonly string[]): boolean {
  const top = target.split("/")[0];
  if (!target.includes("/")) return true;
  return files.some((f) => f.startsWith(`${top}/`));
}

/** Whether `target` (a file or a folder) is in the file list. */
export function packed(target: string, files: readonly string[]): boolean {
  const folder = target.replace(/\/$/, "");
  return files.includes(folder) || files.some((f) => f.startsWith(`${folder}/`));
}

/** A packed source map whose `sources` are not all packed, or a packed script pointing at a map that is not: one line each. */
export function danglingSourceMaps(files: readonly string[], read: (file: string) => string): string[] {
  const problems: string[] = [];
  for (const file of files) {
    const dir = path.posix.dirname(file);
    if (file.endsWith(".map")) {
      const map = JSON.parse(read(file)) as { sourceRoot?: string; sources: string[] };
      for (const source of map.sources) {
        const target = path.posix.normalize(path.posix.join(dir, map.sourceRoot ?? "", source));
        if (!files.includes(target)) problems.push(`${file} maps ${target}, which is not packed`);
      }
    } else if (file.endsWith(".js")) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(read(file))?.[1];
      if (url && !url.startsWith("data:") && !files.includes(path.posix.join(dir, url))) {
        problems.push(`${file} points at ${path.posix.join(dir, url)}, which is not packed`);
      }
    }
  }
  return problems;
}

/** A packed built file (bin/provider/**.js or .d.ts) whose TypeScript source is gone: a stale build. */
export function fileWithoutSource(files: readonly string[], exists: (sourceFile: string) => boolean): string[] {
  return files
    .filter((f) => f.startsWith("bin/provider/") && /\.(js|d\.ts)$/.test(f))
    .filter((f) => !exists(f.replace(/^bin\//, "").replace(/(\.d\.ts|\.js)$/, ".ts")));
}
