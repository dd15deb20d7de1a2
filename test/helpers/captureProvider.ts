/**
 * The tests' door to engine/capture.ts: what the SDK really registers (inputs, serialized
 * `__provider` strings) under `pulumi.runtime.setMocks`. Not a test file.
 */
export * from "../../engine/capture";
