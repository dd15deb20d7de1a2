/**
 * A full Azure environment for RDS licensing: resource group, virtual network and subnet, a network
 * security group that opens only the management port, one RD license server VM and two RD Session Host
 * VMs (Windows Server 2022) with a remoting transport enabled on them, and the RDS licensing resources
 * on top, reaching the VMs through their private addresses. The session hosts get the RD Session Host
 * role (installRole: the provider installs it, restarts the host and reconnects).
 *
 * Transports are verified: each VM reports what the controller must trust (its ssh host keys, or its
 * WinRM listener certificate) through a Run Command, read back over Azure's control plane. ssh pins the
 * keys as `hostKey`; WinRM has no pinning, so the certificates are exported and trusted on the (Windows)
 * controller by trust-winrm-certificates.ps1 before the licensing phase (`winrmTrustedCertificates`).
 *
 * WinRM needs Pulumi to run on Windows (pwsh on Linux/macOS has no WS-Management client); SSH works
 * from any controller. The controller must reach the VMs' private addresses (VPN, peering, or running
 * inside the virtual network). See README.md and provider/powershell/CONNECTIONS.md.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
// The three submodules used, not the package index (which loads every Azure service's declarations).
import * as compute from "@pulumi/azure-native/compute";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import { RdsLicensing, type RdsConnectionArgs, type RdsLicensingSessionHostArgs } from "pulumi-rds-licensing";

const config = new pulumi.Config();
const location = config.get("location") ?? "westeurope";
const vmSize = config.get("vmSize") ?? "Standard_D2s_v5";
const adminUsername = config.get("adminUsername") ?? "rdsadmin";
const adminPassword = config.requireSecret("adminPassword");
/** 5986 (WinRM over HTTPS) or 22 (SSH with the PowerShell subsystem). Default 5986. */
const managementPort = config.getNumber("managementPort") ?? 5986;
if (managementPort !== 5986 && managementPort !== 22) {
  throw new Error(`managementPort must be 5986 (WinRM HTTPS) or 22 (SSH), got ${managementPort}`);
}
const transport = managementPort === 5986 ? "winrm" : "ssh";
/**
 * Where `pulumi up` reaches the VMs' private addresses from: your VPN's client range, a peered network,
 * or the subnet of a build agent / jump host inside the virtual network (see README.md, "The network
 * path"). The VMs have no public address. Required.
 */
const managementSourceCidr = config.require("managementSourceCidr");
/**
 * WinRM only: set to true once trust-winrm-certificates.ps1 has trusted the VMs' listener certificates
 * on this controller. Until then the program stops after the VMs (the licensing resources would fail
 * the certificate check) and says what to do next.
 */
const winrmTrustedCertificates = config.getBoolean("winrmTrustedCertificates") ?? false;
const vnetCidr = config.get("vnetCidr") ?? "10.20.0.0/16";
const subnetCidr = config.get("subnetCidr") ?? "10.20.1.0/24";

const rg = new resources.ResourceGroup("rds", { location });

const nsg = new network.NetworkSecurityGroup("rds", {
  resourceGroupName: rg.name,
  location: rg.location,
  securityRules: [
    {
      name: transport === "winrm" ? "allow-winrm-https" : "allow-ssh",
      priority: 100,
      direction: "Inbound",
      access: "Allow",
      protocol: "Tcp",
      sourceAddressPrefix: managementSourceCidr,
      sourcePortRange: "*",
      destinationAddressPrefix: "VirtualNetwork",
      destinationPortRange: String(managementPort),
    },
  ],
});

const vnet = new network.VirtualNetwork("rds", {
  resourceGroupName: rg.name,
  location: rg.location,
  addressSpace: { addressPrefixes: [vnetCidr] },
});

// Outbound Internet for the VMs (new virtual networks get no default outbound access): automatic
// activation reaches the Clearinghouse, and the setup downloads PowerShell 7. Inbound stays closed.
const outboundIp = new network.PublicIPAddress("rds-outbound", {
  resourceGroupName: rg.name,
  location: rg.location,
  sku: { name: "Standard" },
  publicIPAllocationMethod: "Static",
});
const nat = new network.NatGateway("rds", {
  resourceGroupName: rg.name,
  location: rg.location,
  sku: { name: "Standard" },
  publicIpAddresses: [{ id: outboundIp.id }],
});

const subnet = new network.Subnet("rds", {
  resourceGroupName: rg.name,
  virtualNetworkName: vnet.name,
  addressPrefix: subnetCidr,
  networkSecurityGroup: { id: nsg.id },
  natGateway: { id: nat.id },
});

// The setup script runs as SYSTEM through the Custom Script Extension, passed inline (no storage
// account). Its comment lines are dropped: cmd.exe limits the command line to 8191 characters.
const setupScript = fs
  .readFileSync(path.join(__dirname, "remoting-setup.ps1"), "utf8")
  .split(/\r?\n/)
  .filter((line) => line.trim() !== "" && !line.trim().startsWith("#"))
  .join("\n");
