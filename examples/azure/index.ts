/**
 * A full Azure environment for RDS licensing: resource group, virtual network and subnet, a network
 * security group that opens only the management port, one RD license server VM and two RD Session Host
 * VMs (Windows Server 2022) with a remoting transport enabled on them, and the RDS licensing resources
 * on top, reaching the VMs through their private addresses.
 *
 * WinRM needs Pulumi to run on Windows (pwsh on Linux/macOS has no WS-Management client); SSH works
 * from any controller. See README.md and provider/powershell/CONNECTIONS.md.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as azure from "@pulumi/azure-native";
import { RdsLicensing, type RdsConnectionArgs } from "pulumi-rds-licensing";

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
/** Where `pulumi up` reaches the VMs from (your VPN, a peered network, a build agent's subnet). Required. */
const managementSourceCidr = config.require("managementSourceCidr");
const vnetCidr = config.get("vnetCidr") ?? "10.20.0.0/16";
const subnetCidr = config.get("subnetCidr") ?? "10.20.1.0/24";

const rg = new azure.resources.ResourceGroup("rds", { location });

const nsg = new azure.network.NetworkSecurityGroup("rds", {
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

const vnet = new azure.network.VirtualNetwork("rds", {
  resourceGroupName: rg.name,
  location: rg.location,
  addressSpace: { addressPrefixes: [vnetCidr] },
});

// Outbound Internet for the VMs (new virtual networks get no default outbound access): automatic
// activation reaches the Clearinghouse, and the setup downloads PowerShell 7. Inbound stays closed.
const outboundIp = new azure.network.PublicIPAddress("rds-outbound", {
  resourceGroupName: rg.name,
  location: rg.location,
  sku: { name: "Standard" },
  publicIPAllocationMethod: "Static",
});
const nat = new azure.network.NatGateway("rds", {
  resourceGroupName: rg.name,
  location: rg.location,
  sku: { name: "Standard" },
  publicIpAddresses: [{ id: outboundIp.id }],
});

const subnet = new azure.network.Subnet("rds", {
  resourceGroupName: rg.name,
  virtualNetworkName: vnet.name,
  addressPrefix: subnetCidr,
  networkSecurityGroup: { id: nsg.id },
  natGateway: { id: nat.id },
});

// The setup script runs as SYSTEM through the Custom Script Extension, passed inline (no storage account).
const setupScript = fs.readFileSync(path.join(__dirname, "remoting-setup.ps1"), "utf8");
const encodedSetup = Buffer.from(`& {\n${setupScript}\n} -Transport ${transport}`, "utf16le").toString("base64");

interface WindowsVm {
  vm: azure.compute.VirtualMachine;
  /** The VM's private address, known once the remoting setup has run (so connections wait for it). */
  privateAddress: pulumi.Output<string>;
}

function windowsVm(name: string, computerName: string): WindowsVm {
  const nic = new azure.network.NetworkInterface(name, {
    resourceGroupName: rg.name,
    location: rg.location,
    ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnet.id }, privateIPAllocationMethod: "Dynamic" }],
  });
  const vm = new azure.compute.VirtualMachine(name, {
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
  const remoting = new azure.compute.VirtualMachineExtension(`${name}-remoting`, {
    resourceGroupName: rg.name,
    location: rg.location,
    vmName: vm.name,
    publisher: "Microsoft.Compute",
    type: "CustomScriptExtension",
    typeHandlerVersion: "1.10",
    autoUpgradeMinorVersion: true,
    protectedSettings: {
      commandToExecute: `powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand ${encodedSetup}`,
    },
  });
  const privateAddress = pulumi.all([nic.ipConfigurations, remoting.provisioningState]).apply(([ipConfigurations]) => {
    const address = ipConfigurations?.[0]?.privateIPAddress;
    if (!address) throw new Error(`network interface ${name} has no private address`);
    return address;
  });
  return { vm, privateAddress };
}

/**
 * How the licensing resources reach a VM: `host` is its name (Azure's DNS resolves VM names inside the
 * virtual network; session hosts point at the license server by it), `address` the private IP dialled.
 * WinRM: HTTPS with the local administrator (negotiate falls back to NTLM in a workgroup; over HTTPS
 * no TrustedHosts entry is needed) and, because
 * remoting-setup.ps1 makes a self-signed certificate for a lab, certificate checks skipped unless
 * `winrmTrustedCertificates` says the controller trusts them. SSH: password authentication and the
 * host keys from `sshKnownHostsFile` (strict checking stays on; see README.md for collecting them).
 */
function vmConnection(host: string, address: pulumi.Output<string>): RdsConnectionArgs {
  // Every connection field takes an Input: the VM's address and the secret password go in as Outputs
  // (the resources keep the whole connection secret in state).
  return transport === "winrm"
    ? {
        transport: "winrm",
        host,
        address,
        user: adminUsername,
        password: adminPassword,
        authentication: "negotiate",
        skipCertificateChecks: !config.getBoolean("winrmTrustedCertificates"),
      }
    : {
        transport: "ssh",
        host,
        address,
        user: adminUsername,
        password: adminPassword,
        knownHostsFile: config.require("sshKnownHostsFile"),
      };
}

const licenseServerVm = windowsVm("ls01", "ls01");
const sessionHostVms = [windowsVm("sh01", "sh01"), windowsVm("sh02", "sh02")];

const farm = new RdsLicensing("farm", {
  licenseServer: {
    connection: vmConnection("ls01", licenseServerVm.privateAddress),
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
  sessionHosts: sessionHostVms.map((vm, i) => ({
    name: `sh0${i + 1}`,
    connection: vmConnection(`sh0${i + 1}`, vm.privateAddress),
    osVersion: "2022" as const,
    domainJoined: false,
  })),
});

export const resourceGroupName = rg.name;
export const licenseServerPrivateAddress = licenseServerVm.privateAddress;
export const sessionHostPrivateAddresses = pulumi.all(sessionHostVms.map((vm) => vm.privateAddress));
export const productId = farm.licenseServer.productId;
export const activationStatus = farm.licenseServer.activationStatus;
export const findings = farm.findings;
