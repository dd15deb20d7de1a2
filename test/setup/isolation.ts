/**
 * Run before every test file (jest.config.js setupFilesAfterEnv). Jest runs two files at a time, and
 * a test must never write into the user's home: each file gets its own CAL pack install journal
 * directory (RDS_JOURNAL_DIR, inherited by the provider hosts it starts), removed after the file. A
 * file that needs a journal it can look into sets RDS_JOURNAL_DIR itself, which wins.
 *
 * Without it, files that create CAL packs shared ~/.pulumi-rds-licensing/journal: entries of one file
 * (keyed by resource name and host name, which files reuse) were seen by another.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), "rds-test-journal-"));
process.env.RDS_JOURNAL_DIR = journalDir;

afterAll(() => {
  fs.rmSync(journalDir, { recursive: true, force: true });
});
