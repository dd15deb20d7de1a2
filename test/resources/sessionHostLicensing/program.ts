/**
 * The RdsSessionHostLicensing test program, shared by provider.test.ts (through the real host) and
 * provider.fast.test.ts (in process over the fake world). Not a test file.
 *
 * A license server, one Per User CAL pack, and session hosts (two by default) that take the pack and
 * name the license server: real resource classes, run as a real Pulumi program by engine/program.ts.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Engine } from "../../../engine/engine";
import { makeUrn } from "../../../engine/hostProtocol";
import { RdsCalPack } from "../../../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../../../provider/resources/licenseServer/resource";
import { RdsSessionHostLicensing } from "../../../provider/resources/sessionHostLicensing/resource";

export const LS = "ls01.contoso.com";
export const SH1 = "sh1.contoso.com";
export const SH2 = "sh2.contoso.com";

const SHL = "pulumi-nodejs:dynamic/rds:SessionHostLicensing";
export const LS_URN = makeUrn("pulumi-nodejs:dynamic/rds:LicenseServer", "ls");
export const PACK_URN = makeUrn("pulumi-nodejs:dynamic/rds:CalPack", "users-2022");
export const SH1_URN = makeUrn(SHL, "sh1");
export const SH2_URN = makeUrn(SHL, "sh2");

/** The secret wrapper's signature key: a secret output holds it. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";

export interface ProgramOptions {
  /** The session hosts (default SH1 and SH2), each a resource named by its first label. */
  sessionHosts?: string[];
  /** RdsSessionHostLicensing's resetOnDelete, for every host (default: not set). */
  resetOnDelete?: boolean;
  /** RdsSessionHostLicensing's installRole, for every host (default: not set). */
  installRole?: boolean;
}

/** The program over the simulated hosts of one state directory. */
export function programFor(stateDir: string, options: ProgramOptions = {}): () => pulumi.Resource[] {
  const { sessionHosts = [SH1, SH2], ...extra } = options;
  const sim = (host: string) => ({ transport: "simulator" as const, host, stateDir });
  return () => {
    const ls = new RdsLicenseServer("ls", {
      connection: sim(LS),
      contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
      activation: { method: "automatic" },
    });
    const users = new RdsCalPack("users-2022", {
      licenseServer: ls,
      program: "enterpriseAgreement",
      agreementNumber: "1234567",
      productVersion: "2022",
      calType: "perUser",
      quantity: 50,
    });
    const hosts = sessionHosts.map(
      (h) =>
        new RdsSessionHostLicensing(h.split(".")[0], {
          connection: sim(h),
          mode: "perUser",
          licenseServers: [ls.serverName],
          calPacks: [users],
          ...extra,
        }),
    );
    return [ls, users, ...hosts];
  };
}

/** What a configured session host reports (the license server's name as the list). */
export function configuredOutputs(host: string, licenseServerName: unknown) {
  return {
    mode: "perUser",
    effectiveMode: "perUser",
    effectiveLicenseServers: [licenseServerName],
    modeSource: "local",
    licenseServersSource: "local",
    gracePeriodDaysLeft: 120,
    osVersion: "2022",
    domainJoined: true,
    serverName: host,
  };
}

/** The Group Policy error a contrary licensing mode policy gives: what it names. */
export const POLICY_ERROR_PARTS = [
  "a Group Policy controls the licensing mode and sets perDevice",
  "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services",
  "Remote Desktop Session Host > Licensing",
];

/** The engine's RPCs since `since`, as "<Method> <resource name>" (for order assertions). */
export function rpcsOf(engine: Engine, since: number): string[] {
  return engine.log.slice(since).map((c) => `${c.method}${c.urn ? ` ${c.urn.split("::").pop()}` : ""}`);
}

/** The pack's Create returned before any session host's Check was even sent (the hosts' inputs come from the pack's outputs). */
export function expectPackBeforeHosts(log: string[], hosts: string[]): void {
  const packCreated = log.indexOf("Create users-2022");
  expect(packCreated).toBeGreaterThan(-1);
  for (const h of hosts) expect(log.indexOf(`Check ${h}`)).toBeGreaterThan(packCreated);
}

/**
 * SH1 as the program declares it: its outputs (its pack the one the engine created), the connection and
 * the pack references (which hold the license server's connection) secret in state, and `live`, the
 * host's session host settings, Per User with the license server's name.
 */
export function expectSh1Configured(engine: Engine, live: unknown): void {
  const lsOut = engine.outputs(LS_URN);
  const out = engine.outputs(SH1_URN);
  expect(out).toMatchObject(configuredOutputs(SH1, lsOut.serverName));
  expect((out.calPacks as { keyPackId: number }[])[0].keyPackId).toBe(engine.outputs(PACK_URN).keyPackId);
  const state = engine.entry(SH1_URN).outputs as Record<string, unknown>;
  expect(JSON.stringify(state.connection)).toContain(SECRET_SIG_KEY);
  expect(JSON.stringify(state.calPacks)).toContain(SECRET_SIG_KEY);
  expect(live).toMatchObject({ licensingType: 4, specifiedLicenseServers: [lsOut.serverName] });
}
