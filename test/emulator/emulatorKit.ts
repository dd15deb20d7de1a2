/**
 * Shared fixtures for the emulator conformance tests. Real: pwsh and the emulator module. The emulator
 * itself stands in for Windows WMI (RD Licensing classes, Terminal Services settings, RDMS cmdlets) and
 * for Microsoft's Clearinghouse.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PwshSession } from "../helpers/pwshSession";

/** WBEM return values (unsigned), the RD licensing WMI table (docs/windows-facts.md#wbem-errors) plus the general WMI codes the emulator uses. */
export const WBEM = {
  FAILED: 0x80041001,
  NOT_FOUND: 0x80041002,
  ACCESS_DENIED: 0x80041003,
  PROVIDER_FAILURE: 0x80041004,
  TYPE_MISMATCH: 0x80041005,
  INVALID_PARAMETER: 0x80041008,
  NOT_AVAILABLE: 0x80041009,
  NOT_SUPPORTED: 0x8004100c,
  INVALID_NAMESPACE: 0x8004100e,
  INVALID_CLASS: 0x80041010,
  INVALID_OPERATION: 0x80041016,
  INVALID_QUERY: 0x80041017,
  READ_ONLY: 0x80041023,
  VALUE_OUT_OF_RANGE: 0x8004102b,
  INVALID_METHOD: 0x8004102e,
  INVALID_METHOD_PARAMETERS: 0x8004102f,
  INVALID_OBJECT_PATH: 0x8004103a,
} as const;

/** What Invoke-Captured returns: the block's output, or the error it raised as data. */
export interface Captured<T = unknown> {
  ok: boolean;
  output?: T;
  hresult?: number;
  type?: string;
  message?: string;
  errorId?: string;
}

export interface MethodResult {
  ReturnValue: number;
  [outParam: string]: unknown;
}

let hostCounter = 0;
/** A host name no other test in this process uses, so tests never share emulated state. */
export function uniqueHost(prefix = "host"): string {
  hostCounter += 1;
  return `${prefix}${process.pid}x${hostCounter}`;
}

export function makeStateDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rds-emu-${label}-`));
}

/** A warm pwsh with the emulator imported, plus helpers that run code "on" a given host. */
export class EmulatorFixture {
  constructor(
    readonly session: PwshSession,
    readonly stateDir: string,
  ) {}

  static async start(label: string): Promise<EmulatorFixture> {
    const stateDir = makeStateDir(label);
    const session = await PwshSession.start();
    await session.importEmulator(stateDir, "bootstrap-host");
    return new EmulatorFixture(session, stateDir);
  }

  /** Run `code` with the emulator context set to `host` in this fixture's state directory. */
  on<T = unknown>(host: string, code: string, data: Record<string, unknown> = {}): Promise<T> {
    return this.session.run<T>("Set-RdsEmulatorContext -StateDir $data.__dir -HostName $data.__host\n" + code, {
      ...data,
      __dir: this.stateDir,
      __host: host,
    });
  }

  /** Invoke-Captured around `code`, on `host`. */
  capture<T = unknown>(host: string, code: string, data: Record<string, unknown> = {}): Promise<Captured<T>> {
    return this.on<Captured<T>>(host, `Invoke-Captured {\n${code}\n}`, data);
  }

  async close(): Promise<void> {
    await this.session.close();
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }
}

/** PowerShell: install the role (through the admin config, not the logged cmdlet). */
export const PS_ROLE = "Set-RdsSimHostConfig -Settings @{ roleInstalled = $true } | Out-Null\n";

/** PowerShell: set the four contact fields ActivateServerAutomatic needs. */
export const PS_CONTACT =
  "Get-CimInstance -ClassName Win32_TSLicenseServer | Set-CimInstance -Property @{ FirstName = 'Ada'; LastName = 'Lovelace'; Company = 'Contoso'; CountryRegion = 'United Kingdom' }\n";

/** PowerShell: role installed, contact set, activated automatically. */
export const PS_ACTIVATED =
  PS_ROLE + PS_CONTACT + "$null = Invoke-CimMethod -ClassName Win32_TSLicenseServer -MethodName ActivateServerAutomatic\n";

/** PowerShell expression: install an agreement pack; $data.pv, $data.pt, $data.lc (defaults 7, 1, 10); gives the result.
 * (Not `$data.count`: on a dictionary `.Count` is the number of entries.) */
export const PS_INSTALL_AGREEMENT =
  "Invoke-CimMethod -ClassName Win32_TSLicenseKeyPack -MethodName InstallAgreementLicenseKeyPack -Arguments @{ AgreementType = [uint32]1; sAgreementNumber = '1234567'; " +
  "ProductVersion = [uint32]$(if ($null -ne $data.pv) { $data.pv } else { 7 }); ProductType = [uint32]$(if ($null -ne $data.pt) { $data.pt } else { 1 }); " +
  "LicenseCount = [uint32]$(if ($null -ne $data.lc) { $data.lc } else { 10 }) }";
