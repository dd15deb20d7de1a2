/**
 * Contract: the FakeWorld answers every recorded scenario exactly as the emulator did.
 *
 * Real: the recorded outcomes (test/fixtures/recorded/*.json, written by scripts/record-fake-fixtures.ts
 * through the real runner, real pwsh, the real operation scripts and the emulator), the runner's own
 * error typing and result validation (result.ts), the normalisation the recorder applied (a duration,
 * script line positions: see the recorder's header).
 * Stands in: pwsh, the scripts and the emulator, replaced by the FakeWorld behind the FakeRunner; this
 * test is what proves the replacement faithful. No pwsh runs here.
 *
 * Each scenario starts from a fresh world: the setup actions (RelAdmin.ps1's) run on it, their recorded
 * answers must match (a retail code by its terms: the rest of it is random), then the operation's outcome (result document, or the typed error's code,
 * message, script code, method, class and WBEM code) must equal the recorded one.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { packageRoot } from "../../provider/paths";
import { normalise, outcomeOfError, scriptFor, type Outcome, type RecordedScenario } from "../../scripts/record-fake-fixtures";
import { FakeRunner } from "./runner";
import { retailTerms } from "./wmi";

const RECORDED = path.join(packageRoot(), "test", "fixtures", "recorded");
const ADMIN_SCRIPT = path.join(packageRoot(), "test", "reliability", "fixtures", "RelAdmin.ps1");
const STATE_DIR = path.join(packageRoot(), "fake-state-never-written");

function load(resource: string): RecordedScenario[] {
  return JSON.parse(fs.readFileSync(path.join(RECORDED, `${resource}.json`), "utf8")) as RecordedScenario[];
}

async function replay(s: RecordedScenario): Promise<{ setup: unknown[]; outcome: Outcome }> {
  const runner = new FakeRunner();
  const undo = runner.install();
  try {
    const setup: unknown[] = [];
    for (const step of s.setup) {
      const { result: _recorded, ...args } = step as Record<string, unknown>;
      setup.push(
        await runner.run(
          { transport: "simulator", host: "recorder-admin.invalid", stateDir: STATE_DIR },
          { name: `record.admin.${step.action}`, script: ADMIN_SCRIPT, args, result: z.any() },
        ),
      );
    }
    let outcome: Outcome;
    try {
      const result = await runner.run(
        { transport: "simulator", host: s.host, stateDir: STATE_DIR },
        { name: s.operation, script: scriptFor(s.operation), args: s.args, result: z.unknown() },
      );
      outcome = { ok: true, result };
    } catch (e) {
      outcome = outcomeOfError(e);
    }
    return { setup, outcome: normalise(s.operation, outcome) };
  } finally {
    undo();
  }
}

describe.each(["licenseServer", "calPack", "sessionHostLicensing"])("%s: the fake world answers as the emulator did", (resource) => {
  const scenarios = load(resource);

  test("there are recorded scenarios, with unique names", () => {
    expect(scenarios.length).toBeGreaterThan(10);
    expect(new Set(scenarios.map((s) => s.name)).size).toBe(scenarios.length);
  });

  test.each(scenarios.map((s) => [s.name, s] as const))("%s", async (_name, s) => {
    const got = await replay(s);
    s.setup.forEach((step, i) => {
      if (!("result" in step)) return;
      // A retail code is random apart from its terms (characters 20-23: type, version, quantity).
      const comparable =
        step.action === "retailCode"
          ? (code: unknown) => ({ length: String(code).length, terms: retailTerms(String(code)) })
          : (x: unknown) => x;
      expect({ step: step.action, result: comparable(got.setup[i]) }).toEqual({ step: step.action, result: comparable(step.result) });
    });
    expect(got.outcome).toEqual(s.outcome);
  });
});
