/**
 * FakeRunner: the core of `runOperation` (provider/powershell/runner.ts `setOperationRunner`) answered
 * by a FakeWorld instead of a warm pwsh: in process, in microseconds. Everything around the core stays
 * the real runner's: connection and spec validation (RDS_VALIDATION), the lazy `args` of a coalesced
 * batch (taken when the "script starts"), the JSON text round trip of the result document, the typed
 * RdsError of an error document (result.ts `errorFromDocument`) and the operation's own zod schema
 * (`validateResult`). Every call is recorded (operation, host, args), so a test can assert order and
 * "ran exactly once".
 *
 * Scripts are recognised by path: provider/resources/<resource>/<name>.ps1 go to the world's scripts,
 * test/reliability/fixtures/RelAdmin.ps1 to its admin actions (so `Sim` from test/reliability/support.ts
 * drives the fake world unchanged, except its file readers: use `world.view` / `world.hostText`).
 * `install()` puts it in place for the whole process; the undo it returns puts the pool back.
 */
import * as path from "path";
import {
  resetOperationRunner,
  runOperation,
  setOperationRunner,
  type OperationRunner,
  type OperationSpec,
} from "../../provider/powershell/runner";
import type { ResultDocument } from "../../provider/powershell/result";
import type { Connection } from "../../provider/powershell/transport";
import { FakeWorld } from "./world";

export interface FakeCall {
  /** The operation's name as the provider gave it ("licenseServer.get", "calPack.get", "test.relAdmin.wmi"). */
  operation: string;
  host: string;
  /** The args as the script received them (a lazy args function already called). */
  args: Record<string, unknown>;
}

const SCRIPT = /[\\/]resources[\\/](\w+)[\\/](\w+)\.ps1$/;

export class FakeRunner {
  readonly calls: FakeCall[] = [];

  constructor(readonly world: FakeWorld = new FakeWorld()) {}

  /** The runner's core: one script's result document, from the world. */
  readonly core: OperationRunner = async (connection, call) => {
    // The real core starts the script after the operations queued before it: never synchronously.
    await Promise.resolve();
    const args = call.args();
    this.calls.push({ operation: call.name, host: connection.host, args: JSON.parse(JSON.stringify(args)) });
    return { document: this.answer(call.script, connection.host, args), durationMs: 0, stderr: "" };
  };

  private answer(script: string, host: string, args: Record<string, unknown>): ResultDocument {
    if (path.basename(script) === "RelAdmin.ps1") return this.world.admin(args);
    const m = SCRIPT.exec(script);
    if (!m || !this.world.knows(m[1], m[2])) throw new Error(`FakeRunner: no fake for the script ${script}`);
    return this.world.run(m[1], m[2], host, args);
  }

  /** runOperation itself (the real one), for a test that calls operations directly; needs `install()` first. */
  run<T>(connection: Connection, op: OperationSpec<T>): Promise<T> {
    return runOperation(connection, op);
  }

  /** The calls of one operation (by name), in order. */
  callsTo(operation: string): FakeCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  /** Makes this runner the core of runOperation for the whole process; returns the undo. */
  install(): () => void {
    setOperationRunner(this.core);
    return () => resetOperationRunner();
  }
}
