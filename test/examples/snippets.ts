/**
 * The TypeScript snippets of the docs, and how each becomes a file the compiler can check (used by
 * docSnippets.test.ts; not a test file). The convention is documented at the top of that test.
 */
import * as fs from "fs";
import * as path from "path";

/** Where snippets are collected: README.md, and every Markdown file under these folders. */
export const SNIPPET_DIRS = ["provider", "docs", "examples"];
const SKIPPED_DIRS = new Set(["node_modules", "bin", ".rds-sim"]);

/** The fence languages that mark a TypeScript snippet (every such block is checked, none is skipped). */
const TS_LANGUAGES = new Set(["ts", "typescript"]);

/** The one wrapping marker: `<!-- snippet: fields of <ArgsType> -->` on the line(s) just before a block. */
const MARKER = /^<!--\s*snippet:\s*(.*?)\s*-->$/;
const FIELDS_OF = /^fields of ([A-Za-z_][A-Za-z0-9_]*)$/;

export interface Snippet {
  /** Markdown file, relative to the repository root, with `/` separators. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The code between the fences. */
  code: string;
  /** Set by `<!-- snippet: fields of X -->`: the block is properties of an object literal of type X. */
  fieldsOf?: string;
}

export function markdownFiles(root: string): string[] {
  const found = [path.join(root, "README.md")];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(path.join(dir, entry.name));
      } else if (entry.name.endsWith(".md")) found.push(path.join(dir, entry.name));
    }
  };
  for (const dir of SNIPPET_DIRS) walk(path.join(root, dir));
  return found;
}

/** Every ```ts / ```typescript block of one Markdown text. Throws on an unclosed fence or an unknown marker. */
export function extractSnippets(file: string, text: string): Snippet[] {
  const lines = text.split(/\r?\n/);
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const language = open[2].toLowerCase();
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length; i++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[i]);
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
      body.push(lines[i]);
    }
    if (i >= lines.length) throw new Error(`${file}:${start + 1}: the code fence opened here is never closed`);
    if (!TS_LANGUAGES.has(language)) continue;
    const snippet: Snippet = { file, line: start + 1, code: body.join("\n") };
    const before = lines
      .slice(0, start)
      .reverse()
      .find((l) => l.trim() !== "");
    const marker = before === undefined ? null : MARKER.exec(before.trim());
    if (marker) {
      const fieldsOf = FIELDS_OF.exec(marker[1]);
      if (!fieldsOf)
        throw new Error(`${file}:${start + 1}: unknown snippet marker "${marker[1]}" (the one form is "fields of <ArgsType>")`);
      snippet.fieldsOf = fieldsOf[1];
    }
    snippets.push(snippet);
  }
  return snippets;
}

export function collectSnippets(root: string): Snippet[] {
  return markdownFiles(root).flatMap((file) =>
    extractSnippets(path.relative(root, file).split(path.sep).join("/"), fs.readFileSync(file, "utf8")),
  );
}

/** A snippet as a TypeScript module, and how its lines map back to the Markdown file. */
export interface WrappedSnippet {
  text: string;
  /** Lines the wrapper adds before the snippet's first line. */
  headerLines: number;
}

export function wrapSnippet(snippet: Snippet): WrappedSnippet {
  if (snippet.fieldsOf === undefined) return { text: snippet.code + "\n", headerLines: 0 };
  const header = `const snippet: Partial<import("pulumi-rds-licensing").${snippet.fieldsOf}> = {`;
  return { text: `${header}\n${snippet.code}\n};\nvoid snippet;\n`, headerLines: 1 };
}

/** The Markdown line of a 0-based line in the wrapped snippet. */
export function markdownLine(snippet: Snippet, wrapped: WrappedSnippet, wrappedLine: number): number {
  return snippet.line + 1 + (wrappedLine - wrapped.headerLines);
}

/**
 * The names snippets use without defining them, declared globally (a snippet's own imports and
 * declarations shadow them): `cfg` / `config` as `new pulumi.Config()`, the package's classes and
 * types as `import { ... } from "pulumi-rds-licensing"` gives them, and the values the surrounding text
 * of a README defines (`connection`, `contact`, `ls`). A name missing here fails its snippet.
 */
export const PRELUDE = `
type Pkg = typeof import("pulumi-rds-licensing");
declare const cfg: import("@pulumi/pulumi").Config;
declare const config: import("@pulumi/pulumi").Config;
declare const RdsLicenseServer: Pkg["RdsLicenseServer"];
type RdsLicenseServer = import("pulumi-rds-licensing").RdsLicenseServer;
declare const RdsCalPack: Pkg["RdsCalPack"];
type RdsCalPack = import("pulumi-rds-licensing").RdsCalPack;
declare const RdsSessionHostLicensing: Pkg["RdsSessionHostLicensing"];
type RdsSessionHostLicensing = import("pulumi-rds-licensing").RdsSessionHostLicensing;
declare const RdsLicensing: Pkg["RdsLicensing"];
type RdsLicensing = import("pulumi-rds-licensing").RdsLicensing;
type RdsConnectionArgs = import("pulumi-rds-licensing").RdsConnectionArgs;
type SimulatorConnectionArgs = import("pulumi-rds-licensing").SimulatorConnectionArgs;
type LocalConnectionArgs = import("pulumi-rds-licensing").LocalConnectionArgs;
type SshConnectionArgs = import("pulumi-rds-licensing").SshConnectionArgs;
type WinRmConnectionArgs = import("pulumi-rds-licensing").WinRmConnectionArgs;
declare const connection: RdsConnectionArgs;
declare const contact: import("pulumi-rds-licensing").RdsLicenseServerContactArgs;
declare const ls: RdsLicenseServer;
`;

