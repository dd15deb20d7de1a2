/**
 * Runs an example program (examples/<name>/index.ts) under `pulumi.runtime.setMocks`, the way the Node
 * language host runs a program: inside `runInPulumiStack`, its exports being the stack outputs. Records
 * every registration with its type, name, parent, inputs and the dependencies the SDK computed. Not a
 * test file.
 *
 * What is real: the example program (its TypeScript compiled with the TypeScript compiler and evaluated
 * afresh on each run, as ts-node does under `pulumi up`), the Pulumi SDK (registration, dependency tracking, secrets, closure
 * serialization of each `__provider`), the provider's resource classes and the RdsLicensing component
 * (from the project's TypeScript sources).
 * `@pulumi/azure-native` is the real package (the azure example's pin, a root devDependency): its
 * resource classes and invoke functions run as under `pulumi up`, only the engine answers them.
 * What stands in: the engine and every provider (the mocks answer each registration and each invoke
 * with plausible outputs, below; no provider method runs, nothing reaches Azure); `pulumi-rds-licensing`
 * resolves to the project's sources instead of an installed copy.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { EXAMPLES_DIR, ROOT } from "./paths";

export { EXAMPLES_DIR, ROOT };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export interface Registration {
  type: string;
  name: string;
  /** `<type>::<name>`: what `dependencies` lists. */
  key: string;
  custom: boolean;
  /** Parent URN ("" for none; the root stack for top-level resources). */
  parent: string;
  /** Inputs as the engine would receive them (secrets as wrappers). */
  rawInputs: Record<string, unknown>;
  /** Inputs with secret wrappers removed. */
  inputs: Record<string, unknown>;
  /** Top-level input names whose value is (or contains) a secret. */
  secretInputs: string[];
  /** The resources this one depends on (`dependencies` of the registration), as `<type>::<name>`. */
  dependencies: string[];
}

/** One invoke (data source call) the program made, e.g. `azure-native:compute:getVirtualMachineRunCommandByVirtualMachine`. */
export interface Invocation {
  token: string;
  args: Record<string, unknown>;
}

export interface ExampleRun {
  registrations: Registration[];
  /** Every invoke, in order. */
  invocations: Invocation[];
  /** Custom resources only. */
  resources: Registration[];
  outputs: Record<string, unknown>;
  secretOutputs: string[];
  /** The registration named `name` (throws when absent). */
  get(name: string): Registration;
  /** Names of the resources `name` depends on. */
  dependsOn(name: string): string[];
}

export function isSecretWrapper(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

export function unwrap<T>(v: T): T {
  if (isSecretWrapper(v)) return unwrap(v.value) as T;
  if (Array.isArray(v)) return v.map(unwrap) as T;
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)])) as T;
  return v;
}

function containsSecret(v: unknown): boolean {
  if (isSecretWrapper(v)) return true;
  if (Array.isArray(v)) return v.some(containsSecret);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsSecret);
  return false;
}

const nameOf = (key: string) => key.split("::").pop()!;

/** `<type>::<name>` of a URN (the mock monitor prefixes the parent's type: `parent$type`). */
function keyOfUrn(urn: string): string {
  const parts = urn.split("::");
  return `${parts[2].split("$").pop()}::${parts.slice(3).join("::")}`;
}

let keyPackSeq = 3;
let addressSeq = 4;

/**
 * A self-signed certificate (public part only; its key was discarded when it was made with openssl):
 * what host-trust.ps1 prints for a WinRM listener, as Windows prints it (CRLF line ends). SHA-1
 * thumbprint 70504D84F3C647C171346E76C990F8C63B9E6C92.
 */
export const MOCK_LISTENER_CERTIFICATE = [
  "-----BEGIN CERTIFICATE-----",
  "MIIBqTCCAU6gAwIBAgIUVnkAMtc/v3CHHbb5ygRzM9u+lmUwCgYIKoZIzj0EAwIw",
  "GTEXMBUGA1UEAwwOcmRzLW1vY2std2lucm0wHhcNMjYxMjAzMTUwNjUyWhcNMzYx",
  "MTMwMTUwNjUyWjAZMRcwFQYDVQQDDA5yZHMtbW9jay13aW5ybTBZMBMGByqGSM49",
  "AgEGCCqGSM49AwEHA0IABLrtTqbjOT5HlFQGO1bc2TFE5XEqdwBF0CvlbylXn5ES",
  "4w1SE8qLGXItB43JWeZH7lp+M9VfiJ22bCRkxwXwotqjdDByMB0GA1UdDgQWBBR+",
  "rq8dehnCvkcSioPgIfYqzcN2GzAfBgNVHSMEGDAWgBR+rq8dehnCvkcSioPgIfYq",
  "zcN2GzAPBgNVHRMBAf8EBTADAQH/MB8GA1UdEQQYMBaCDnJkcy1tb2NrLXdpbnJt",
  "hwQKFAEEMAoGCCqGSM49BAMCA0kAMEYCIQD38MU4HGCHnJ+q5Rl5px7Jo6DwgBzV",
  "b4gap2X49K/QYAIhAOcnTAdZYFLpI33XpUItvZh0T6Y64vVqwmkBE3roHbDr",
  "-----END CERTIFICATE-----",
].join("\r\n");

