/**
 * Test helper (not a test file): the in-process setup the RdsLicenseServer fast files share
 * (provider.fast.test.ts, group.provider.fast.test.ts). The provider runs in this process
 * (engine/inProcessHost.ts) over the FakeWorld behind a FakeRunner (test/fake/), through a runner core
 * that records each operation script the provider ran and the world's answer (test/fake/opRecorder.ts);
 * the administrator's actions go through `Sim` (test/reliability/support.ts). The state directory and
 * the journal are useFastJournal's.
 */
import { createEngine, type Engine } from "../../../engine/engine";
import { startInProcessHost } from "../../../engine/inProcessHost";
import { resetOperationRunner, setOperationRunner } from "../../../provider/powershell/runner";
import { useFastJournal } from "../../fake/fastJournal";
import { recordOperations } from "../../fake/opRecorder";
import { FakeRunner } from "../../fake/runner";
import type { FakeWorld } from "../../fake/world";
import { providerTableOf, providers, Sim } from "../../reliability/support";
import { programFor } from "./program";

/**
 * Registers the journal and the recording runner core as beforeAll/afterAll hooks: call it at the top level
 * of the test file, before its own hooks. Each test starts with `fresh()`.
 */
export function useInProcessProvider(name: string) {
  const { stateDir } = useFastJournal(name);
  let runner: FakeRunner;
  /** The provider's scripts, as the world answered them (the administrator's actions are not recorded). */
  const { core: recordingCore, ops } = recordOperations(() => runner);
  const sim = new Sim(stateDir);

  beforeAll(() => setOperationRunner(recordingCore));
  afterAll(() => resetOperationRunner());

  /** A fresh world (every host created again with the emulator's defaults on first use) and an empty record. */
  function fresh(): void {
    runner = new FakeRunner();
    ops.length = 0;
  }

  /** The current test's world (after `fresh()`). */
  const world = (): FakeWorld => runner.world;

  const host = startInProcessHost({ providers: providerTableOf(providers()) });
  const newEngine = (): Engine => createEngine(host);

  return { stateDir, ...programFor(stateDir), ops, sim, fresh, world, newEngine };
}
