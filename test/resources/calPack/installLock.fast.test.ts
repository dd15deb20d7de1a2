/**
 * The install lock (provider/resources/calPack/installLock.ts) and the keyed journal fingerprint
 * (journal.ts, journalKey.ts), in process.
 *
 * Real: the lock module and the journal on disk (temporary folders), the O_EXCL lock files, rename,
 * process liveness of real pids (a child process that exited; this process's parent, alive).
 * Stands in: the holders in other processes (lock files written by the test with their pid), the
 * create that holds the lock (a function that counts who is inside). The two-process proof through
 * real provider hosts is twoProcesses.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ErrorCode, RdsError } from "../../../provider/errors";
import { lockFile, withInstallLock, type LockHolder } from "../../../provider/resources/calPack/installLock";
import * as journal from "../../../provider/resources/calPack/journal";
import { tempDir } from "./support";

const root = tempDir("install-lock");
let n = 0;
/** A fresh journal folder and key file for one test (the key is cached per path). */
function fresh(): string {
  const dir = path.join(root, `j${++n}`, "journal");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.RDS_JOURNAL_DIR = dir;
  process.env.RDS_JOURNAL_KEY_FILE = path.join(root, `j${n}`, "journal.key");
  return dir;
}

afterAll(() => {
  delete process.env.RDS_JOURNAL_KEY_FILE;
  fs.rmSync(root, { recursive: true, force: true });
});

const HOST = "ls.contoso.com";
const request = (dir: string, maxWaitMs = 60_000) => ({ host: HOST, dir, maxWaitMs, doing: "installing 2022 Per User CAL pack (spla)" });

function holder(pid: number, over: Partial<LockHolder> = {}): LockHolder {
  return { pid, hostname: os.hostname(), token: `t-${pid}`, acquiredAt: new Date().toISOString(), ...over };
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  return spawnSync(process.execPath, ["-e", "0"]).pid!;
}

const leftovers = (dir: string) => fs.readdirSync(dir).filter((f) => f.includes(".lock"));

