/**
 * Run before every test file (jest.config.js setupFilesAfterEnv). Jest runs two files at a time in
 * long-lived worker processes, so each file must leave nothing behind for the next one:
 *
 * - its own CAL pack install journal directory (RDS_JOURNAL_DIR, inherited by the provider hosts it
 *   starts), removed after the file, never the user's home. A file that needs a journal it can look
 *   into sets RDS_JOURNAL_DIR itself, which wins. (Files reuse resource and host names: sharing
 *   ~/.pulumi-rds-licensing/journal, one file's entries were another's.)
 * - its own journal key (RDS_JOURNAL_KEY_FILE, in a folder of its own beside the journal: the key must
 *   live outside the journal folder), never ~/.pulumi-rds-licensing/journal.key.
 * - no warm pwsh: the file's session pool is closed after it (gracefully, so this worker reaps its
 *   children). A pwsh left warm outlived its file until the worker itself was stopped, and a worker
 *   stopped by force at the end of the run left them to exit as orphans.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { closeAll } from "../../provider/powershell/pool";

const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-test-journal-"));
process.env.RDS_JOURNAL_DIR = journalDir;
const journalKeyDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-test-journal-key-"));
process.env.RDS_JOURNAL_KEY_FILE = path.join(journalKeyDir, "journal.key");

afterAll(async () => {
  await closeAll();
  fs.rmSync(journalDir, { recursive: true, force: true });
  fs.rmSync(journalKeyDir, { recursive: true, force: true });
});
