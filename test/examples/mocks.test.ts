/**
 * Every example runs as a Pulumi program under runtime mocks, and its resource graph is what the example
 * promises: the types and names registered, the order Pulumi will follow (CAL packs depend on the license
 * server, session hosts on the packs, and in the Azure example the licensing resources on the VMs' remoting
 * setup and trust report), which inputs are secret, and the stack outputs; for Azure also the verified
 * transports (pinned host keys, certificate checks on) and the RD Session Host role install.
 *
 * What is real: each example program (examples/<name>/index.ts, run inside `runInPulumiStack` as the Node
 * language host runs it), the Pulumi SDK (registration, dependency tracking, secrets, serialization of
 * every `__provider`), the resource classes and the RdsLicensing component (project sources).
 * `@pulumi/azure-native` is the real package (its resource classes and invoke functions).
 * What stands in: the engine and all providers (support.ts's mocks answer registrations and invokes with
 * plausible outputs, e.g. the host keys / certificate a VM's run command would print; no provider method
 * runs, nothing is deployed); `pulumi-rds-licensing` is the project's sources, not an installed copy.
 */
import { createHash } from "crypto";
import { MOCK_LISTENER_CERTIFICATE, mockHostKeys, runExampleUnderMocks, type ExampleRun } from "./support";
import { connectionSchema } from "../../provider/powershell/transport";

const LS = "pulumi-nodejs:dynamic/rds:LicenseServer";
const PACK = "pulumi-nodejs:dynamic/rds:CalPack";
const HOST = "pulumi-nodejs:dynamic/rds:SessionHostLicensing";

const typesOf = (run: ExampleRun) => run.resources.map((r) => `${r.type}::${r.name}`).sort();
const ofType = (run: ExampleRun, type: string) => run.resources.filter((r) => r.type === type);

interface FindingLike {
  id: string;
  status: string;
}

describe("quickstart", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    run = await runExampleUnderMocks("quickstart", { project: "rds-licensing-quickstart" });
  });

  test("declares one license server, two CAL packs of different programs and two Per User session hosts, in one RdsLicensing", () => {
    expect(typesOf(run)).toEqual([
      `${PACK}::quickstart-users-ea`,
      `${PACK}::quickstart-users-open`,
      `${LS}::quickstart-ls`,
      `${HOST}::quickstart-sh01`,
      `${HOST}::quickstart-sh02`,
    ]);
    expect(run.get("quickstart").type).toBe("rds:index:RdsLicensing");
    for (const r of run.resources) expect(r.parent).toMatch(/rds:index:RdsLicensing::quickstart$/);
    const ls = run.get("quickstart-ls");
    expect(ls.inputs.connection).toEqual({ transport: "simulator", host: "ls01.contoso.com" });
    expect(ls.inputs.activation).toEqual({ method: "automatic" });
    const programs = ofType(run, PACK).map((p) => p.inputs.program);
    expect(programs).toHaveLength(2);
    expect(new Set(programs)).toEqual(new Set(["enterpriseAgreement", "openLicense"]));
    expect(ofType(run, HOST)).toHaveLength(2);
    for (const h of ofType(run, HOST)) {
      expect(h.inputs.mode).toBe("perUser");
      expect((h.inputs.connection as { transport: string }).transport).toBe("simulator");
    }
  });

  test("needs no config: every value has a default, and the simulator is the transport everywhere", () => {
    // (The run above had no config at all.)
    expect(run.resources).toHaveLength(5);
    for (const r of run.resources) expect((r.inputs.connection as { transport: string }).transport).toBe("simulator");
  });

  test("packs depend on the license server, hosts on both packs (and the server's name)", () => {
    for (const p of ["quickstart-users-ea", "quickstart-users-open"]) expect(run.dependsOn(p)).toContain("quickstart-ls");
    for (const h of ["quickstart-sh01", "quickstart-sh02"]) {
      expect(run.dependsOn(h)).toEqual(expect.arrayContaining(["quickstart-users-ea", "quickstart-users-open", "quickstart-ls"]));
    }
    expect(run.dependsOn("quickstart-ls")).toEqual([]);
  });

  test("program data and connections are secret", () => {
    expect(run.get("quickstart-users-ea").secretInputs).toEqual(expect.arrayContaining(["agreementNumber", "connection"]));
    expect(run.get("quickstart-users-open").secretInputs).toEqual(
      expect.arrayContaining(["licenseNumber", "authorizationNumber", "connection"]),
    );
    expect(run.get("quickstart-ls").secretInputs).toContain("connection");
  });

  test("exports the product id, the activation status, the CALs available and the findings", () => {
    expect(Object.keys(run.outputs).sort()).toEqual(["activationStatus", "calsAvailable", "findings", "productId"]);
    expect(run.outputs.activationStatus).toBe("activated");
    expect(run.outputs.calsAvailable).toBe(75); // 50 + 25 (the mocks answer the declared quantities)
    const findings = run.outputs.findings as FindingLike[];
    expect(findings.map((f) => f.id)).toEqual([
      "RDS-LIC-001",
      "RDS-LIC-002",
      "RDS-LIC-003",
      "RDS-LIC-004",
      "RDS-LIC-005",
      "RDS-LIC-006",
      "RDS-LIC-007",
      "RDS-LIC-008",
    ]);
    expect(findings.filter((f) => f.status !== "pass")).toEqual([]);
    expect(run.secretOutputs).toEqual([]);
  });
});