/** The ssh host keys host-trust.ps1 would print for the VM named `vmName` (distinct per VM). */
export function mockHostKeys(vmName: string): string[] {
  const tag = Buffer.from(`host key of ${vmName}`).toString("base64").replace(/=+$/, "");
  return [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${tag}`, `ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAI${tag}`];
}

/** The transport each VM's host-trust run command was registered for, by `<vmName>/<runCommandName>`. */
const runCommandTransports = new Map<string, string>();

/**
 * What the engine answers an invoke with. The run command read-back answers what host-trust.ps1 prints
 * for the transport it was registered with (after a line of noise, as a real instance view may carry).
 */
function mockCall(token: string, args: Record<string, unknown>): Record<string, unknown> {
  if (token === "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine") {
    const vmName = String(args.vmName);
    const transport = runCommandTransports.get(`${vmName}/${String(args.runCommandName)}`);
    const printed = transport === "ssh" ? mockHostKeys(vmName).join("\r\n") : transport === "winrm" ? MOCK_LISTENER_CERTIFICATE : "";
    const expanded = args.expand === "instanceView";
    return {
      name: args.runCommandName,
      // Azure fills the instance view only for a GET expanded with "instanceView".
      instanceView: expanded ? { executionState: "Succeeded", exitCode: 0, output: `\r\n${printed}\r\n`, error: "" } : undefined,
    };
  }
  return args;
}

/** Plausible outputs for each resource type (what a healthy deployment would answer). */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const i = unwrap(inputs) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  switch (type) {
    case "pulumi-nodejs:dynamic/rds:LicenseServer": {
      const method = i.activation?.method;
      const activated = method === "automatic" || Boolean(i.activation?.licenseServerId);
      return {
        ...inputs,
        serverName: typeof i.connection?.host === "string" ? i.connection.host : `${name}.example.test`,
        productId: "00490-92005-99454-AT527",
        licenseServerId: activated ? "A".repeat(35) : "",
        activationStatus: activated ? "activated" : "pending",
        activationMethod: activated ? method : "",
        activatedProductId: activated ? "00490-92005-99454-AT527" : "",
        nextStep: activated ? "" : "activate the server with its product id 00490-92005-99454-AT527",
        version: "10.0.20348",
      };
    }
    case "pulumi-nodejs:dynamic/rds:CalPack": {
      const total = typeof i.quantity === "number" ? i.quantity : 30;
      return {
        ...inputs,
        keyPackId: typeof i.adoptKeyPackId === "number" ? i.adoptKeyPackId : keyPackSeq++,
        typeAndModel: "RDS Per User CAL",
        keyPackType: 2,
        totalLicenses: total,
        issuedLicenses: 0,
        availableLicenses: total,
        expirationDate: "2038-01-01T01:00:00.0000000Z",
      };
    }
    case "pulumi-nodejs:dynamic/rds:SessionHostLicensing":
      return {
        ...inputs,
        serverName: typeof i.connection?.host === "string" ? i.connection.host : name,
        effectiveMode: i.mode,
        effectiveLicenseServers: i.licenseServers,
        modeSource: "local",
        licenseServersSource: "local",
        gracePeriodDaysLeft: 120,
        osVersion: "2022",
        domainJoined: true,
      };
    case "azure-native:resources:ResourceGroup":
    case "azure-native:network:VirtualNetwork":
    case "azure-native:network:NetworkSecurityGroup":
    case "azure-native:network:Subnet":
    case "azure-native:compute:VirtualMachine":
      return { ...inputs, name: `${name}-${type.split(":").pop()!.toLowerCase()}`, location: i.location ?? "westeurope" };
    case "azure-native:network:NetworkInterface":
      return {
        ...inputs,
        name,
        ipConfigurations: (i.ipConfigurations ?? []).map((c: Record<string, unknown>) => ({
          ...c,
          privateIPAddress: `10.20.1.${addressSeq++}`,
        })),
      };
    case "azure-native:compute:VirtualMachineExtension":
      return { ...inputs, name, provisioningState: "Succeeded" };
    case "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": {
      const parameters = (i.parameters ?? []) as { name: string; value: string }[];
      const transport = parameters.find((p) => p.name === "Transport")?.value ?? "";
      runCommandTransports.set(`${String(i.vmName)}/${String(i.runCommandName)}`, transport);
      return { ...inputs, name: i.runCommandName, provisioningState: "Succeeded" };
    }
    default:
      return inputs;
  }
}

// The provider's classes come from the project's sources (@pulumi/azure-native is the installed package).
jest.doMock("pulumi-rds-licensing", () => jest.requireActual(path.join(ROOT, "provider", "index.ts")));

const compiled = new Map<string, string>();

/**
 * Evaluates examples/<example>/index.ts afresh (each call runs the program again, as each `pulumi up`
 * does), compiled to CommonJS with the TypeScript compiler (type-checking is typecheck.test.ts's job).
 * Its `require` is this module's, so it shares this test's copy of the SDK.
 */
function loadProgram(example: string): Record<string, unknown> {
  const file = path.join(EXAMPLES_DIR, example, "index.ts");
  let code = compiled.get(file);
  if (code === undefined) {
    code = ts.transpileModule(fs.readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    compiled.set(file, code);
  }
  const module = { exports: {} as Record<string, unknown> };

  new Function("exports", "require", "module", "__filename", "__dirname", code)(module.exports, require, module, file, path.dirname(file));
  return module.exports;
}

/**
 * Runs examples/<example>/index.ts under mocks. `config` keys are bare (the example's project namespace
 * is added) or namespaced.
 */
export async function runExampleUnderMocks(
  example: string,
  options: { project: string; config?: Record<string, string>; secretKeys?: string[]; stack?: string },
): Promise<ExampleRun> {
  const registrations: Registration[] = [];
  const invocations: Invocation[] = [];
  const dependencies = new Map<string, { deps: string[]; parent: string }>();
  const constructed: pulumi.Resource[] = [];
  let programExports: Record<string, unknown> = {};

  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const state = args.custom ? mockState(args.type, args.name, args.inputs) : args.inputs;
        registrations.push({
          type: args.type,
          name: args.name,
          key: `${args.type}::${args.name}`,
          custom: args.custom ?? false,
          parent: "",
          rawInputs: args.inputs,
          inputs: unwrap(args.inputs),
          secretInputs: Object.keys(args.inputs).filter((k) => containsSecret(args.inputs[k])),
          dependencies: [],
        });
        return { id: args.custom ? `${args.name}-id` : undefined, state };
      },
      call: (args) => {
        invocations.push({ token: args.token, args: unwrap(args.inputs) });
        return mockCall(args.token, unwrap(args.inputs));
      },
    },
    options.project,
    options.stack ?? "test",
    false,
  );
  const config = Object.fromEntries(
    Object.entries(options.config ?? {}).map(([k, v]) => [k.includes(":") ? k : `${options.project}:${k}`, v]),
  );
  const secretKeys = (options.secretKeys ?? []).map((k) => (k.includes(":") ? k : `${options.project}:${k}`));
  pulumi.runtime.setAllConfig(config, secretKeys);

  // The dependencies the SDK computed, from the registration requests themselves.
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResource = (req: any, callback: any) => {
    dependencies.set(`${req.getType()}::${req.getName()}`, { deps: req.getDependenciesList(), parent: req.getParent() });
    return original(req, callback);
  };

  // As the language host does: the program runs inside the root Stack, its exports are the stack
  // outputs; a stack transformation collects every resource it constructs, so all are awaited.
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      constructed.push(args.resource);
      return undefined;
    });
    programExports = loadProgram(example);
    return programExports;
  });
  await Promise.all(constructed.map((r) => (r.urn as unknown as { promise(): Promise<string> }).promise()));

  for (const r of registrations) {
    const d = dependencies.get(`${r.type}::${r.name}`);
    r.dependencies = (d?.deps ?? []).map(keyOfUrn);
    r.parent = d?.parent ?? "";
  }
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(programExports)) {
    if (!pulumi.Output.isInstance(value)) continue;
    if (await pulumi.isSecret(value)) secretOutputs.push(key);
    outputs[key] = unwrap(await (value as unknown as { promise(): Promise<unknown> }).promise());
  }
  const get = (name: string) => {
    const r = registrations.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; registered: ${registrations.map((x) => x.name).join(", ")}`);
    return r;
  };
  return {
    registrations,
    invocations,
    resources: registrations.filter((r) => r.custom),
    outputs,
    secretOutputs,
    get,
    dependsOn: (name: string) => get(name).dependencies.map(nameOf).sort(),
  };
}
