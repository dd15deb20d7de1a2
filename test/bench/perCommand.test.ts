/**
 * The ssh benchmark's per-command baseline (bench/perCommand.ts): the ssh client's command line and
 * the program the far side's pwsh reads on stdin.
 *
 * Real: a local pwsh (found as the provider finds it), standing in for the far side's pwsh behind
 * `ssh ... pwsh -Command -`, runs the program exactly as written, with Bootstrap.ps1, the WMI
 * emulator and the Echo fixture script. Stands in: the ssh hop (the ssh benchmark makes it for real;
 * here only its command line is checked), Windows (the emulator).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { perCommandArgv, perCommandProgram } from "../../bench/perCommand";
import { encodeEnvelope } from "../../provider/powershell/envelope";
import { findPwsh } from "../../provider/powershell/executable";
import { parseResultDocument } from "../../provider/powershell/result";
import { fixture } from "../powershell/support";

const settings = { keyFile: "/lab/client_ed25519", knownHostsFile: "/lab/known_hosts", remotePwsh: "/opt/lab/pwsh" };
const SECRET = "s3cret-license-code-4417300";

describe("per-command baseline", () => {
  it("dials a new strict, non-interactive ssh connection that runs a pwsh reading stdin", () => {
    const argv = perCommandArgv({ user: "rdstest", address: "127.0.0.1", port: 2222 }, settings);
    expect(argv.slice(0, 4)).toEqual(["-p", "2222", "-i", "/lab/client_ed25519"]);
    for (const option of ["BatchMode=yes", "StrictHostKeyChecking=yes", "IdentitiesOnly=yes", "UserKnownHostsFile=/lab/known_hosts"])
      expect(argv[argv.indexOf(option) - 1]).toBe("-o");
    const remote = argv.slice(argv.indexOf("rdstest@127.0.0.1") + 1);
    expect(remote).toEqual(["/opt/lab/pwsh", "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", "-"]);
  });

  it("runs the operation script with its envelope on the far side and prints one result document", () => {
    const pwsh = findPwsh();
    if (!pwsh.found) throw new Error(pwsh.reason);
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-percommand-"));
    try {
      const envelope = encodeEnvelope({ operation: "bench.echo", host: "ls01", args: { licenseCode: SECRET } });
      const program = perCommandProgram({ stateDir, host: "ls01", script: fixture("Echo"), envelope });
      // The envelope travels inside the program (stdin), one quoted literal, never as plain text.
      expect(program).not.toContain(SECRET);
      expect(program.split("\n").filter((line) => line.includes(envelope))).toHaveLength(1);
      const run = spawnSync(pwsh.path, ["-NoLogo", "-NoProfile", "-NonInteractive", "-Command", "-"], {
        input: program,
        encoding: "utf8",
        timeout: 90_000,
      });
      expect(run.status).toBe(0);
      const document = parseResultDocument(run.stdout, { host: "ls01", operation: "bench.echo" });
      expect(document.ok).toBe(true);
      const result = (document as { result: { envelope: { host: string; args: { licenseCode: string } } } }).result;
      expect(result.envelope.host).toBe("ls01");
      expect(result.envelope.args.licenseCode).toBe(SECRET);
      expect(typeof document.scriptMs).toBe("number");
    } finally {
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
