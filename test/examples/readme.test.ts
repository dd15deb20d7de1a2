/**
 * The README is the newcomer's only guide: its two commands must be the ones CI runs and the tests
 * exercise, its troubleshooting must cover every error code, and what it points at must exist.
 *
 * What is real: README.md, .ci/run, package.json, test/prepare.sh, .gitignore, the examples'
 * package.json and Pulumi.yaml files, provider/errors.ts, provider/powershell/localPwsh.ts. Nothing
 * stands in (pure file checks); the demo itself runs in demo.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { ErrorCode } from "../../provider/errors";
import { LOCAL_PWSH_DIR, PWSH_VERSION } from "../../provider/powershell/localPwsh";
import { DEMO_SCRIPT, EXAMPLES_DIR, ROOT } from "./paths";

const read = (rel: string) => fs.readFileSync(path.join(ROOT, rel), "utf8");
const readme = read("README.md");

/** The commands of the README's marked block (`<!-- main-commands -->` … `<!-- /main-commands -->`), comments dropped. */
function readmeCommands(text: string): string[] {
  const m = /<!-- main-commands -->\s*```sh\n([\s\S]*?)```\s*<!-- \/main-commands -->/.exec(text);
  if (!m) throw new Error("README.md has no <!-- main-commands --> block with a ```sh fence");
  return m[1]
    .split("\n")
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter(Boolean);
}

/** The commands a bash script runs: lines that are not comments, echo, control flow or settings. */
function scriptCommands(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#") && !/^(echo|if|then|else|fi|set|export|cd|for|do|done|exit)\b/.test(line));
}

/** The README's test command, checked against CI's commands: throws when CI does not run it as written. */
function assertCiRunsTestCommand(readmeText: string, ciText: string): string {
  const [, testCommand] = readmeCommands(readmeText);
  const ci = scriptCommands(ciText);
  const testLines = ci.filter((c) => /^npm (run )?test\b/.test(c) || /\bjest\b/.test(c));
  if (testLines.length !== 1 || testLines[0] !== testCommand) {
    throw new Error(`README's test command is "${testCommand}" but .ci/run runs the tests with ${JSON.stringify(testLines)}`);
  }
  return testCommand;
}

test("the README's marked block holds exactly the two commands: the main job, then the tests", () => {
  expect(readmeCommands(readme)).toEqual(["npm run demo", "npm test"]);
  // ...and tells the newcomer to install first, as CI does.
  expect(readme.indexOf("`npm ci`")).toBeGreaterThan(-1);
  expect(readme.indexOf("`npm ci`")).toBeLessThan(readme.indexOf("<!-- main-commands -->"));
});

test("CI runs the README's test command, after npm ci", () => {
  const ci = read(".ci/run");
  expect(assertCiRunsTestCommand(readme, ci)).toBe("npm test");
  const commands = scriptCommands(ci);
  const install = commands.findIndex((c) => c.startsWith("npm ci"));
  expect(install).toBeGreaterThan(-1);
  expect(install).toBeLessThan(commands.indexOf("npm test"));
});

test("the README/CI check fails when they disagree (it is not vacuous)", () => {
  const ci = read(".ci/run");
  expect(() => assertCiRunsTestCommand(readme, ci.replace(/^npm test$/m, "npm run test:unit"))).toThrow(
    /README's test command is "npm test"/,
  );
  expect(() => assertCiRunsTestCommand(readme.replace("npm test       #", "npx jest       #"), ci)).toThrow(
    /README's test command is "npx jest"/,
  );
  expect(() => assertCiRunsTestCommand(readme, `${ci}\nnpx jest --ci\n`)).toThrow();
});