const setupCommand = (computerName: string, privateAddress: string) => {
  const invocation = `& {\n${setupScript}\n} -Transport ${transport} -ComputerName ${computerName} -PrivateAddress ${privateAddress}`;
  return `powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand ${Buffer.from(invocation, "utf16le").toString("base64")}`;
};
const hostTrustScript = fs.readFileSync(path.join(__dirname, "host-trust.ps1"), "utf8");

/** A WinRM listener certificate as the VM reported it, with its SHA-1 thumbprint (what Windows shows). */
interface ListenerCertificate {
  host: string;
  address: string;
  thumbprint: string;
  pem: string;
}

interface WindowsVm {
  computerName: string;
  vm: compute.VirtualMachine;
  /** The VM's private address, known once the remoting setup and the trust report have run (so connections wait for them). */
  privateAddress: pulumi.Output<string>;
  /** What host-trust.ps1 printed on the VM, read back through Azure's control plane. */
  trustReport: pulumi.Output<string>;
}

const SSH_HOST_KEY_LINE = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,3}$/;

/** The ssh host keys a VM reported, pinned as the connection's `hostKey`. */
function parseSshHostKeys(computerName: string, report: string): string[] {
  const keys = report
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => SSH_HOST_KEY_LINE.test(line));
  if (keys.length === 0) {
    throw new Error(`${computerName}: host-trust.ps1 reported no ssh host key (its output: ${JSON.stringify(report.slice(0, 300))})`);
  }
  return keys;
}

/** The WinRM listener certificate a VM reported, checked to be a certificate, with its thumbprint. */
function parseListenerCertificate(computerName: string, address: string, report: string): ListenerCertificate {
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(report)?.[0];
  if (!pem) {
    throw new Error(`${computerName}: host-trust.ps1 reported no certificate (its output: ${JSON.stringify(report.slice(0, 300))})`);
  }
  const normalized = pem.replace(/\r/g, "");
  const thumbprint = new crypto.X509Certificate(normalized).fingerprint.replace(/:/g, "");
  return { host: computerName, address, thumbprint, pem: normalized };
}

function windowsVm(name: string, computerName: string): WindowsVm {
  const nic = new network.NetworkInterface(name, {
    resourceGroupName: rg.name,
    location: rg.location,
    ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnet.id }, privateIPAllocationMethod: "Dynamic" }],
  });
  const nicAddress = nic.ipConfigurations.apply((ipConfigurations) => {
    const address = ipConfigurations?.[0]?.privateIPAddress;
    if (!address) throw new Error(`network interface ${name} has no private address`);
    return address;
  });
  const setup = nicAddress.apply((address) => setupCommand(computerName, address));
  const vm = new compute.VirtualMachine(name, {
    resourceGroupName: rg.name,
    location: rg.location,
    hardwareProfile: { vmSize },
    networkProfile: { networkInterfaces: [{ id: nic.id, primary: true }] },
    osProfile: {
      computerName,
      adminUsername,
      adminPassword,
      windowsConfiguration: { provisionVMAgent: true, enableAutomaticUpdates: true },
    },
    storageProfile: {
      imageReference: {
        publisher: "MicrosoftWindowsServer",
        offer: "WindowsServer",
        sku: "2022-datacenter-azure-edition",
        version: "latest",
      },
      osDisk: { createOption: "FromImage", managedDisk: { storageAccountType: "Premium_LRS" } },
    },
  });
  const remoting = new compute.VirtualMachineExtension(`${name}-remoting`, {
    resourceGroupName: rg.name,
    location: rg.location,
    vmName: vm.name,
    publisher: "Microsoft.Compute",
    type: "CustomScriptExtension",
    typeHandlerVersion: "1.10",
    autoUpgradeMinorVersion: true,
    protectedSettings: { commandToExecute: setup },
  });
  // What the controller must trust, printed on the VM and read back through Azure's control plane (an
  // authenticated channel that does not cross the network path being verified). The instance view, which
  // holds the output, comes only with a GET expanded with "instanceView".
  const hostTrust = new compute.VirtualMachineRunCommandByVirtualMachine(
    `${name}-host-trust`,
    {
      resourceGroupName: rg.name,
      location: rg.location,
      vmName: vm.name,
      runCommandName: "rds-host-trust",
      source: { script: hostTrustScript },
      // SetupDigest changes with the setup command (script, address), so a setup that runs again (and may
      // bind another certificate) makes the run command run again and report what is there now.
      parameters: [
        { name: "Transport", value: transport },
        { name: "SetupDigest", value: setup.apply((command) => crypto.createHash("sha256").update(command).digest("hex").slice(0, 16)) },
      ],
      asyncExecution: false,
      treatFailureAsDeploymentFailure: true,
      timeoutInSeconds: 300,
    },
    { dependsOn: [remoting] },
  );
  const trustReport = compute
    .getVirtualMachineRunCommandByVirtualMachineOutput({
      resourceGroupName: rg.name,
      vmName: vm.name,
      runCommandName: hostTrust.name,
      expand: "instanceView",
    })
    .apply((result) => result.instanceView?.output ?? "");
  const privateAddress = pulumi.all([nicAddress, remoting.provisioningState, trustReport]).apply(([address]) => address);
  return { computerName, vm, privateAddress, trustReport };
}

