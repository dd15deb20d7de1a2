/**
 * A CAL pack's license-server inputs taken from its license server's outputs in state, as the SDK
 * resolves them for a program that passes `licenseServer: server` to RdsCalPack (the class's own
 * wiring is in provider/resources/calPack/resource.ts). For programs given as data (engine specs),
 * where no SDK resolves the Outputs: the benchmark's fleet and the CAL pack provider tests.
 */
import type { Props } from "./secrets";
import { apply } from "./spec";

/**
 * `registered` (the pack's registered inputs, with `__provider`) with connection, licenseServerName
 * and licenseServerActivationMethod from `serverOutputs` (engine form: the secret connection stays
 * wrapped; in preview, unknowns stay unknown). The activation method is the one the server used, or the
 * declared one when it was activated out of band ("external") or not yet.
 */
export function calPackInputsFromServer(registered: Props, serverOutputs: Props): Props {
  return {
    ...registered,
    connection: serverOutputs.connection,
    licenseServerName: serverOutputs.serverName,
    licenseServerActivationMethod: apply([serverOutputs.activationMethod, serverOutputs.activation] as const, ([made, declared]) =>
      made && made !== "external" ? made : ((declared as { method?: string } | undefined)?.method ?? ""),
    ),
  };
}
