/**
 * The benchmark's fleet, registered through the real SDK (captureRegistrations: the real inputs and
 * serialized `__provider` strings) and turned into engine resource specs with their dependencies.
 *
 * Layout (decided for the coalescing measurement, README "Performance"): license server ls01 is the
 * farm's license server and holds ALL the CAL packs (30 at scale 1), so the refresh phase itself is
 * the "30 packs on one license server" case; ls02..ls10 are further activated license servers
 * without packs. Session host shNN takes pack NN mod 30 (so it is configured after that pack, and its
 * checks read that pack on ls01). Activation: automatic. Packs: Enterprise Agreement, 2022, Per User.
 */
import { RdsCalPack } from "../provider/resources/calPack/resource";
import { RdsLicenseServer } from "../provider/resources/licenseServer/resource";
import { RdsSessionHostLicensing } from "../provider/resources/sessionHostLicensing/resource";
import type { Connection } from "../provider/powershell/transport";
import { calPackInputsFromServer } from "../engine/calPackWiring";
import { captureRegistrations } from "../engine/capture";
import { secret, type Props } from "../engine/secrets";
import type { ResourceSpec } from "../engine/spec";

export interface FleetSize {
  licenseServers: number;
  calPacks: number;
  sessionHosts: number;
}

export const FULL_FLEET: FleetSize = { licenseServers: 10, calPacks: 30, sessionHosts: 40 };

export function scaled(scale: number): FleetSize {
  const n = (x: number) => Math.max(1, Math.round(x * scale));
  return { licenseServers: n(10), calPacks: n(30), sessionHosts: n(40) };
}

export type Kind = "licenseServer" | "calPack" | "sessionHost";

export interface FleetNode {
  spec: ResourceSpec;
  kind: Kind;
  /** Simulated host the resource lives on. */
  host: string;
  /** URNs this resource depends on (created before it, deleted after it). */
  deps: string[];
}

export interface Fleet {
  nodes: FleetNode[];
  /** The license server holding every pack. */
  packServer: string;
  size: FleetSize;
}

const pad = (i: number) => String(i).padStart(2, "0");
const PACK_SECRET_OUTPUTS = ["connection", "licenseCode", "licenseNumber", "authorizationNumber", "agreementNumber", "licenseKeyPackId"];

/**
 * The fleet on the simulator (every target in `stateDir`), or on the connections `connectionFor`
 * gives (the ssh benchmark: each target its own ssh connection to the lab).
 */
export async function buildFleet(
  size: FleetSize,
  stateDir: string,
  connectionFor: (host: string) => Connection = (host) => ({ transport: "simulator", host, stateDir }),
): Promise<Fleet> {
  const sim = connectionFor;
  const lsHosts = Array.from({ length: size.licenseServers }, (_, i) => `ls${pad(i + 1)}`);
  const packServer = lsHosts[0];
  const regs = await captureRegistrations(
    () => {
      const servers = lsHosts.map(
        (h) =>
          new RdsLicenseServer(h, {
            connection: sim(h),
            contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
            activation: { method: "automatic" },
          }),
      );
      const packs = Array.from(
        { length: size.calPacks },
        (_, i) =>
          new RdsCalPack(`pack${pad(i + 1)}`, {
            licenseServer: servers[0],
            program: "enterpriseAgreement",
            agreementNumber: String(4417300 + i),
            productVersion: "2022",
            calType: "perUser",
            quantity: 50,
          }),
      );
      const hosts = Array.from(
        { length: size.sessionHosts },
        (_, i) =>
          new RdsSessionHostLicensing(`sh${pad(i + 1)}`, {
            connection: sim(`sh${pad(i + 1)}`),
            mode: "perUser",
            licenseServers: [servers[0].serverName],
            calPacks: [packs[i % packs.length]],
          }),
      );
      return [...servers, ...packs, ...hosts];
    },
    { timeoutMs: 60_000 },
  );
  const byName = new Map(regs.map((r) => [r.name, r]));
  const lsUrn = (h: string) => byName.get(h)!.urn;
  const nodes: FleetNode[] = [];
  for (const h of lsHosts) {
    const reg = byName.get(h)!;
    nodes.push({
      kind: "licenseServer",
      host: h,
      deps: [],
      spec: { urn: reg.urn, inputs: reg.inputs, additionalSecretOutputs: ["connection"] },
    });
  }
  // Each pack's license-server inputs come from the server's outputs in state (as the SDK resolves them).
  const packUrns: string[] = [];
  for (let i = 0; i < size.calPacks; i++) {
    const reg = byName.get(`pack${pad(i + 1)}`)!;
    const server = lsUrn(packServer);
    packUrns.push(reg.urn);
    nodes.push({
      kind: "calPack",
      host: packServer,
      deps: [server],
      spec: {
        urn: reg.urn,
        additionalSecretOutputs: PACK_SECRET_OUTPUTS,
        inputs: (refs) => calPackInputsFromServer(reg.inputs, refs.outputs(server)),
      },
    });
  }
  // Each session host takes its pack's facts and the server's name (the class's packRef, resolved).
  for (let i = 0; i < size.sessionHosts; i++) {
    const name = `sh${pad(i + 1)}`;
    const reg = byName.get(name)!;
    const packUrn = packUrns[i % packUrns.length];
    const server = lsUrn(packServer);
    nodes.push({
      kind: "sessionHost",
      host: name,
      deps: [packUrn],
      spec: {
        urn: reg.urn,
        additionalSecretOutputs: ["connection", "calPacks"],
        inputs: (refs) => {
          const p = refs.outputs(packUrn);
          const ls = refs.outputs(server);
          const facts: Props = {
            keyPackId: p.keyPackId,
            calType: p.calType,
            productVersion: p.productVersion,
            licenseServerConnection: p.connection,
            licenseServerName: p.licenseServerName ?? "",
          };
          return { ...reg.inputs, licenseServers: [ls.serverName], calPacks: secret([facts]) };
        },
      },
    });
  }
  return { nodes, packServer, size };
}
