/**
 * The recorded `rds-sim` session the in-process CLI tests replay (test/fixtures/recorded/cli/session.json):
 * its shape, where it lives, and how a replay answers the driver actions from it.
 *
 * Each step is one CLI run (argv after `--state-dir`), the driver actions it sent with what the real
 * emulator answered, and what the CLI printed; an "activate" step is the WMI activation and CAL installs
 * done through pwsh between CLI runs (nothing to replay: the later answers already reflect it).
 */
import * as path from "path";
import { packageRoot } from "../../provider/paths";
import type { EmulatorView } from "../../provider/emulator/cli/driver";

export const SESSION_FILE = path.join(packageRoot(), "test", "fixtures", "recorded", "cli", "session.json");

/** The state dir the recording's temp dir is rewritten to, so recorded text does not depend on where it ran. */
export const RECORDED_STATE_DIR = "/rds-sim-recorded/state";

export interface RecordedCall {
  action: string;
  args: Record<string, unknown>;
  ok: boolean;
  result?: EmulatorView;
  error?: string;
}

export interface RecordedRun {
  kind: "cli";
  name: string;
  argv: string[];
  calls: RecordedCall[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RecordedActivation {
  kind: "activate";
  name: string;
  /** What the activation script printed: return values and the installed KeyPackIds. */
  output: string[];
}

export type RecordedStep = RecordedRun | RecordedActivation;
