/**
 * Finding pwsh (provider/powershell/executable.ts): the lookup order RDS_PWSH, PATH, ~/.dotnet/tools,
 * then the project-local tool folder (.tools/pwsh, provider/powershell/localPwsh.ts) under each root
 * given, and what the "not found" reason names.
 *
 * Real: the lookup, on temporary folders; bash running test/prepare.sh's reader of localPwsh.ts. Stand-ins: the pwsh executables are empty shell scripts made
 * executable for the purpose (nothing is started), and every call names its own PATH, HOME and local
 * roots, so neither the machine's PowerShell nor this repository's .tools/pwsh can answer.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { packageRoot } from "../../provider/paths";
import { findPwsh, localPwshRoots, PWSH_INSTALL_HINT } from "../../provider/powershell/executable";
import { LOCAL_PWSH_DIR, localPwshExecutable, localPwshInstallArgs, PWSH_VERSION } from "../../provider/powershell/localPwsh";
import { removeTempDirs, tempDir } from "./support";

afterAll(() => removeTempDirs());

function executable(dir: string, name: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
  return file;
}

/** A machine layout with a pwsh in every place the lookup knows; each expectation removes one. */
function layout() {
  const root = tempDir("rds-pwsh-lookup");
  const home = path.join(root, "home");
  const onPathDir = path.join(root, "bin");
  const project = path.join(root, "project");
  const program = path.join(root, "program");
  return {
    root,
    home,
    onPathDir,
    project,
    program,
    configured: executable(root, "my-pwsh"),
    onPath: executable(onPathDir, "pwsh"),
    tool: executable(path.join(home, ".dotnet", "tools"), "pwsh"),
    projectLocal: executable(path.join(project, ".tools", "pwsh"), "pwsh"),
    programLocal: executable(path.join(program, ".tools", "pwsh"), "pwsh"),
  };
}

describe("findPwsh", () => {
  it("prefers $RDS_PWSH, then PATH, then ~/.dotnet/tools, then the local tool folder of each root in order", () => {
    const m = layout();
    const roots = [m.project, m.program];
    expect(findPwsh({ RDS_PWSH: m.configured, PATH: m.onPathDir, HOME: m.home }, roots)).toEqual({ found: true, path: m.configured });
    expect(findPwsh({ PATH: `/nonexistent${path.delimiter}${m.onPathDir}`, HOME: m.home }, roots)).toEqual({ found: true, path: m.onPath });
    expect(findPwsh({ PATH: "/nonexistent", HOME: m.home }, roots)).toEqual({ found: true, path: m.tool });
    // No global PowerShell: the project-local folders, first root first.
    expect(findPwsh({ PATH: "/nonexistent", HOME: m.root }, roots)).toEqual({ found: true, path: m.projectLocal });
    expect(findPwsh({ PATH: "/nonexistent", HOME: m.root }, [m.program, m.project])).toEqual({ found: true, path: m.programLocal });
    fs.rmSync(m.projectLocal);
    expect(findPwsh({ PATH: "/nonexistent", HOME: m.root }, roots)).toEqual({ found: true, path: m.programLocal });
    // A wrong RDS_PWSH is an error, never a fallback to another pwsh.
    expect(findPwsh({ RDS_PWSH: path.join(m.root, "missing"), PATH: m.onPathDir, HOME: m.home }, roots)).toEqual({
      found: false,
      reason: expect.stringContaining("RDS_PWSH is set to"),
    });
  });

  it("not found: the reason names every place looked at, the local folders included", () => {
    const m = layout();
    const emptyRoots = [path.join(m.root, "a"), path.join(m.root, "b")];
    const r = findPwsh({ PATH: "/nonexistent", HOME: m.root }, emptyRoots);
    expect(r).toEqual({
      found: false,
      reason:
        `pwsh was not found on PATH nor at ${path.join(m.root, ".dotnet", "tools", "pwsh")} nor in the project-local tool folder ` +
        `${LOCAL_PWSH_DIR} (${path.join(m.root, "a", ".tools", "pwsh", "pwsh")} or ${path.join(m.root, "b", ".tools", "pwsh", "pwsh")})`,
    });
  });

  it("skips files that are not executable, in the local folder too", () => {
    const dir = tempDir("rds-pwsh-noexec");
    fs.writeFileSync(path.join(dir, "pwsh"), "", { mode: 0o644 });
    fs.mkdirSync(path.join(dir, ".tools", "pwsh"), { recursive: true });
    fs.writeFileSync(localPwshExecutable(dir), "", { mode: 0o644 });
    expect(findPwsh({ PATH: dir, HOME: path.join(dir, "nonexistent-home") }, [dir]).found).toBe(false);
  });

  it("by default looks in the package root's local folder, then the working directory's (the Pulumi program's folder)", () => {
    const cwd = process.cwd();
    const elsewhere = fs.realpathSync(tempDir("rds-pwsh-cwd"));
    try {
      process.chdir(elsewhere);
      expect(localPwshRoots()).toEqual([packageRoot(), elsewhere]);
      process.chdir(packageRoot());
      expect(localPwshRoots()).toEqual([packageRoot()]);
    } finally {
      process.chdir(cwd);
    }
  });
});

describe("the project-local PowerShell (localPwsh.ts)", () => {
  it("is PowerShell 7.6.9 as a .NET tool in <root>/.tools/pwsh, installed with --tool-path (nothing global)", () => {
    expect(PWSH_VERSION).toBe("7.6.9");
    expect(localPwshExecutable("/p", "linux")).toBe("/p/.tools/pwsh/pwsh");
    expect(localPwshExecutable("/p", "win32")).toBe(path.join("/p", ".tools", "pwsh", "pwsh.exe"));
    expect(localPwshInstallArgs("/p")).toEqual(["tool", "install", "PowerShell", "--version", "7.6.9", "--tool-path", "/p/.tools/pwsh"]);
    expect(localPwshInstallArgs("/p")).not.toContain("--global");
  });

  it("the install hint offers both the global tool and the local folder", () => {
    expect(PWSH_INSTALL_HINT).toContain("dotnet tool install --global PowerShell --version 7.6.9");
    expect(PWSH_INSTALL_HINT).toContain("dotnet tool install PowerShell --version 7.6.9 --tool-path .tools/pwsh");
  });

  it("test/prepare.sh reads the folder and the version from localPwsh.ts (one place says them)", () => {
    const prepare = fs.readFileSync(path.join(packageRoot(), "test", "prepare.sh"), "utf8");
    expect(prepare).not.toContain(PWSH_VERSION);
    // Its reader, run by bash on the real localPwsh.ts.
    const reader = prepare.split("\n").find((line) => line.startsWith("local_pwsh_const()"));
    expect(reader).toBeDefined();
    const read = execFileSync("bash", ["-c", `${reader}\nlocal_pwsh_const PWSH_VERSION; local_pwsh_const LOCAL_PWSH_DIR`], {
      cwd: packageRoot(),
      encoding: "utf8",
    });
    expect(read).toBe(`${PWSH_VERSION}\n${LOCAL_PWSH_DIR}\n`);
  });
});
