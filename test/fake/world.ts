/**
 * FakeWorld: an in-memory stand-in for the emulator's state directory (every simulated host plus the
 * shared Clearinghouse), answering each operation script the three resources run with the result
 * document the real script gives over the emulator (or its error document), and the administrator
 * actions of RelAdmin.ps1. test/fake/world.contract.test.ts replays every recorded scenario
 * (test/fixtures/recorded/*.json, recorded from the emulator by scripts/record-fake-fixtures.ts) against
 * it, so it cannot drift from the emulator silently.
 *
 * The area modules: host.ts (the host model and derived ids), wmi.ts (WMI classes, methods, faults),
 * script.ts (error documents, Invoke-RdsWmiMethod), licenseServerOps.ts, calPackOps.ts,
 * sessionHostOps.ts (the scripts), admin.ts (RelAdmin.ps1's actions).
 */
import type { ResultDocument } from "../../provider/powershell/result";
import { adminAction, hostView } from "./admin";
import { CAL_PACK_SCRIPTS } from "./calPackOps";
import { newHost, type FakeHost } from "./host";
import { LICENSE_SERVER_SCRIPTS } from "./licenseServerOps";
import { ScriptFailure, uncaught, type ScriptCtx } from "./script";
import { SESSION_HOST_SCRIPTS } from "./sessionHostOps";
import type { Clearinghouse } from "./wmi";

type Args = Record<string, unknown>;

const SCRIPTS: Record<string, Record<string, (c: ScriptCtx, a: Args) => unknown>> = {
  licenseServer: LICENSE_SERVER_SCRIPTS,
  calPack: CAL_PACK_SCRIPTS,
  sessionHostLicensing: SESSION_HOST_SCRIPTS,
};

/** A JSON round trip: what crosses the envelope and the result document is data, never a shared object. */
function viaJson<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export class FakeWorld {
  private readonly hosts = new Map<string, FakeHost>();
  readonly ch: Clearinghouse = { sequence: 0, retailCodesIssued: 0, usedRetailCodes: new Set(), keyPackIds: new Map() };

  /** The host's state, created with the emulator's defaults on first use (host names are case-insensitive). */
  host(name: string): FakeHost {
    const key = name.toLowerCase();
    let h = this.hosts.get(key);
    if (!h) {
      h = newHost(name);
      this.hosts.set(key, h);
    }
    return h;
  }

  /** The host's state if it exists, without creating it. */
  peek(name: string): FakeHost | undefined {
    return this.hosts.get(name.toLowerCase());
  }

  /** The host a name addresses, as the emulator resolves it: the exact name, else its short name / FQDN. */
  peerOf(name: string): FakeHost | undefined {
    const asked = name.trim().toLowerCase();
    const exact = this.peek(asked);
    if (exact) return exact;
    const short = (n: string) => n.split(".")[0];
    const names = [...this.hosts.keys()].sort();
    const match = names.find((n) => n.includes(".") !== asked.includes(".") && short(n) === short(asked));
    return match === undefined ? undefined : this.hosts.get(match);
  }

  /** Reset-RdsSim -HostName: the host is forgotten (the Clearinghouse remembers). */
  forget(name: string): void {
    this.hosts.delete(name.toLowerCase());
  }

  /** The host's whole state as text ("" when it does not exist): equal texts mean an unchanged host. */
  hostText(name: string): string {
    const h = this.peek(name);
    return h ? JSON.stringify(h) : "";
  }

  /** Get-RdsSimHost's view (the parts tests read). */
  view(name: string) {
    return hostView(this.host(name));
  }

  /** Whether the world answers this script (`<resource>/<file name>`). */
  knows(resource: string, script: string): boolean {
    return SCRIPTS[resource]?.[script] !== undefined;
  }

  /** One operation script (`<resource>`, `<file name>` without .ps1) on a host: its result document. */
  run(resource: string, script: string, target: string, args: Args): ResultDocument {
    const impl = SCRIPTS[resource]?.[script];
    if (!impl) throw new Error(`the fake world has no ${resource}/${script}.ps1`);
    // `peer`: another simulated host by name (a session host's GetTStoLSConnectivityStatus reads its license server's).
    const ctx = Object.assign({ h: this.host(target), ch: this.ch, target }, { peer: (name: string) => this.peerOf(name) });
    return this.document(() => impl(ctx, viaJson(args)));
  }

  /** One RelAdmin.ps1 action: its result document (an emulator refusal is a SCRIPT_EXCEPTION, as there). */
  admin(args: Args): ResultDocument {
    return this.document(() => adminAction(this, viaJson(args)));
  }

  private document(body: () => unknown): ResultDocument {
    try {
      return { ok: true, result: viaJson(body()) };
    } catch (e) {
      if (e instanceof ScriptFailure) return { ok: false, error: e.doc };
      const failure =
        e instanceof Error && e.constructor === Error ? new ScriptFailure({ code: "SCRIPT_EXCEPTION", message: e.message }) : uncaught(e);
      return { ok: false, error: failure.doc };
    }
  }
}
