/**
 * The program both crash tests deploy (crash.test.ts with a real host process, crash.fast.test.ts in
 * process): the RdsLicensing component with a license server activated automatically, two CAL packs
 * (Enterprise Agreement and Open License) and the session host on the license server itself, a common
 * small deployment that keeps one pwsh per run. Only the arguments are shared: each file wraps them in
 * the program runner of its own engine.
 */
import type { RdsLicensingArgs } from "../../provider/resources/component/rdsLicensing";

/** The farm on one emulated host (`stateDir`: the emulator state directory the connection names). */
export function crashFarmArgs(host: string, stateDir: string): RdsLicensingArgs {
  const conn = { transport: "simulator" as const, host, stateDir };
  return {
    licenseServer: {
      connection: conn,
      contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
      activation: { method: "automatic" },
    },
    calPacks: [
      {
        name: "users",
        program: "enterpriseAgreement",
        agreementNumber: "2468135",
        productVersion: "2022",
        calType: "perUser",
        quantity: 25,
      },
      {
        name: "more",
        program: "openLicense",
        licenseNumber: "13572468",
        authorizationNumber: "QW12ER34TY56UI7",
        productVersion: "2019",
        calType: "perUser",
        quantity: 10,
      },
    ],
    mode: "perUser",
    sessionHosts: [{ name: "sh", connection: conn }],
  };
}
