/**
 * `rds-licensing check` input: the command line (args.ts) and the inventory (inventory.ts), from text to
 * the validated plan, and every refusal (exit 2 material: the field named, the fix given, no secret).
 *
 * Real: the argument parser, the zod inventory schema, js-yaml, the package's connection schema.
 * Stands in: nothing runs on a host (no pwsh); inventory files are written to a temp directory; the
 * environment is a plain object.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONNECTION_FLAGS, parseCheckArgs } from "../../provider/check/args";
import { CheckInputError } from "../../provider/check/errors";
import { parseInventory, planFrom } from "../../provider/check/inventory";
import { main } from "../../provider/check/main";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-check-inv-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** The plan of a command line, through the same steps as main(). */
function planOf(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const args = parseCheckArgs(argv, dir);
  return planFrom(parseInventory(args.inventory, args.source), env);
}

/** The CheckInputError a command line raises (fails the test when none is raised). */
function refusal(argv: string[], env: NodeJS.ProcessEnv = {}): CheckInputError {
  try {
    planOf(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(CheckInputError);
    expect((e as CheckInputError).code).toBe("RDS_VALIDATION");
    return e as CheckInputError;
  }
  throw new Error(`expected a refusal of ${argv.join(" ")}`);
}

describe("flags", () => {
  it("builds one connection per host from the flags: repeated and comma-listed session hosts, in order", () => {
    const plan = planOf([
      "check",
      "--license-server",
      "ls01",
      "--session-host",
      "sh1,sh2",
      "--session-host",
      "sh3",
      "--transport",
      "simulator",
      "--state-dir",
      "/tmp/x",
      "--mode",
      "perUser",
    ]);
    expect(plan.mode).toBe("perUser");
    expect(plan.licenseServer).toEqual({ name: "ls01", connection: { transport: "simulator", host: "ls01", stateDir: "/tmp/x" } });
    expect(plan.sessionHosts.map((h) => h.connection)).toEqual(
      ["sh1", "sh2", "sh3"].map((host) => ({ transport: "simulator", host, stateDir: "/tmp/x" })),
    );
  });

  it("works without the word check, and the mode may be left out", () => {
    const plan = planOf(["--license-server", "ls01", "--session-host", "sh1", "--transport", "simulator"]);
    expect(plan.mode).toBeUndefined();
  });

  it("reads a password from the variable --password-env names, never from the command line", () => {
    const plan = planOf(
      [
        "--license-server",
        "ls01",
        "--session-host",
        "sh1",
        "--transport",
        "winrm",
        "--user",
        "admin",
        "--password-env",
        "RDS_PW",
        "--port",
        "5986",
      ],
      {
        RDS_PW: "s3cret!",
      },
    );
    expect(plan.sessionHosts[0]!.connection).toEqual({ transport: "winrm", host: "sh1", user: "admin", password: "s3cret!", port: 5986 });
    const e = refusal(["--license-server", "ls01", "--session-host", "sh1", "--transport", "winrm", "--password", "s3cret!"]);
    expect(e.message).toBe("--password: secrets are never given on the command line (other users can read it)");
    expect(e.fix).toBe("use --password-env NAME");
    expect(`${e.message} ${e.fix}`).not.toContain("s3cret!");
  });

  it("refuses, naming the flag and the fix", () => {
    expect(refusal(["--session-host", "sh1", "--transport", "simulator"]).message).toBe("--license-server: required");
    expect(refusal(["--license-server", "ls01", "--transport", "simulator"]).message).toBe("--session-host: required");
    expect(refusal(["--license-server", "ls01", "--session-host", "sh1"])).toMatchObject({
      message: "licenseServer: no transport",
      fix: "set connection.transport (simulator | local | ssh | winrm), or --transport",
    });
    expect(refusal(["--license-server", "ls01", "--session-host", "sh1", "--transport", "simulator", "--mode", "perSeat"]).message).toBe(
      'flags: mode: Invalid option: expected one of "perUser"|"perDevice"',
    );
    expect(refusal(["--license-server", "ls01", "--session-host", "sh1", "--transport", "ssh", "--user", "a", "--port", "x"]).message).toBe(
      "--port: 'x' is not a whole number",
    );
    expect(
      refusal(["--license-server", "ls01", "--session-host", "sh1", "--transport", "ssh", "--user", "a", "--port", "70000"]).message,
    ).toBe("licenseServer.connection.port: port must be 1..65535");
    expect(refusal(["--license-server", "ls01", "--session-host", "sh1", "--frobnicate"]).message).toMatch(/Unknown option '--frobnicate'/);
    expect(refusal(["--license-server", "ls01", "--session-host", "sh1,SH1", "--transport", "simulator"]).message).toBe(
      "sessionHosts[1]: SH1 is listed twice (first at sessionHosts[0])",
    );
  });

  it("names the variable that is not set, not a value", () => {
    const e = refusal(["--license-server", "ls01", "--session-host", "sh1", "--transport", "ssh", "--user", "a", "--password-env", "NOPE"]);
    expect(e.message).toBe("connection.passwordEnv: the environment variable NOPE is not set");
  });
});

describe("inventory files", () => {
  it("reads YAML: defaults, per-host overrides, secrets by reference", () => {
    const file = write(
      "farm.yaml",
      [
        "mode: perDevice",
        "connection:",
        "  transport: ssh",
        "  user: rdsadmin",
        "  passwordEnv: FARM_PW",
        "  knownHostsFile: /etc/ssh/known_hosts",
        "licenseServer: ls01.contoso.com",
        "sessionHosts:",
        "  - sh01.contoso.com",
        "  - host: sh02.contoso.com",
        "    connection: { port: 2222, address: 10.0.0.12 }",
        "",
      ].join("\n"),
    );
    const plan = planOf(["check", "--inventory", file], { FARM_PW: "pw" });
    expect(plan.mode).toBe("perDevice");
    const base = { transport: "ssh", user: "rdsadmin", password: "pw", knownHostsFile: "/etc/ssh/known_hosts" };
    expect(plan.licenseServer.connection).toEqual({ ...base, host: "ls01.contoso.com" });
    expect(plan.sessionHosts.map((h) => h.connection)).toEqual([
      { ...base, host: "sh01.contoso.com" },
      { ...base, host: "sh02.contoso.com", port: 2222, address: "10.0.0.12" },
    ]);
  });

  it("reads JSON, and flags add to its connection and override its mode", () => {
    const file = write(
      "farm.json",
      JSON.stringify({ mode: "perUser", licenseServer: "ls01", sessionHosts: ["sh1"], connection: { transport: "simulator" } }),
    );
    const plan = planOf(["--inventory", file, "--state-dir", "/tmp/sim", "--mode", "perDevice"]);
    expect(plan.mode).toBe("perDevice");
    expect(plan.sessionHosts[0]!.connection).toEqual({ transport: "simulator", host: "sh1", stateDir: "/tmp/sim" });
  });

  it("refuses an inline secret, naming the field and the reference to use instead", () => {
    const file = write(
      "inline.yaml",
      "licenseServer: ls01\nsessionHosts: [sh1]\nconnection: { transport: winrm, user: a, password: hunter2 }\n",
    );
    const e = refusal(["--inventory", file]);
    expect(e.message).toBe("connection.password: secrets are never written in the inventory or on the command line");
    expect(e.fix).toBe("put the value in an environment variable and name it: passwordEnv: NAME");
    expect(`${e.message} ${e.fix}`).not.toContain("hunter2");
    const perHost = write(
      "inline2.yaml",
      "licenseServer: ls01\nsessionHosts: [{ host: sh1, connection: { privateKey: abc } }]\nconnection: { transport: ssh, user: a }\n",
    );
    expect(refusal(["--inventory", perHost]).message).toBe(
      "sessionHosts[0].connection.privateKey: secrets are never written in the inventory or on the command line",
    );
  });

  it("refuses a bad inventory, naming the field", () => {
    expect(refusal(["--inventory", write("a.yaml", "licenseServer: ls01\nsessionHosts: []\n")]).message).toMatch(
      /^inventory .*a\.yaml: sessionHosts: list at least one session host$/,
    );
    expect(refusal(["--inventory", write("b.yaml", "licenseServer: ls01\nsessionHosts: [sh1]\nsessionhost: x\n")]).message).toMatch(
      /: Unrecognized key: "sessionhost"$/,
    );
    expect(
      refusal(["--inventory", write("c.yaml", "licenseServer: ls01\nsessionHosts: [sh1]\nconnection: { transport: carrier-pigeon }\n")])
        .message,
    ).toMatch(/^licenseServer\.connection\.transport: /);
    expect(refusal(["--inventory", write("d.yaml", "licenseServer: [oops\n")]).message).toMatch(/d\.yaml: not valid YAML/);
    expect(refusal(["--inventory", write("e.txt", "x")]).message).toMatch(/unknown file type '.txt'/);
    expect(refusal(["--inventory", path.join(dir, "missing.yaml")]).message).toMatch(/missing\.yaml: no such file$/);
    expect(refusal(["--inventory", write("f.json", "[1]")]).message).toMatch(/f\.json: not a mapping$/);
    expect(refusal(["--inventory", write("g.json", "{}"), "--session-host", "sh9"]).message).toBe(
      "--license-server / --session-host: the hosts come from --inventory",
    );
  });
});

describe("the command line", () => {
  it("--help prints the usage with every flag and exits 0", async () => {
    let out = "";
    const code = await main(["check", "--help"], { stdout: (t) => (out += t), stderr: (t) => (out += t), cwd: dir, env: {} });
    expect(code).toBe(0);
    expect(out).toMatch(/^usage: rds-licensing check --license-server <host> /);
    for (const flag of [
      "--license-server",
      "--session-host",
      "--mode",
      "--inventory",
      "--json",
      ...CONNECTION_FLAGS.map((f) => `--${f.flag}`),
    ]) {
      expect(out).toContain(`  ${flag} `);
    }
    expect(out).toContain("Exit codes: 0 no error-severity finding fails; 1 errors found; 2 could not check");
  });
});
