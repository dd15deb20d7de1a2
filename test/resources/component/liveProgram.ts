/**
 * The component tests' door to engine/program.ts: a REAL Pulumi program run one `pulumi up` at a time
 * against a provider host. Importing it also registers the stopping of every host process with Jest's
 * `afterAll` (through test/helpers/providerHost.ts). Not a test file.
 */
import "../../helpers/providerHost";

export * from "../../../engine/program";
