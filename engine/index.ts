/**
 * The engine emulation: the Pulumi engine's step logic (engine.ts) over a provider host, either the
 * real dynamic-provider host process driven over gRPC (hostProcess.ts, grpcHost.ts) or provider objects
 * in this process (inProcessHost.ts); the SDK's real registrations and `__provider` strings
 * (capture.ts); a real Pulumi program run against it (program.ts). Product code: the demo's bundled
 * harness (scripts/harness.ts) and the benchmark (bench/) run on it, and the tests drive it.
 * It never imports from test/.
 */
export * from "./secrets";
export * from "./hostProtocol";
export * from "./hostProcess";
export * from "./grpcHost";
export * from "./inProcessHost";
export * from "./state";
export * from "./spec";
export * from "./engine";
export * from "./capture";
export * from "./program";
export * from "./calPackWiring";