/**
 * How the licensing resources reach a VM: `host` is its name (Azure's DNS resolves VM names inside the
 * virtual network; session hosts point at the license server by it), `address` the private IP dialled.
 * Verified both ways, never skipped:
 * - ssh: password authentication, the host keys the VM reported pinned as `hostKey` (strict checking).
 * - WinRM: HTTPS with the local administrator (negotiate falls back to NTLM in a workgroup; over HTTPS
 *   no TrustedHosts entry is needed), certificate checks on: the listener's certificate names the VM
 *   and its private address, and this controller trusts it (trust-winrm-certificates.ps1).
 */
function vmConnection(vm: WindowsVm): RdsConnectionArgs {
  // Every connection field takes an Input: the VM's address, its host keys and the secret password go
  // in as Outputs (the resources keep the whole connection secret in state).
  const host = vm.computerName;
  return transport === "winrm"
    ? { transport: "winrm", host, address: vm.privateAddress, user: adminUsername, password: adminPassword, authentication: "negotiate" }
    : {
        transport: "ssh",
        host,
        address: vm.privateAddress,
        user: adminUsername,
        password: adminPassword,
        hostKey: vm.trustReport.apply((report) => parseSshHostKeys(host, report)),
      };
}

const licenseServerVm = windowsVm("ls01", "ls01");
const sessionHostVms = [windowsVm("sh01", "sh01"), windowsVm("sh02", "sh02")];
const allVms = [licenseServerVm, ...sessionHostVms];

// WinRM: nothing on the controller trusts the VMs' certificates until trust-winrm-certificates.ps1 has
// run, so the first `up` stops after the VMs and says so (ssh pins its keys in the same `up`).
const licensingReady = transport === "ssh" || winrmTrustedCertificates;

const farm = licensingReady
  ? new RdsLicensing("farm", {
      licenseServer: {
        connection: vmConnection(licenseServerVm),
        contact: {
          firstName: config.require("contactFirstName"),
          lastName: config.require("contactLastName"),
          company: config.require("company"),
          countryRegion: config.require("countryRegion"),
          email: config.get("contactEmail"),
        },
        // The license server reaches the Clearinghouse itself, through the NAT gateway.
        activation: { method: "automatic" },
      },
      calPacks: [
        {
          name: "devices-2022",
          program: "enterpriseAgreement",
          agreementNumber: config.requireSecret("agreementNumber"),
          productVersion: "2022",
          calType: "perDevice",
          quantity: config.getNumber("calQuantity") ?? 25,
        },
      ],
      // The VMs are in a workgroup: Per User licensing needs Active Directory (join a domain first).
      mode: "perDevice",
      // Typed, so a field the component does not know is an error, not silently dropped.
      sessionHosts: sessionHostVms.map((vm): RdsLicensingSessionHostArgs => ({
        name: vm.computerName,
        connection: vmConnection(vm),
        osVersion: "2022" as const,
        domainJoined: false,
        // A fresh Windows Server VM has no RD Session Host role: the provider installs RDS-RD-Server,
        // restarts the host, waits for it and reconnects before it sets the licensing mode.
        installRole: true,
      })),
    })
  : undefined;

export const resourceGroupName = rg.name;
export const licenseServerPrivateAddress = licenseServerVm.privateAddress;
export const sessionHostPrivateAddresses = pulumi.all(sessionHostVms.map((vm) => vm.privateAddress));
/** ssh: the host keys pinned per VM (public; reported by the Run Command). */
export const sshHostKeys =
  transport === "ssh"
    ? pulumi.all(
        allVms.map((vm) => vm.trustReport.apply((report) => ({ host: vm.computerName, keys: parseSshHostKeys(vm.computerName, report) }))),
      )
    : undefined;
/** WinRM: the listener certificates to trust on the controller (public; trust-winrm-certificates.ps1 reads them). */
export const winrmCertificates =
  transport === "winrm"
    ? pulumi.all(
        allVms.map((vm) =>
          pulumi
            .all([vm.privateAddress, vm.trustReport])
            .apply(([address, report]) => parseListenerCertificate(vm.computerName, address, report)),
        ),
      )
    : undefined;
/** What to do before the licensing resources can be declared ("" once they are). */
export const nextStep = pulumi.output(
  licensingReady
    ? ""
    : "trust the VMs' WinRM certificates on this (Windows) controller: `pwsh ./trust-winrm-certificates.ps1` (compare the thumbprints), " +
        "then `pulumi config set winrmTrustedCertificates true` and `pulumi up` again",
);
export const productId = farm?.licenseServer.productId;
export const activationStatus = farm?.licenseServer.activationStatus;
export const findings = farm?.findings;