describe.each([
  {
    example: "web-activation",
    project: "rds-licensing-web-activation",
    method: "web",
    mode: "perUser",
    calType: "perUser",
    pack: "users-2022",
  },
  {
    example: "telephone-activation",
    project: "rds-licensing-telephone-activation",
    method: "telephone",
    mode: "perDevice",
    calType: "perDevice",
    pack: "devices-2022",
  },
])("$example (two phases)", ({ example, project, method, mode, calType, pack }) => {
  const licenseServerId = "ABCDE12345ABCDE12345ABCDE12345ABCDE";
  const licenseKeyPackId = "KPKPK12345KPKPK12345KPKPK12345KPKPK";

  test("phase 1, no licenseServerId: only the license server, pending, with its product id and next step", async () => {
    const run = await runExampleUnderMocks(example, { project });
    expect(typesOf(run)).toEqual([`${LS}::ls`]);
    const ls = run.get("ls");
    expect(ls.inputs.activation).toEqual({ method });
    expect(run.outputs.activationStatus).toBe("pending");
    expect(run.outputs.productId).toBe("00490-92005-99454-AT527");
    expect(run.outputs.nextStep).not.toBe("");
    expect(run.outputs.calsAvailable).toBe(0);
  });

  test("phase 2, licenseServerId and licenseKeyPackId set (secret): the offline CAL pack and the hosts follow the server", async () => {
    const run = await runExampleUnderMocks(example, {
      project,
      config: { licenseServerId, licenseKeyPackId },
      secretKeys: ["licenseServerId", "licenseKeyPackId"],
    });
    expect(typesOf(run)).toEqual([`${PACK}::${pack}`, `${LS}::ls`, `${HOST}::sh01`, `${HOST}::sh02`]);
    const ls = run.get("ls");
    expect(ls.inputs.activation).toEqual({ method, licenseServerId });
    expect(ls.secretInputs).toEqual(expect.arrayContaining(["activation", "connection"]));
    const p = run.get(pack);
    expect(p.inputs).toMatchObject({ program: "keyPackId", licenseKeyPackId, productVersion: "2022", calType });
    expect(p.secretInputs).toContain("licenseKeyPackId");
    expect(run.dependsOn(pack)).toContain("ls");
    for (const h of ["sh01", "sh02"]) {
      expect(run.get(h).inputs.mode).toBe(mode);
      expect(run.dependsOn(h)).toEqual(expect.arrayContaining([pack, "ls"]));
    }
    expect(run.outputs.activationStatus).toBe("activated");
    expect(run.outputs.sessionHostModes).toEqual([mode, mode]);
  });
});

