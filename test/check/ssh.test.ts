/**
 * `rds-licensing check` over ssh, from a YAML inventory whose password is given by reference
 * (`passwordEnv`): the same findings as on the simulator transport, the password in no output.
 *
 * Real: the check's command line (main, in this process), the ssh transport (its exec channel: an ssh
 * client whose remote pwsh 7 is the session, to a real OpenSSH server on the loopback, password
 * authentication through the askpass helper), the scripts shipped to the far side, js-yaml.
 * Stands in: Windows, by the WMI emulator the far side imports (the lab option `emulator: { stateDir }`,
 * state built by test/check/farm.ts and handed to the lab account); the ssh lab is the loopback
 * (scripts/sshLab.ts).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { main } from "../../provider/check/main";
import type { CheckReport } from "../../provider/check/report";
import { LAB_USER, SshLab, labPwshPath } from "../transports/sshLab";
import { Farm, LS } from "./farm";

const lab = new SshLab();
let farm: Farm;

beforeAll(async () => {
  await lab.start();
  farm = await Farm.build(2);
  await farm.plant({ wrongMode: "sh01.contoso.com", networkCut: "sh02.contoso.com", groupPolicy: "sh02.contoso.com", usersOver: 80 });
  // The far side runs as the lab account: it must own the emulator's state (locks, call logs).
  const uid = Number(execFileSync("id", ["-u", LAB_USER], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", LAB_USER], { encoding: "utf8" }).trim());
  lab.shareStateDir(farm.stateDir);
  for (const f of fs.readdirSync(farm.stateDir, { recursive: true }) as string[]) fs.chownSync(path.join(farm.stateDir, f), uid, gid);
}, 600_000);

afterAll(async () => {
  await lab.stop();
  await farm?.close();
});

it("reads the farm over ssh with the password from the environment, and finds the same problems", async () => {
  const inventory = `${farm.stateDir}-ssh.yaml`;
  fs.writeFileSync(
    inventory,
    [
      "mode: perUser",
      "connection:",
      "  transport: ssh",
      `  address: ${lab.address}`,
      `  port: ${lab.port}`,
      `  user: ${lab.user}`,
      // The exec channel starts the lab's pwsh by its path (not on the lab account's PATH).
      `  shell: ${JSON.stringify(labPwshPath())}`,
      "  passwordEnv: RDS_CHECK_TEST_PASSWORD",
      `  hostKey: ${JSON.stringify(lab.hostKey)}`,
      `  emulator: { stateDir: ${JSON.stringify(farm.stateDir)} }`,
      `licenseServer: ${LS}`,
      "sessionHosts:",
      ...farm.hosts.map((h) => `  - ${h}`),
      "",
    ].join("\n"),
  );
  let stdout = "";
  let stderr = "";
  try {
    const code = await main(["check", "--inventory", inventory, "--json"], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      cwd: process.cwd(),
      env: { ...process.env, RDS_CHECK_TEST_PASSWORD: lab.password },
    });
    const report = JSON.parse(stdout) as CheckReport;
    expect(report.unreadable).toEqual([]);
    expect(code).toBe(1);
    expect(report.facts.sessionHosts.map((h) => h.host)).toEqual(farm.hosts);
    const failing = report.findings.filter((f) => f.status === "fail").map((f) => f.id);
    expect(failing).toEqual(["RDS-LIC-004", "RDS-LIC-006", "RDS-LIC-008", "RDS-LIC-009", "RDS-LIC-010", "RDS-LIC-013"]);
    expect(report.findings.find((f) => f.id === "RDS-LIC-013")!.detail).toContain(`sh02.contoso.com -> ${LS}: 6 LS_NOT_CONNECTABLE`);
    expect(stdout + stderr).not.toContain(lab.password);
  } finally {
    fs.rmSync(inventory, { force: true });
  }
}, 600_000);
