/**
 * Every example type-checks with its own tsconfig.json, as `tsc --noEmit -p examples/<name>` would in the
 * example's folder. One shared TypeScript program covers all of them (their compiler options are the
 * same, which the first test checks), so the provider's sources and @pulumi/pulumi's declarations are
 * checked once.
 *
 * What is real: the TypeScript 6 compiler (its API), each example's tsconfig.json options, the example
 * sources, @pulumi/pulumi's declarations, and the provider's own TypeScript sources.
 * `@pulumi/azure-native` is the real package at the azure example's pin (3.28.0, a root devDependency for
 * this check), resolved the way the example's own `npm install` would resolve it.
 * What stands in: `pulumi-rds-licensing` resolves through a `paths` mapping to the project's sources
 * (provider/index.ts) instead of an installed copy.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { EXAMPLES_DIR, ROOT } from "./paths";

const EXAMPLES = fs
  .readdirSync(EXAMPLES_DIR)
  .filter((d) => fs.existsSync(path.join(EXAMPLES_DIR, d, "Pulumi.yaml")))
  .sort();

const PROVIDER_INDEX = path.join(ROOT, "provider", "index.ts");
const AZURE_NATIVE = path.join(ROOT, "node_modules", "@pulumi", "azure-native");

function parse(example: string): ts.ParsedCommandLine {
  const file = path.join(EXAMPLES_DIR, example, "tsconfig.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(
    file,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error(`cannot read ${file}`);
  return parsed;
}

/** Options without what necessarily differs per folder. */
function comparable(options: ts.CompilerOptions): string {
  const { configFilePath: _a, pathsBasePath: _b, outDir, ...rest } = options as ts.CompilerOptions & { pathsBasePath?: string };
  void _a;
  void _b;
  // Each example builds into its own bin/.
  expect(outDir).toBe(path.join(path.dirname(String(options.configFilePath)), "bin"));
  return JSON.stringify(rest, Object.keys(rest).sort());
}

let program: ts.Program;
let diagnostics: readonly ts.Diagnostic[];
const parsed = new Map<string, ts.ParsedCommandLine>();

beforeAll(() => {
  for (const example of EXAMPLES) parsed.set(example, parse(example));
  const first = parsed.get(EXAMPLES[0])!;
  const options: ts.CompilerOptions = {
    ...first.options,
    noEmit: true,
    // TypeScript 6 defaults rootDir to the tsconfig's folder; the mapped provider sources live outside it.
    rootDir: ROOT,
    paths: { "pulumi-rds-licensing": [PROVIDER_INDEX] },
  };
  program = ts.createProgram({ rootNames: [...parsed.values()].flatMap((p) => p.fileNames), options });
  diagnostics = ts.getPreEmitDiagnostics(program);
}, 120_000);

const format = (ds: readonly ts.Diagnostic[]) =>
  ts.formatDiagnostics(ds, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" });

test("the examples are the five the README lists, each a standalone Pulumi program with the same compiler options", () => {
  expect(EXAMPLES).toEqual(["azure", "existing-deployment", "quickstart", "telephone-activation", "web-activation"]);
  for (const example of EXAMPLES) {
    const p = parsed.get(example)!;
    expect(p.errors).toEqual([]);
    expect(p.fileNames).toEqual([path.join(EXAMPLES_DIR, example, "index.ts")]);
    expect(comparable(p.options)).toBe(comparable(parsed.get(EXAMPLES[0])!.options));
    expect(p.options.strict).toBe(true);
  }
});

test("the shared program resolves pulumi-rds-licensing to the project's sources and @pulumi/azure-native to the real package at the example's pin", () => {
  const files = program.getSourceFiles().map((f) => path.resolve(f.fileName));
  const azureSubmodules = ["compute", "network", "resources"].map((m) => path.join(AZURE_NATIVE, m, "index.d.ts"));
  expect(files).toEqual(expect.arrayContaining([PROVIDER_INDEX, ...azureSubmodules]));
  // The declarations of the version the example pins (the root's devDependency is pinned to the same).
  const version = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
  const examplePin = (
    JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, "azure", "package.json"), "utf8")) as { dependencies: Record<string, string> }
  ).dependencies["@pulumi/azure-native"];
  const rootPin = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> })
    .devDependencies["@pulumi/azure-native"];
  expect(examplePin).toMatch(/^\d+\.\d+\.\d+$/);
  expect([version(AZURE_NATIVE), rootPin]).toEqual([examplePin, examplePin]);
  // No stand-in declarations anywhere (the example is checked against the real package only).
  expect(files.filter((f) => f.includes(`${path.sep}fixtures${path.sep}`))).toEqual([]);
  // And nothing resolved to an installed copy of the provider (bin/ declarations).
  expect(files.filter((f) => f.startsWith(path.join(ROOT, "bin") + path.sep))).toEqual([]);
});

test.each(EXAMPLES)("examples/%s type-checks (no diagnostics in its files)", (example) => {
  const dir = path.join(EXAMPLES_DIR, example) + path.sep;
  const mine = diagnostics.filter((d) => d.file && path.resolve(d.file.fileName).startsWith(dir));
  expect(format(mine)).toBe("");
});

test("no diagnostics anywhere else either (provider sources under the examples' options, global ones)", () => {
  const elsewhere = diagnostics.filter((d) => !d.file || !path.resolve(d.file.fileName).startsWith(EXAMPLES_DIR + path.sep));
  expect(format(elsewhere)).toBe("");
});

/** The semantic diagnostics of `file` with its text replaced by `text` (the rest of the program as it is). */
function diagnosticsWith(file: string, text: string): readonly ts.Diagnostic[] {
  const host = ts.createCompilerHost(program.getCompilerOptions());
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) =>
    path.resolve(name) === file ? ts.createSourceFile(name, text, lang) : getSourceFile(name, lang, onError, create);
  const again = ts.createProgram({ rootNames: [file], options: program.getCompilerOptions(), host, oldProgram: program });
  return again.getSemanticDiagnostics(again.getSourceFile(file));
}

test("a type error in an example would be caught (the check is not vacuous)", () => {
  const file = path.join(EXAMPLES_DIR, "quickstart", "index.ts");
  // The transport: enum-like inputs also take any string from config (checked at `check`), the
  // transport discriminant stays a literal the compiler checks.
  const broken = fs.readFileSync(file, "utf8").replace('transport: "simulator" as const', 'transport: "simulatr" as const');
  expect(broken).not.toBe(fs.readFileSync(file, "utf8"));
  const found = diagnosticsWith(file, broken);
  expect(format(found)).toMatch(/simulatr/);
});

test("the azure example is checked against the real @pulumi/azure-native declarations (a wrong run command field is caught)", () => {
  const file = path.join(EXAMPLES_DIR, "azure", "index.ts");
  const source = fs.readFileSync(file, "utf8");
  // asyncExecution is a boolean in the real VirtualMachineRunCommandByVirtualMachineArgs.
  const broken = source.replace("asyncExecution: false", 'asyncExecution: "no"');
  expect(broken).not.toBe(source);
  const found = diagnosticsWith(file, broken);
  const line = broken.slice(0, broken.indexOf('asyncExecution: "no"')).split("\n").length;
  expect(format(found)).toContain(`examples/azure/index.ts(${line},`);
  expect(format(found)).toMatch(/not assignable to type 'Input<boolean \| undefined>'/);
});
