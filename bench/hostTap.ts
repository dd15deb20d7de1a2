/**
 * Preloaded into the dynamic-provider host by the fleet benchmark (NODE_OPTIONS=--require): records
 * the pool's events (pwsh started / exited, every script with the time the pool saw and the script's
 * own run time) as JSON lines in $RDS_BENCH_TAP_FILE, so the benchmark can count pwsh processes and
 * invocations inside the host process, which it cannot see from outside.
 *
 * It subscribes to the same pool module the provider loads (bin/provider/powershell/pool.js). Lines
 * are buffered and flushed every 100 ms (and at exit), so the tap adds no synchronous file I/O to the
 * operations it measures. Nothing here carries an argument or a command: keys, pids, names, times.
 */
import * as fs from "fs";
import { onPoolEvent } from "../provider/powershell/pool";

const file = process.env.RDS_BENCH_TAP_FILE;
if (file) {
  let buffer: string[] = [];
  const flush = () => {
    if (buffer.length === 0) return;
    const text = buffer.join("");
    buffer = [];
    fs.appendFileSync(file, text);
  };
  onPoolEvent((event) => {
    buffer.push(JSON.stringify({ t: performance.timeOrigin + performance.now(), ...event }) + "\n");
  });
  setInterval(flush, 100).unref();
  process.on("exit", flush);
}
