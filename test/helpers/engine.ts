/**
 * The tests' door to the engine emulation (engine/engine.ts: the Pulumi engine's step logic over a
 * provider host, its state, and the program-as-data specs). Importing it also registers the stopping
 * of every host process with Jest's `afterAll` (through ./providerHost). Not a test file.
 */
import "./providerHost";

export * from "../../engine/state";
export * from "../../engine/spec";
export * from "../../engine/engine";
export { containsSecrets, UNKNOWN } from "../../engine/secrets";
