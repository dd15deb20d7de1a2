/**
 * A user's program folder outside the repository: the program of ./program copied to a temporary
 * directory, `npm install`ed beside the packed tarball and an `@pulumi/pulumi` of the test's choosing
 * (from the registry), type-checked and compiled with the TypeScript compiler API. Not a test file.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";

const TEMPLATE = path.join(__dirname, "program");
/** The @types/node the repository pins (a user's program has its own; the package's typings use node's). */
const TYPES_NODE = "@types/node@20.19.43";

/**
 * The environment of an `npm install` run from inside `npm test`: without what npm exported about
 * the repository's own package and script, so the install sees only the temporary folder.
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) =>
        !/^npm_(package|lifecycle)_/i.test(key) && !/^npm_config_(local_prefix|global_prefix|prefix)$/i.test(key) && key !== "INIT_CWD",
    ),
  );
}

/** Creates the program folder `dir` and installs the tarball and `@pulumi/pulumi@<pulumiVersion>` into it. */
export function createProgramFolder(dir: string, tarball: string, pulumiVersion: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(TEMPLATE, "index.ts.txt"), path.join(dir, "index.ts"));
  fs.copyFileSync(path.join(TEMPLATE, "tsconfig.json"), path.join(dir, "tsconfig.json"));
  fs.copyFileSync(path.join(TEMPLATE, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "rds-user-program", private: true, main: "index.ts" }, null, 2));
  execFileSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--save-exact", tarball, `@pulumi/pulumi@${pulumiVersion}`, TYPES_NODE],
    { cwd: dir, env: npmEnvironment(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
}

export interface InstalledCopy {
  /** The package folder, relative to the program folder. */
  where: string;
  version: string;
}

/** Every installed copy of package `name` under `dir`'s node_modules, nested ones included. */
export function installedCopies(dir: string, name: string): InstalledCopy[] {
  const copies: InstalledCopy[] = [];
  const visit = (nodeModules: string) => {
    if (!fs.existsSync(nodeModules)) return;
    const manifest = path.join(nodeModules, name, "package.json");
    if (fs.existsSync(manifest)) {
      copies.push({ where: path.relative(dir, path.dirname(manifest)), version: JSON.parse(fs.readFileSync(manifest, "utf8")).version });
    }
    for (const entry of fs.readdirSync(nodeModules, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith(".")) continue;
      const packages = entry.name.startsWith("@")
        ? fs.readdirSync(path.join(nodeModules, entry.name)).map((p) => path.join(nodeModules, entry.name, p))
        : [path.join(nodeModules, entry.name)];
      for (const pkg of packages) visit(path.join(pkg, "node_modules"));
    }
  };
  visit(path.join(dir, "node_modules"));
  return copies;
}

export interface Compiled {
  /** Formatted errors of the program and of the installed package's typings (empty when it compiles). */
  errors: string;
  /** Declaration files of pulumi-rds-licensing the program was checked against, relative to `dir`. */
  packageTypings: string[];
}

/**
 * `tsc -p <dir>` through the compiler API, with the folder's tsconfig.json, writing index.js beside
 * index.ts. The installed package's .d.ts files are checked too (skipLibCheck off for them: a typing
 * that names a module the package does not ship must fail here); errors inside other libraries'
 * declarations are not this package's and are left out.
 */
export function compileProgram(dir: string): Compiled {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(dir, "tsconfig.json"),
    { skipLibCheck: false },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error(`cannot read ${dir}/tsconfig.json`);
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
  const ownPackage = `${path.sep}node_modules${path.sep}pulumi-rds-licensing${path.sep}`;
  const ours = (file: ts.SourceFile | undefined) =>
    !file || !file.fileName.includes(`${path.sep}node_modules${path.sep}`) || file.fileName.includes(ownPackage);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics].filter((d) => ours(d.file));
  const errors = ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => dir,
    getNewLine: () => "\n",
  });
  const packageTypings = program
    .getSourceFiles()
    .map((f) => path.normalize(f.fileName))
    .filter((f) => f.includes(ownPackage))
    .map((f) => path.relative(dir, f));
  return { errors, packageTypings };
}
