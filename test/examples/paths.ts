/** Where the examples, the demo and the docs are (shared by the tests in this folder). Not a test file. */
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const EXAMPLES_DIR = path.join(ROOT, "examples");
/** The built demo, what `npm run demo` runs after building (package.json scripts.demo). */
export const DEMO_SCRIPT = "bin/scripts/demo.js";