describe("existing-deployment", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    run = await runExampleUnderMocks("existing-deployment", { project: "rds-licensing-existing-deployment" });
  });

  test("adopts the activated server (automatic, no role install, no deactivation) and the packs by KeyPackId", () => {
    expect(typesOf(run)).toEqual([`${PACK}::users-2019`, `${PACK}::users-2022`, `${LS}::ls`, `${HOST}::sh01`, `${HOST}::sh02`]);
    expect(run.get("ls").inputs).toMatchObject({ activation: { method: "automatic" }, installRole: false, deactivateOnDelete: false });
    expect(run.get("users-2019").inputs).toMatchObject({
      adoptKeyPackId: 3,
      program: "select",
      productVersion: "2019",
      calType: "perUser",
      quantity: 20,
    });
    expect(run.get("users-2022").inputs).toMatchObject({
      adoptKeyPackId: 4,
      program: "enterpriseAgreement",
      productVersion: "2022",
      calType: "perUser",
      quantity: 40,
    });
    for (const p of ["users-2019", "users-2022"]) expect(run.get(p).secretInputs).toContain("agreementNumber");
  });

  test("packs depend on the license server, hosts on the packs", () => {
    for (const p of ["users-2019", "users-2022"]) expect(run.dependsOn(p)).toContain("ls");
    for (const h of ["sh01", "sh02"]) expect(run.dependsOn(h)).toEqual(expect.arrayContaining(["users-2019", "users-2022", "ls"]));
  });

  test("exports what refresh keeps up to date: pack totals and the hosts' modes with their source", () => {
    expect(run.outputs.packTotals).toEqual([
      { keyPackId: 3, total: 20, available: 20 },
      { keyPackId: 4, total: 40, available: 40 },
    ]);
    expect(run.outputs.sessionHostModes).toEqual([
      { host: "sh01.contoso.com", effective: "perUser", source: "local" },
      { host: "sh02.contoso.com", effective: "perUser", source: "local" },
    ]);
  });
});

const AZURE_PROJECT = "rds-licensing-azure";
const AZURE_CONFIG = {
  adminPassword: "Str0ng!Passw0rd",
  managementSourceCidr: "198.51.100.0/24",
  contactFirstName: "Ada",
  contactLastName: "Lovelace",
  company: "Contoso Ltd",
  countryRegion: "United Kingdom",
  agreementNumber: "1234567",
};
const AZURE_SECRETS = ["adminPassword", "agreementNumber"];
const VMS = ["ls01", "sh01", "sh02"];
const RUN_COMMAND = "azure-native:compute:VirtualMachineRunCommandByVirtualMachine";
const READ_RUN_COMMAND = "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine";
const AZURE_INFRASTRUCTURE = [
  "azure-native:compute:VirtualMachine::ls01",
  "azure-native:compute:VirtualMachine::sh01",
  "azure-native:compute:VirtualMachine::sh02",
  "azure-native:compute:VirtualMachineExtension::ls01-remoting",
  "azure-native:compute:VirtualMachineExtension::sh01-remoting",
  "azure-native:compute:VirtualMachineExtension::sh02-remoting",
  `${RUN_COMMAND}::ls01-host-trust`,
  `${RUN_COMMAND}::sh01-host-trust`,
  `${RUN_COMMAND}::sh02-host-trust`,
  "azure-native:network:NatGateway::rds",
  "azure-native:network:NetworkInterface::ls01",
  "azure-native:network:NetworkInterface::sh01",
  "azure-native:network:NetworkInterface::sh02",
  "azure-native:network:NetworkSecurityGroup::rds",
  "azure-native:network:PublicIPAddress::rds-outbound",
  "azure-native:network:Subnet::rds",
  "azure-native:network:VirtualNetwork::rds",
  "azure-native:resources:ResourceGroup::rds",
];
const AZURE_LICENSING = [`${PACK}::farm-devices-2022`, `${LS}::farm-ls`, `${HOST}::farm-sh01`, `${HOST}::farm-sh02`];