test("the main command is package.json's demo script, which runs the demo the tests run", () => {
  const pkg = JSON.parse(read("package.json")) as {
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  expect(pkg.scripts.demo).toBe(`npm run build && node ${DEMO_SCRIPT}`);
  // The tests build first: test/run.sh builds bin/ (the provider-host tests load it), then runs Jest.
  expect(pkg.scripts.test).toBe("bash test/run.sh");
  const run = read("test/run.sh");
  expect(run.indexOf("npx tsc -p tsconfig.json")).toBeGreaterThan(-1);
  expect(run.indexOf("npx tsc -p tsconfig.json")).toBeLessThan(run.indexOf("exec npx jest"));
  expect(fs.existsSync(path.join(ROOT, "scripts", "demo.ts"))).toBe(true);
  expect(fs.readFileSync(path.join(ROOT, "test", "examples", "demo.test.ts"), "utf8")).toContain("DEMO_SCRIPT");
  // @pulumi/azure-native is never a runtime dependency of the provider; the root pins it as a devDependency, at the
  // azure example's exact version, so the suite typechecks the example against the real package.
  expect(pkg.dependencies).not.toHaveProperty("@pulumi/azure-native");
  const azureExample = JSON.parse(read("examples/azure/package.json")) as { dependencies: Record<string, string> };
  expect(pkg.devDependencies["@pulumi/azure-native"]).toBe(azureExample.dependencies["@pulumi/azure-native"]);
});

test("the root Pulumi.yaml is the quickstart: a nodejs project whose main is examples/quickstart/", () => {
  const yaml = read("Pulumi.yaml");
  expect(yaml).toMatch(/^runtime:\n {2}name: nodejs$/m);
  expect(yaml).toMatch(/^main: examples\/quickstart\/$/m);
  expect(yaml).toMatch(/^name: rds-licensing-quickstart$/m);
});

test("every example is a standalone program depending on pulumi-rds-licensing by name", () => {
  const examples = fs.readdirSync(EXAMPLES_DIR).filter((d) => fs.statSync(path.join(EXAMPLES_DIR, d)).isDirectory());
  expect(examples.sort()).toEqual(["azure", "existing-deployment", "quickstart", "telephone-activation", "web-activation"]);
  for (const example of examples) {
    const dir = path.join(EXAMPLES_DIR, example);
    for (const f of ["Pulumi.yaml", "package.json", "tsconfig.json", "index.ts", "README.md"])
      expect(`${example}/${f}: ${fs.existsSync(path.join(dir, f))}`).toBe(`${example}/${f}: true`);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["pulumi-rds-licensing"]).toBe("file:../..");
    expect(pkg.dependencies["@pulumi/pulumi"]).toBeDefined();
    expect("@pulumi/azure-native" in pkg.dependencies).toBe(example === "azure");
    expect(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")).toMatch(/^runtime:\n {2}name: nodejs$/m);
    // The README lists it.
    expect(readme).toContain(`(examples/${example}/README.md)`);
  }
});

test("troubleshooting covers every error code in provider/errors.ts, and only those", () => {
  const section = readme.slice(readme.indexOf("## Troubleshooting"), readme.indexOf("## Limits"));
  expect(section.length).toBeGreaterThan(100);
  const rows = [...section.matchAll(/^\| `(RDS_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  expect([...rows].sort()).toEqual(Object.values(ErrorCode).sort());
});

test("every relative link in the README points at a file that exists", () => {
  const links = [...readme.matchAll(/\]\(((?!https?:|#)[^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]);
  expect(links.length).toBeGreaterThan(10);
  const missing = links.filter((l) => !fs.existsSync(path.join(ROOT, l)));
  expect(missing).toEqual([]);
});

test("the README documents every demo option the demo accepts", () => {
  const demo = read("scripts/demo.ts");
  const options = [...new Set([...demo.matchAll(/case "(--[a-z-]+)":/g)].map((m) => m[1]))].filter((o) => o !== "--help");
  expect(options.sort()).toEqual(["--destroy", "--harness", "--install-cli", "--json", "--stack", "--state-dir"]);
  for (const o of options) expect(readme).toContain(`\`${o}`);
  // PowerShell needs no flag: the demo installs it into the local tool folder by itself.
  expect(readme).not.toContain("--install-pwsh");
});

test("the README's set-up says what the demo and npm test do about PowerShell, as the code does", () => {
  const twoCommands = readme.slice(readme.indexOf("## The two commands"), readme.indexOf("## The simulator"));
  expect(twoCommands).toContain(`dotnet tool install PowerShell --version ${PWSH_VERSION} --tool-path ${LOCAL_PWSH_DIR}`);
  // The line the demo prints, quoted as it prints it.
  expect(twoCommands).toContain(
    `PowerShell 7 not found: installing PowerShell ${PWSH_VERSION} into ${LOCAL_PWSH_DIR} (dotnet tool install --tool-path; nothing global changes)`,
  );
  expect(read(".gitignore").split("\n")).toContain(`${LOCAL_PWSH_DIR.split("/")[0]}/`);
  // npm test's one preparation step: the local PowerShell, then the ssh lab; CI leaves PowerShell to it.
  expect(JSON.parse(read("package.json")).scripts.pretest).toBe("bash test/prepare.sh");
  const prepare = read("test/prepare.sh");
  expect(prepare.indexOf("--tool-path")).toBeGreaterThan(-1);
  expect(prepare.indexOf("--tool-path")).toBeLessThan(prepare.indexOf("ssh-lab-setup.sh\n"));
  expect(read(".ci/run")).not.toMatch(/dotnet tool install/);
});
