/**
 * Test helper (not a test file): a runner core over the fake world that records each operation script a
 * provider ran (`<resource>/<script>`, the host, the world's answer), in order. The fake world keeps no
 * WMI call log, so the provider files assert "what ran on the host" on this record. The administrator's
 * actions (fixtures/RelAdmin.ps1, not under provider/resources) are not recorded.
 */
import type { Props } from "../../engine/secrets";
import type { ScriptErrorDocument } from "../../provider/powershell/result";
import type { OperationRunner } from "../../provider/powershell/runner";
import type { FakeRunner } from "./runner";

/** One operation script of a provider as the world answered it. */
export interface OpRecord {
  op: string;
  host: string;
  ok: boolean;
  result?: Props;
  error?: ScriptErrorDocument;
}

const SCRIPT = /[\\/]resources[\\/](\w+)[\\/](\w+)\.ps1$/;

/** A core that answers from `runnerOf()` (read at each call: a test may start a fresh world) and records into `ops`. */
export function recordOperations(runnerOf: () => FakeRunner): { core: OperationRunner; ops: OpRecord[] } {
  const ops: OpRecord[] = [];
  const core: OperationRunner = async (connection, call) => {
    const outcome = await runnerOf().core(connection, call);
    const m = SCRIPT.exec(call.script);
    if (m) {
      const d = outcome.document;
      ops.push({
        op: `${m[1]}/${m[2]}`,
        host: connection.host.toLowerCase(),
        ok: d.ok,
        ...(d.ok ? { result: d.result as Props } : { error: d.error }),
      });
    }
    return outcome;
  };
  return { core, ops };
}