/** The PowerShell the Custom Script Extension of `ext` runs (decoded from its -EncodedCommand). */
function setupInvocation(ext: { inputs: Record<string, unknown> }): { command: string; script: string } {
  const command = (ext.inputs.protectedSettings as { commandToExecute: string }).commandToExecute;
  const encoded = /-EncodedCommand (\S+)$/.exec(command)![1];
  return { command, script: Buffer.from(encoded, "base64").toString("utf16le") };
}

describe.each([
  { port: "5986", transport: "winrm", rule: "allow-winrm-https" },
  { port: "22", transport: "ssh", rule: "allow-ssh" },
])("azure (management port $port, licensing declared)", ({ port, transport, rule }) => {
  let run: ExampleRun;
  beforeAll(async () => {
    // WinRM: the second phase, once the controller trusts the listener certificates (ssh has one phase).
    const config = { ...AZURE_CONFIG, managementPort: port, ...(transport === "winrm" ? { winrmTrustedCertificates: "true" } : {}) };
    run = await runExampleUnderMocks("azure", { project: AZURE_PROJECT, config, secretKeys: AZURE_SECRETS });
  });

  test("declares the resource group, network, NSG, three Windows Server 2022 VMs with remoting and a trust report, and the licensing resources", () => {
    expect(typesOf(run)).toEqual([...AZURE_INFRASTRUCTURE.slice(0, 6), ...AZURE_INFRASTRUCTURE.slice(6), ...AZURE_LICENSING].sort());
    const vms = ofType(run, "azure-native:compute:VirtualMachine");
    expect(vms).toHaveLength(3);
    for (const vm of vms) {
      expect(vm.inputs.storageProfile).toMatchObject({
        imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-azure-edition" },
      });
      expect(vm.secretInputs).toContain("osProfile"); // the admin password
    }
    // No public address on the VMs (the one public IP is the NAT gateway's, outbound only): the licensing
    // resources reach the VMs through their private addresses.
    const nics = ofType(run, "azure-native:network:NetworkInterface");
    expect(nics).toHaveLength(3);
    for (const nic of nics) {
      expect(JSON.stringify(nic.inputs)).not.toMatch(/publicIPAddress/i);
    }
  });

  test(`the NSG opens only port ${port}, only from the configured CIDR; the subnet uses it`, () => {
    const [nsg] = ofType(run, "azure-native:network:NetworkSecurityGroup");
    expect(nsg.inputs.securityRules).toEqual([
      expect.objectContaining({
        name: rule,
        direction: "Inbound",
        access: "Allow",
        protocol: "Tcp",
        sourceAddressPrefix: "198.51.100.0/24",
        destinationPortRange: port,
      }),
    ]);
    const [subnet] = ofType(run, "azure-native:network:Subnet");
    expect(subnet.dependencies).toContain(nsg.key);
    expect(subnet.inputs.networkSecurityGroup).toEqual({ id: "rds-id" });
    // Outbound through the NAT gateway only.
    expect(subnet.dependencies).toContain("azure-native:network:NatGateway::rds");
    expect(ofType(run, "azure-native:network:PublicIPAddress")).toHaveLength(1);
  });

  test(`each VM runs the remoting setup for ${transport} through the Custom Script Extension, for its name and private address`, () => {
    const extensions = ofType(run, "azure-native:compute:VirtualMachineExtension");
    expect(extensions).toHaveLength(3);
    for (const ext of extensions) {
      expect(ext.inputs).toMatchObject({ publisher: "Microsoft.Compute", type: "CustomScriptExtension" });
      const { command, script } = setupInvocation(ext);
      expect(command.length).toBeLessThan(8191); // cmd.exe's command-line limit
      const vm = ext.name.replace(/-remoting$/, "");
      const addresses = [run.outputs.licenseServerPrivateAddress, ...(run.outputs.sessionHostPrivateAddresses as string[])];
      const address = addresses[VMS.indexOf(vm)];
      expect(address).toMatch(/^10\.20\.1\.\d+$/);
      expect(script.endsWith(`} -Transport ${transport} -ComputerName ${vm} -PrivateAddress ${String(address)}`)).toBe(true);
      if (transport === "winrm") {
        // The listener's certificate names the VM and the private address the controller dials.
        expect(script).toContain("WSMan:\\localhost\\Listener");
        expect(script).toContain('"2.5.29.17={text}$names"');
        expect(script).toContain('$names = "$names&IPAddress=$PrivateAddress"');
      } else {
        expect(script).toContain("Subsystem powershell");
        expect(script).toContain("PowerShell-$PwshVersion-win-x64.msi"); // remoting over SSH needs PowerShell 7
      }
    }
  });

  test("each VM reports what the controller must trust through a Run Command, read back over Azure's control plane", () => {
    for (const vm of VMS) {
      const report = run.get(`${vm}-host-trust`);
      expect(report.inputs).toMatchObject({
        runCommandName: "rds-host-trust",
        parameters: [
          { name: "Transport", value: transport },
          { name: "SetupDigest", value: expect.stringMatching(/^[0-9a-f]{16}$/) },
        ],
        asyncExecution: false,
        treatFailureAsDeploymentFailure: true,
      });
      expect((report.inputs.source as { script: string }).script).toContain(
        transport === "ssh" ? "ssh_host_*_key.pub" : "CertificateThumbprint",
      );
      // Runs again whenever the setup command changes: the digest is the setup command's.
      const setupCommand = (run.get(`${vm}-remoting`).inputs.protectedSettings as { commandToExecute: string }).commandToExecute;
      const digest = createHash("sha256").update(setupCommand).digest("hex").slice(0, 16);
      expect((report.inputs.parameters as { value: string }[])[1].value).toBe(digest);
      // After the remoting setup (the keys / the listener exist then).
      expect(run.dependsOn(`${vm}-host-trust`)).toEqual(expect.arrayContaining([`${vm}-remoting`, vm]));
    }
    // The output is in the instance view, which only an expanded GET returns.
    const reads = run.invocations.filter((i) => i.token === READ_RUN_COMMAND);
    expect(reads.map((r) => r.args.vmName).sort()).toEqual(VMS.map((vm) => `${vm}-virtualmachine`));
    for (const r of reads) expect(r.args).toMatchObject({ runCommandName: "rds-host-trust", expand: "instanceView" });
  });

  test("the licensing resources reach the VMs by name at their private addresses, verified (no skipped checks), with a connection the provider accepts, secret", () => {
    const ls = run.get("farm-ls");
    expect(ls.secretInputs).toContain("connection");
    const expected =
      transport === "winrm"
        ? { transport, user: "rdsadmin", password: "Str0ng!Passw0rd", authentication: "negotiate" }
        : { transport, user: "rdsadmin", password: "Str0ng!Passw0rd", hostKey: mockHostKeys("ls01-virtualmachine") };
    expect(ls.inputs.connection).toEqual({ ...expected, host: "ls01", address: expect.stringMatching(/^10\.20\.1\.\d+$/) });
    for (const name of ["farm-ls", "farm-sh01", "farm-sh02"]) {
      const connection = run.get(name).inputs.connection as Record<string, unknown>;
      // Verified transports: certificate checks on (the default), no known_hosts file outside the program's control.
      expect(connection).not.toHaveProperty("skipCertificateChecks");
      expect(connection).not.toHaveProperty("knownHostsFile");
      if (transport === "ssh") {
        // Each host pinned to the keys its own VM reported.
        const vm = String(connection.host);
        expect(connection.hostKey).toEqual(mockHostKeys(`${vm}-virtualmachine`));
        expect(run.dependsOn(name)).toContain(`${vm}-host-trust`);
      }
      // The provider's own schema (what its check runs) accepts every connection the program declares.
      const parsed = connectionSchema.safeParse(connection);
      expect(parsed.error?.issues ?? []).toEqual([]);
    }
    expect(run.get("farm-sh02").inputs.connection).toMatchObject({ host: "sh02" });
    expect(run.get("farm-sh01").inputs.mode).toBe("perDevice");
    expect(run.outputs.licenseServerPrivateAddress).toBe((ls.inputs.connection as { address: string }).address);
    expect(run.outputs.nextStep).toBe("");
  });

  test("the session hosts get the RD Session Host role: installRole on each (install, restart, reconnect)", () => {
    for (const name of ["farm-sh01", "farm-sh02"]) expect(run.get(name).inputs.installRole).toBe(true);
  });

  test("licensing waits for the VMs' remoting setup and trust report; packs depend on the server, hosts on the packs", () => {
    expect(run.dependsOn("farm-ls")).toEqual(expect.arrayContaining(["ls01", "ls01-remoting", "ls01-host-trust"]));
    expect(run.dependsOn("farm-devices-2022")).toContain("farm-ls");
    expect(run.dependsOn("farm-sh01")).toEqual(expect.arrayContaining(["farm-devices-2022", "sh01-remoting", "sh01-host-trust"]));
    expect(run.dependsOn("farm-sh02")).toEqual(expect.arrayContaining(["farm-devices-2022", "sh02-remoting", "sh02-host-trust"]));
  });

  test("exports what the controller trusts, public (not secret)", () => {
    if (transport === "ssh") {
      expect(run.outputs.sshHostKeys).toEqual(VMS.map((vm) => ({ host: vm, keys: mockHostKeys(`${vm}-virtualmachine`) })));
      expect(run.outputs).not.toHaveProperty("winrmCertificates");
    } else {
      expect((run.outputs.winrmCertificates as { host: string }[]).map((c) => c.host)).toEqual(VMS);
      expect(run.outputs).not.toHaveProperty("sshHostKeys");
    }
    expect(run.secretOutputs).toEqual([]);
  });
});

