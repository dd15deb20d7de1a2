/**
 * Test helper (not a test file): the connection the resource script suites
 * (test/resources/<name>/scripts.test.ts) run on, and which of their tests also run over ssh.
 *
 * By default a suite runs on the simulator (local pwsh + the WMI emulator), every test of it: that is
 * where every outcome of every operation script is contract-tested. test/transports/ssh-*-suites.test.ts
 * switch this helper to the ssh transport (a real sshd on 127.0.0.1 with the emulator on the far side,
 * `useScriptTransport`) before they require a suite. Over ssh only the tests the suite declares with
 * `test.remote` / `it.remote` register: what ssh can break is the crossing (shipped modules, the
 * envelope, results and typed errors through Invoke-Command), not the scripts' logic, so one success
 * and one typed error per script prove it. Plain `test` / `it` (imported from here) register only on
 * the simulator. Every operation run over ssh is recorded, so the ssh file can check that every
 * operation script crossed (`remoteOutcomes`, `operationScripts`).
 */
import * as fs from "fs";
import * as path from "path";
import { providerFile } from "../../provider/paths";
import { poolRunner, setOperationRunner } from "../../provider/powershell/runner";
import type { Connection } from "../../provider/powershell/transport";

type Factory = (host: string, stateDir: string) => Connection;

let factory: Factory | undefined;
let label = "simulator";

/** What each operation script did over the remote transport in this test file: "ok" and/or "error". */
const outcomes = new Map<string, Set<"ok" | "error">>();

/** Jest's own `test`, taken before this module's `test` shadows the name. */
const jestTest: jest.It = (globalThis as unknown as { test: jest.It }).test;

/**
 * Switches the suites of this test file to another transport (call it before requiring them), and
 * records from then on which script ran there and how it ended.
 */
export function useScriptTransport(name: string, make: Factory): void {
  label = name;
  factory = make;
  setOperationRunner(async (connection, call) => {
    const outcome = await poolRunner(connection, call);
    if (connection.transport !== "simulator") {
      const seen = outcomes.get(call.script) ?? new Set();
      seen.add(outcome.document.ok ? "ok" : "error");
      outcomes.set(call.script, seen);
    }
    return outcome;
  });
}

/** The connection for an emulated `host` whose state lives in `stateDir`. */
export function scriptConnection(host: string, stateDir: string): Connection {
  return factory ? factory(host, stateDir) : { transport: "simulator", host, stateDir };
}

/** "simulator", "ssh-key", "ssh-password": for test names and messages. */
export function scriptTransportName(): string {
  return label;
}

/** A suite's test declaration: plain calls run on the suite's own transport only; `.remote` ones over ssh too. */
export interface SuiteTest {
  (name: string, fn: jest.ProvidesCallback, timeout?: number): void;
  each: jest.Each;
  /** Jest's `test`: this case runs on the simulator and again over ssh (one per script and kind of outcome). */
  remote: jest.It;
}

/** Decided when the test is declared: the suite is required after `useScriptTransport`. */
const onOwnTransport = (): boolean => factory === undefined;

function suiteTest(): SuiteTest {
  const own = (name: string, fn: jest.ProvidesCallback, timeout?: number): void => {
    if (onOwnTransport()) jestTest(name, fn, timeout);
  };
  const each = (...table: unknown[]) => {
    const declare = (jestTest.each as unknown as (...t: unknown[]) => (name: string, fn: unknown, timeout?: number) => void)(...table);
    return (name: string, fn: unknown, timeout?: number): void => {
      if (onOwnTransport()) declare(name, fn, timeout);
    };
  };
  return Object.assign(own, { each: each as unknown as jest.Each, remote: jestTest });
}

/** Use instead of jest's `test` / `it` in the script suites (see the header). */
export const test: SuiteTest = suiteTest();
export const it: SuiteTest = test;

/**
 * The operation scripts of `resources`, as "<resource>/<name>.ps1": every .ps1 in
 * provider/resources/<resource>/ but the *.Common.ps1 companions the scripts dot-source.
 */
export function operationScripts(resources: readonly string[]): string[] {
  return resources
    .flatMap((resource) =>
      fs
        .readdirSync(providerFile(`resources/${resource}`))
        .filter((name) => name.endsWith(".ps1") && !name.endsWith(".Common.ps1"))
        .map((name) => `${resource}/${name}`),
    )
    .sort();
}

/** For each script under provider/resources that ran over the remote transport in this file: its outcomes, sorted. */
export function remoteOutcomes(): Record<string, string[]> {
  const resourcesDir = providerFile("resources");
  const byScript: Record<string, string[]> = {};
  for (const [script, seen] of outcomes) {
    const relative = path.relative(resourcesDir, script);
    if (relative.startsWith("..") || path.isAbsolute(relative)) continue; // test fixtures (SimAdmin.ps1)
    byScript[relative.split(path.sep).join("/")] = [...seen].sort();
  }
  return byScript;
}
