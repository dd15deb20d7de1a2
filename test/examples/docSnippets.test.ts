/**
 * Every TypeScript snippet of the docs compiles: each ```ts (or ```typescript) block of README.md and
 * of every Markdown file under provider/, docs/ and examples/ is type-checked, all in ONE TypeScript
 * program (fast: the package's typings and @pulumi/pulumi's are read once), one test per snippet
 * named `file:line`.
 *
 * The convention, for whoever writes a snippet:
 * - Every ```ts / ```typescript block is checked; nothing can opt out. A block that is not meant to
 *   compile (pseudo-code, a deliberate error) takes another fence (```text).
 * - A block is a module of a user's Pulumi program (the examples' compiler options: strict, node16).
 *   It may use, without defining them, the names of the prelude (snippets.ts `PRELUDE`): `cfg` and
 *   `config` (`new pulumi.Config()`), the package's classes and connection types, and `connection`,
 *   `contact`, `ls` (what the surrounding README text defines). Anything else it imports itself;
 *   its own imports and declarations shadow the prelude.
 * - A block that is only properties of an object (`connection: { ... }`) is preceded by
 *   `<!-- snippet: fields of <ArgsType> -->` (invisible on GitHub) and is checked as the body of an
 *   object literal of type `Partial<ArgsType>` (any type the package exports).
 *
 * What is real: the TypeScript 6 compiler (its API), the Markdown files, @pulumi/pulumi's declarations,
 * and the package's typings as a user installs them: `pulumi-rds-licensing` resolves as a dependency
 * would (node_modules, package.json `exports`) to the built bin/provider/*.d.ts, which `npm test`
 * builds first (test/run.sh). What stands in: the snippet files are in memory (under
 * test/examples/.snippets/, never written); when bin/ is missing or older than the sources (a
 * developer running this file alone), the package resolves to the TypeScript sources instead (the
 * test names say which).
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { EXAMPLES_DIR, ROOT } from "./paths";
import {
  collectSnippets,
  extractSnippets,
  FIRST_CONTACT_PROGRAM,
  markdownLine,
  PRELUDE,
  wrapSnippet,
  type Snippet,
  type WrappedSnippet,
} from "./snippets";

const VIRTUAL_DIR = path.join(ROOT, "test", "examples", ".snippets");
const PRELUDE_FILE = path.join(VIRTUAL_DIR, "prelude.d.ts");
const FIRST_CONTACT_FILE = path.join(VIRTUAL_DIR, "firstContact.ts");
const BUILT_INDEX = path.join(ROOT, "bin", "provider", "index.d.ts");
const SOURCE_INDEX = path.join(ROOT, "provider", "index.ts");

/** The fewest snippets the docs hold today; fewer means some were lost (a fence renamed, a file moved). */
const MIN_SNIPPETS = 14;

/** The newest modification time of the provider's TypeScript sources. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** The built typings when they are there and not older than the sources; else the sources. */
const AGAINST_BUILT = fs.existsSync(BUILT_INDEX) && fs.statSync(BUILT_INDEX).mtimeMs >= newestSource(path.join(ROOT, "provider"));
const AGAINST = AGAINST_BUILT ? "the built bin/provider typings" : "the provider sources (bin/ missing or stale)";

const SNIPPETS = collectSnippets(ROOT);
const fileOf = (s: Snippet) => path.join(VIRTUAL_DIR, `${s.file.replace(/[/.]/g, "_")}_L${s.line}.ts`);
const wrapped = new Map<string, { snippet: Snippet; wrapped: WrappedSnippet }>(
  SNIPPETS.map((s) => [fileOf(s), { snippet: s, wrapped: wrapSnippet(s) }]),
);

/** The compiler options of a user's program: the examples' tsconfig.json (all five share them, typecheck.test.ts checks). */
function options(): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(EXAMPLES_DIR, "quickstart", "tsconfig.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error("cannot read examples/quickstart/tsconfig.json");
  return {
    ...parsed.options,
    noEmit: true,
    rootDir: ROOT,
    // Each snippet is its own module, even one without import or export.
    moduleDetection: ts.ModuleDetectionKind.Force,
    ...(AGAINST_BUILT
      ? {}
      : { paths: { "pulumi-rds-licensing": [SOURCE_INDEX], "pulumi-rds-licensing/*": [path.join(ROOT, "provider", "*")] } }),
  };
}

/** A compiler host that serves the snippets and the prelude from memory, the rest from disk. */
function hostWith(files: ReadonlyMap<string, string>, compilerOptions: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createCompilerHost(compilerOptions);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (name) => files.has(path.resolve(name)) || fileExists.call(host, name);
  host.readFile = (name) => files.get(path.resolve(name)) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, onError, create) => {
    const text = files.get(path.resolve(name));
    return text !== undefined ? ts.createSourceFile(name, text, language) : getSourceFile.call(host, name, language, onError, create);
  };
  return host;
}

function compile(files: ReadonlyMap<string, string>): { program: ts.Program; diagnostics: readonly ts.Diagnostic[] } {
  const compilerOptions = options();
  const program = ts.createProgram({ rootNames: [...files.keys()], options: compilerOptions, host: hostWith(files, compilerOptions) });
  return { program, diagnostics: ts.getPreEmitDiagnostics(program) };
}