describe("azure over WinRM, first phase (the controller does not trust the listener certificates yet)", () => {
  let run: ExampleRun;
  beforeAll(async () => {
    run = await runExampleUnderMocks("azure", {
      project: AZURE_PROJECT,
      config: { ...AZURE_CONFIG, managementPort: "5986" },
      secretKeys: AZURE_SECRETS,
    });
  });

  test("declares the VMs and their trust reports, and no licensing resource (it would fail the certificate check)", () => {
    expect(typesOf(run)).toEqual([...AZURE_INFRASTRUCTURE].sort());
    expect(run.outputs).not.toHaveProperty("productId");
  });

  test("exports each VM's listener certificate with its SHA-1 thumbprint, and the next step", () => {
    const certificates = run.outputs.winrmCertificates as { host: string; address: string; thumbprint: string; pem: string }[];
    expect(certificates.map((c) => c.host)).toEqual(VMS);
    for (const c of certificates) {
      expect(c.thumbprint).toBe("70504D84F3C647C171346E76C990F8C63B9E6C92");
      expect(c.pem).toBe(MOCK_LISTENER_CERTIFICATE.replace(/\r/g, ""));
      expect(c.address).toMatch(/^10\.20\.1\.\d+$/);
    }
    expect(run.outputs.nextStep).toMatch(/trust-winrm-certificates\.ps1.*winrmTrustedCertificates true/);
    expect(run.secretOutputs).toEqual([]);
  });
});