/**
 * A new user's first program (issue 14): every input from config, secrets as Outputs, a whole list
 * from another resource, without a cast; and the outputs' precise types, each compared both ways
 * (`Output<string>` or `Output<unknown>` would fail). Checked in the same program as the snippets.
 */
export const FIRST_CONTACT_PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import {
  RdsCalPack,
  RdsLicenseServer,
  RdsSessionHostLicensing,
  type ActivationOrigin,
  type CalPackCalType,
  type CalPackProductVersion,
  type CalPackProgram,
  type EffectiveLicensingMode,
  type HostOsVersion,
  type LicensingMode,
  type OrString,
  type RdsConnection,
  type RdsConnectionArgs,
  type SessionHostCalPackRef,
} from "pulumi-rds-licensing";

const cfg = new pulumi.Config();
const sshPassword: RdsConnectionArgs = { transport: "ssh", host: "sh1", user: cfg.require("user"), password: cfg.requireSecret("pw") };
const sshKey: RdsConnectionArgs = {
  transport: "ssh",
  host: cfg.require("host"),
  address: cfg.get("address"),
  port: cfg.getNumber("port"),
  user: "rdsadmin",
  privateKey: cfg.requireSecret("key"),
  privateKeyPassphrase: cfg.requireSecret("passphrase"),
  hostKey: cfg.requireObject<string[]>("hostKeys"),
  connectAttempts: cfg.getNumber("attempts"),
};
const winrm: RdsConnectionArgs = {
  transport: "winrm",
  host: "ls01",
  user: cfg.require("user"),
  password: cfg.requireSecret("pw"),
  scheme: cfg.get("scheme"),
  authentication: cfg.get("authentication"),
  skipCertificateChecks: cfg.getBoolean("lab"),
};
const local: RdsConnectionArgs = { transport: "local", host: "ls01", shell: cfg.get("shell") };

const ls = new RdsLicenseServer("ls", {
  connection: winrm,
  contact: { firstName: cfg.require("first"), lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
  activation: { method: cfg.require("method"), licenseServerId: cfg.getSecret("licenseServerId") },
  discoveryScope: cfg.get("discoveryScope"),
});
const pack = new RdsCalPack("users", {
  licenseServer: ls,
  program: cfg.require("program"),
  agreementNumber: cfg.requireSecret("ea"),
  productVersion: cfg.require("version"),
  calType: cfg.require("calType"),
  quantity: cfg.requireNumber("quantity"),
});
const servers: pulumi.Output<string[]> = ls.serverName.apply((name) => [name]);
const sh = new RdsSessionHostLicensing("sh1", {
  connection: sshKey,
  scope: cfg.get("scope"),
  mode: cfg.require("mode"),
  licenseServers: servers,
  calPacks: [pack],
});
new RdsSessionHostLicensing("sh2", { connection: sshPassword, mode: cfg.get("mode") ?? "perUser", licenseServers: [ls.serverName] });
new RdsSessionHostLicensing("local", { connection: local, mode: "perDevice", licenseServers: cfg.requireObject<string[]>("servers") });

type OutputOf<O> = O extends pulumi.OutputInstance<infer T> ? T : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const precise: [
  Same<OutputOf<typeof ls.connection>, RdsConnection>,
  Same<OutputOf<typeof ls.activationMethod>, ActivationOrigin | "">,
  Same<OutputOf<typeof pack.connection>, RdsConnection>,
  Same<OutputOf<typeof pack.program>, CalPackProgram>,
  Same<OutputOf<typeof pack.calType>, CalPackCalType | \`productType\${number}\`>,
  Same<OutputOf<typeof pack.productVersion>, OrString<CalPackProductVersion>>,
  Same<OutputOf<typeof pack.licenseServerActivationMethod>, ActivationOrigin | "">,
  Same<OutputOf<typeof sh.connection>, RdsConnection>,
  Same<OutputOf<typeof sh.mode>, LicensingMode>,
  Same<OutputOf<typeof sh.effectiveMode>, EffectiveLicensingMode>,
  Same<OutputOf<typeof sh.osVersion>, HostOsVersion | "">,
  Same<OutputOf<typeof sh.calPacks>, SessionHostCalPackRef[] | undefined>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
// And none of them is just a string.
const notString: [Same<CalPackCalType, string>, Same<EffectiveLicensingMode, string>] = [false, false];
export { precise, notString };
`;