describe("the install lock", () => {
  test("same-process creates of one server run one at a time, in the order they came", async () => {
    const dir = fresh();
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        withInstallLock(request(dir), async () => {
          inside++;
          most = Math.max(most, inside);
          order.push(i);
          await new Promise((r) => setImmediate(r));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(leftovers(dir)).toEqual([]);
  });

  test("a failing holder releases the lock", async () => {
    const dir = fresh();
    await expect(withInstallLock(request(dir), async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await withInstallLock(request(dir), async () => "next")).toBe("next");
    expect(leftovers(dir)).toEqual([]);
  });

  test("a lock left by a dead process is taken over; nothing of it is left", async () => {
    const dir = fresh();
    fs.writeFileSync(lockFile(dir, HOST), JSON.stringify(holder(deadPid())), { mode: 0o600 });
    expect(await withInstallLock(request(dir), async () => "ran")).toBe("ran");
    expect(leftovers(dir)).toEqual([]);
  });

  test("a lock whose pid now belongs to another process (a reused pid) is taken over", async () => {
    const dir = fresh();
    fs.writeFileSync(lockFile(dir, HOST), JSON.stringify(holder(process.ppid, { processStart: "1" })), { mode: 0o600 });
    expect(await withInstallLock(request(dir), async () => "ran")).toBe("ran");
  });

  test("an old torn lock file (its holder died between creating and writing it) is taken over", async () => {
    const dir = fresh();
    const file = lockFile(dir, HOST);
    const old = new Date(Date.now() - 3_600_000);
    fs.writeFileSync(file, "", { mode: 0o600 });
    fs.utimesSync(file, old, old);
    expect(await withInstallLock(request(dir), async () => "ran")).toBe("ran");
    expect(leftovers(dir)).toEqual([]);
  });

  test("a live holder is waited for, boundedly: RDS_TIMEOUT naming the lock file and the holder's pid", async () => {
    const dir = fresh();
    const file = lockFile(dir, HOST);
    fs.writeFileSync(file, JSON.stringify(holder(process.ppid)), { mode: 0o600 });
    let ran = false;
    const err = await withInstallLock(request(dir, 100), async () => (ran = true)).catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(RdsError);
    expect((err as RdsError).code).toBe(ErrorCode.Timeout);
    expect((err as RdsError).message).toContain(file);
    expect((err as RdsError).message).toContain(`pid ${process.ppid}`);
    // The live lock is untouched.
    expect(JSON.parse(fs.readFileSync(file, "utf8")).pid).toBe(process.ppid);
  });

  test("a lock of another machine is never broken, even with a pid that is dead here", async () => {
    const dir = fresh();
    const file = lockFile(dir, HOST);
    fs.writeFileSync(file, JSON.stringify(holder(deadPid(), { hostname: `not-${os.hostname()}` })), { mode: 0o600 });
    const err = await withInstallLock(request(dir, 100), async () => "ran").catch((e: unknown) => e);
    expect((err as RdsError).code).toBe(ErrorCode.Timeout);
    expect(fs.existsSync(file)).toBe(true);
  });
});

describe("the keyed journal fingerprint", () => {
  const content = { host: HOST, program: "spla", agreementNumber: "1234567", productVersion: "2022", calType: "perUser", quantity: 5 };

  test("depends on a key outside the journal folder: the folder alone cannot test a guess", async () => {
    const dir = fresh();
    const fp = await journal.fingerprint(content, dir);
    const key = process.env.RDS_JOURNAL_KEY_FILE!;
    expect(path.relative(dir, key).startsWith("..")).toBe(true);
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    // What the journal folder alone lets anyone compute (the salt is there): not the stored fingerprint.
    expect(await journal.fingerprintV1(content, dir)).not.toBe(fp);
    // Another key, the same folder and salt: another fingerprint.
    process.env.RDS_JOURNAL_KEY_FILE = `${key}.other`;
    expect(await journal.fingerprint(content, dir)).not.toBe(fp);
  });

  test("a key file inside the journal folder, or readable by others, is refused", async () => {
    const dir = fresh();
    process.env.RDS_JOURNAL_KEY_FILE = path.join(dir, "journal.key");
    await expect(journal.fingerprint(content, dir)).rejects.toThrow(/inside the journal folder/);
    const open = path.join(path.dirname(dir), "open.key");
    fs.writeFileSync(open, "ab".repeat(32), { mode: 0o644 });
    fs.chmodSync(open, 0o644);
    process.env.RDS_JOURNAL_KEY_FILE = open;
    await expect(journal.fingerprint(content, dir)).rejects.toThrow(/readable by other users/);
  });

  test("a version 1 entry of this declaration is recognised and rewritten as version 2; others' stay", async () => {
    const dir = fresh();
    const v1 = await journal.fingerprintV1(content, dir);
    const base = { host: HOST, status: "pending" as const, packsBefore: [3], program: "spla", productVersion: "2022", calType: "perUser" };
    const at = new Date().toISOString();
    const mineV1: journal.JournalEntry = { version: 1, journalKey: "p/s/mine", fingerprint: v1, ...base, createdAt: at, updatedAt: at };
    const otherV1: journal.JournalEntry = {
      version: 1,
      journalKey: "p/s/other",
      fingerprint: v1,
      ...base,
      keyPackId: 9,
      status: "returned",
      createdAt: at,
      updatedAt: at,
    };
    journal.writeEntry(mineV1, dir);
    journal.writeEntry(otherV1, dir);
    const me = { journalKey: "p/s/mine", fingerprint: await journal.fingerprint(content, dir) };
    const entries = await journal.resolveEntries(HOST, me, content, dir);
    const mine = entries.find((e) => e.journalKey === "p/s/mine")!;
    expect(mine).toMatchObject({
      version: 2,
      keyId: journal.currentKeyId(),
      fingerprint: me.fingerprint,
      status: "pending",
      packsBefore: [3],
    });
    expect(entries.find((e) => e.journalKey === "p/s/other")).toMatchObject({ version: 1, fingerprint: v1 });
    // On disk: the old fingerprint of this declaration is gone, the other resource's entry is untouched.
    const onDisk = journal.entriesFor(HOST, dir);
    expect(onDisk.map((e) => [e.journalKey, e.version]).sort()).toEqual([
      ["p/s/mine", 2],
      ["p/s/other", 1],
    ]);
    // A second look finds the version 2 entry as is.
    expect((await journal.resolveEntries(HOST, me, content, dir)).find((e) => e.journalKey === "p/s/mine")).toEqual(mine);
  });

  test("an entry of this journalKey under another key claims nothing (its pack stays a candidate); others' still claim", async () => {
    fresh();
    const at = new Date().toISOString();
    const base = { host: HOST, status: "returned" as const, packsBefore: [], program: "spla", productVersion: "2022", calType: "perUser" };
    const lostKey = { version: 2 as const, keyId: "0000000000000000", fingerprint: "f", ...base, createdAt: at, updatedAt: at };
    const entries: journal.JournalEntry[] = [
      { ...lostKey, journalKey: "p/s/mine", keyPackId: 4 },
      { ...lostKey, journalKey: "p/s/other", keyPackId: 5 },
    ];
    expect(journal.comparableEntries(entries, { journalKey: "p/s/mine" }).map((e) => e.keyPackId)).toEqual([5]);
  });
});