/** Diagnostics of one snippet, with the Markdown file and line they point at. */
function describe(diagnostics: readonly ts.Diagnostic[], file: string): string {
  const entry = wrapped.get(file)!;
  return diagnostics
    .filter((d) => d.file && path.resolve(d.file.fileName) === file)
    .map((d) => {
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      const where = `${entry.snippet.file}:${markdownLine(entry.snippet, entry.wrapped, line)}`;
      return `${where}: TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    })
    .join("\n");
}

let program: ts.Program;
let diagnostics: readonly ts.Diagnostic[];

beforeAll(() => {
  const files = new Map<string, string>([
    [PRELUDE_FILE, PRELUDE],
    [FIRST_CONTACT_FILE, FIRST_CONTACT_PROGRAM],
  ]);
  for (const [file, entry] of wrapped) files.set(file, entry.wrapped.text);
  ({ program, diagnostics } = compile(files));
}, 120_000);

test.each(SNIPPETS.map((s) => [`${s.file}:${s.line}`, fileOf(s)]))(`%s type-checks against ${AGAINST}`, (_name, file) => {
  expect(describe(diagnostics, file)).toBe("");
});

const format = (ds: readonly ts.Diagnostic[]) =>
  ts.formatDiagnostics(ds, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" });

test("a new user's first program compiles: config values and secrets in every input, no cast, precise output types", () => {
  expect(format(diagnostics.filter((d) => d.file && path.resolve(d.file.fileName) === FIRST_CONTACT_FILE))).toBe("");
});

test("the prelude and everything else the snippets pull in compile too (no global or library diagnostic)", () => {
  const elsewhere = diagnostics.filter(
    (d) => !d.file || !(wrapped.has(path.resolve(d.file.fileName)) || path.resolve(d.file.fileName) === FIRST_CONTACT_FILE),
  );
  expect(format(elsewhere)).toBe("");
});

test(`at least ${MIN_SNIPPETS} snippets, the README's connection examples with cfg.requireSecret among them`, () => {
  expect(SNIPPETS.length).toBeGreaterThanOrEqual(MIN_SNIPPETS);
  const readme = SNIPPETS.filter((s) => s.file === "README.md");
  const secretConnections = readme.filter((s) => /password:\s*cfg\.requireSecret\(/.test(s.code) && /transport:\s*"winrm"/.test(s.code));
  // The Connections section's winrm example and the "Use it in your own program" one.
  expect(secretConnections).toHaveLength(2);
  expect(readme.some((s) => /privateKey:\s*cfg\.requireSecret\(/.test(s.code) && /transport:\s*"ssh"/.test(s.code))).toBe(true);
  // Each of the docs' folders contributes (a renamed folder would silently drop its snippets).
  for (const prefix of ["provider/powershell/CONNECTIONS.md", "provider/resources/", "docs/"]) {
    expect(SNIPPETS.some((s) => s.file.startsWith(prefix))).toBe(true);
  }
});

test(`pulumi-rds-licensing resolves to ${AGAINST}, as a user's program would find it`, () => {
  const files = program.getSourceFiles().map((f) => path.resolve(f.fileName));
  if (AGAINST_BUILT) {
    expect(files).toContain(BUILT_INDEX);
    expect(files).not.toContain(SOURCE_INDEX);
  } else {
    expect(files).toContain(SOURCE_INDEX);
  }
});

test("the check is not vacuous: a number for a password, or for the license server list, fails at the snippet's line", () => {
  const bad: Snippet = {
    file: "bad.md",
    line: 1,
    fieldsOf: "RdsSessionHostLicensingArgs",
    code: 'connection: { transport: "winrm", host: "sh1", user: "u", password: 42 },\nlicenseServers: 7,',
  };
  const file = fileOf(bad);
  wrapped.set(file, { snippet: bad, wrapped: wrapSnippet(bad) });
  try {
    const { diagnostics: found } = compile(
      new Map([
        [PRELUDE_FILE, PRELUDE],
        [file, wrapSnippet(bad).text],
      ]),
    );
    const text = describe(found, file);
    expect(text).toMatch(/^bad\.md:2: TS2322: .*number/m);
    expect(text).toMatch(/^bad\.md:3: TS2322: .*number/m);
  } finally {
    wrapped.delete(file);
  }
});

test("the extractor takes every ts/typescript block, applies the marker, and refuses an unknown one", () => {
  const md = [
    "text",
    "```ts",
    "const a = 1;",
    "```",
    "<!-- snippet: fields of RdsCalPackArgs -->",
    "",
    "```typescript",
    'program: "retail",',
    "```",
    "```text",
    "not checked",
    "```",
  ].join("\n");
  expect(extractSnippets("x.md", md)).toEqual([
    { file: "x.md", line: 2, code: "const a = 1;" },
    { file: "x.md", line: 7, code: 'program: "retail",', fieldsOf: "RdsCalPackArgs" },
  ]);
  expect(() => extractSnippets("x.md", "<!-- snippet: whatever -->\n```ts\nx\n```")).toThrow(/unknown snippet marker/);
  expect(() => extractSnippets("x.md", "```ts\nx\n")).toThrow(/never closed/);
});
