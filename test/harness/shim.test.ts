/**
 * The serialized shim (provider/shim.ts) and the capture helpers (engine/capture.ts).
 * What is real: the SDK's closure serializer (`serializeFunction`, the same call that produces
 * `__provider`), `require-from-string` (what the host uses to rehydrate it), and Node's module loading.
 * What stands in: the host process (rehydrated in this process instead) and the implementation
 * modules (tiny JS files written to a temp directory).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "../../provider/shim";
import { assertSerializable, captureProvider, captureRegistrations } from "../helpers/captureProvider";
import { SECRET_SIG_KEY, isSecret } from "../helpers/providerHost";
import { noteImplementation } from "../fixtures/noteProvider/build";
import { Note, NOTE_TYPE } from "../fixtures/noteProvider/resource";
// require-from-string ships no types: typed here at the one place it is loaded.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireFromString: (code: string) => { handler: () => pulumi.dynamic.ResourceProvider } = require("require-from-string");

const REAL_MODULE = "pulumi-rds-licensing/resources/sessionHostLicensing/provider";
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "shim-"));
  fs.writeFileSync(
    path.join(dir, "full.js"),
    `exports.provider = {
      name: "full",
      async check(olds, news) { return { inputs: { ...news, checkedBy: this.name, olds } }; },
      async diff(id, olds, news) { return { changes: true, replaces: ["host"], deleteBeforeReplace: false, seen: [id, olds, news] }; },
      async create(inputs) { return { id: "id-" + inputs.host, outs: { ...inputs, createdBy: this.name } }; },
      async read(id, props) { return { id, props: { ...props, readBy: this.name } }; },
      async update(id, olds, news) { return { outs: { ...news, updatedBy: this.name, was: olds.host } }; },
      async delete(id, props) { require("fs").writeFileSync(props.marker, id + " deleted by " + this.name); },
    };`,
  );
  fs.writeFileSync(
    path.join(dir, "partial.js"),
    `exports.provider = {
      async create(inputs) {
        throw Object.assign(new Error("service did not start"), { id: "id-1", properties: { host: inputs.host }, reasons: ["service did not start"] });
      },
    };`,
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The names a serialized function's `with({...})` block captures. */
function capturedNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/with\(\{ (.*?) \}\)/g)) {
    for (const part of m[1].split(/, (?=[A-Za-z_$][\w$]*: )/)) names.add(part.slice(0, part.indexOf(":")));
  }
  return [...names].sort();
}

describe("lazyProvider serialized", () => {
  test("captures only the module name: about 2.5 KB, one require, no zod / Set / Date / ChildProcess", async () => {
    const { text, bytes } = await assertSerializable(lazyProvider(REAL_MODULE));
    expect(bytes).toBeLessThan(3000);
    expect(capturedNames(text)).toEqual(["arguments", "implModule", "load", "provider", "this"]);
    expect(text.match(/require\(/g)).toHaveLength(1);
    expect(text).toContain("require(implModule)");
    expect(text).toContain(`implModule: ${JSON.stringify(REAL_MODULE)}`);
    for (const banned of ["zod", "Set", "Date", "Map", "ChildProcess", "__importStar", "process.env"]) {
      expect(text).not.toContain(banned);
    }
  });

  test("the same module gives the same string (one provider per host), another module a different one", async () => {
    const a = await assertSerializable(lazyProvider(REAL_MODULE));
    const b = await assertSerializable(lazyProvider(REAL_MODULE));
    const c = await assertSerializable(lazyProvider("pulumi-rds-licensing/resources/calPack/provider"));
    expect(a.text).toBe(b.text);
    expect(c.text).not.toBe(a.text);
  });

  test("the implementation is resolved at call time: it need not exist when serializing", async () => {
    const later = path.join(dir, "later.js");
    const { text } = await assertSerializable(lazyProvider(later));
    const prov = requireFromString(text).handler();
    await expect(prov.create({ host: "x" })).rejects.toThrow(/Cannot find module/);
    fs.writeFileSync(later, `exports.provider = { async create(i) { return { id: "made-" + i.host, outs: i }; } };`);
    await expect(prov.create({ host: "x" })).resolves.toEqual({ id: "made-x", outs: { host: "x" } });
  });

  test("after rehydration each method reaches the implementation, with `this` bound to it", async () => {
    const { text } = await assertSerializable(lazyProvider(path.join(dir, "full.js")));
    const prov = requireFromString(text).handler();
    expect(await prov.check!({ host: "a" }, { host: "b" })).toEqual({ inputs: { host: "b", checkedBy: "full", olds: { host: "a" } } });
    expect(await prov.diff!("id-a", { host: "a" }, { host: "b" })).toEqual({
      changes: true,
      replaces: ["host"],
      deleteBeforeReplace: false,
      seen: ["id-a", { host: "a" }, { host: "b" }],
    });
    expect(await prov.create({ host: "a" })).toEqual({ id: "id-a", outs: { host: "a", createdBy: "full" } });
    expect(await prov.read!("id-a", { host: "a" })).toEqual({ id: "id-a", props: { host: "a", readBy: "full" } });
    expect(await prov.update!("id-a", { host: "a" }, { host: "b" })).toEqual({ outs: { host: "b", updatedBy: "full", was: "a" } });
    const marker = path.join(dir, "deleted.txt");
    await prov.delete!("id-a", { marker });
    expect(fs.readFileSync(marker, "utf8")).toBe("id-a deleted by full");
  });

  test("an init-failed error (id, properties, reasons) reaches the host unchanged", async () => {
    const { text } = await assertSerializable(lazyProvider(path.join(dir, "partial.js")));
    const prov = requireFromString(text).handler();
    const err = await prov.create({ host: "ls01" }).then(
      () => undefined,
      (e: unknown) => e as Error & { id: string; properties: unknown; reasons: string[] },
    );
    expect(err?.message).toBe("service did not start");
    expect(err?.id).toBe("id-1");
    expect(err?.properties).toEqual({ host: "ls01" });
    expect(err?.reasons).toEqual(["service did not start"]);
  });

  test("missing methods behave like the host's defaults, except update, which refuses", async () => {
    const { text } = await assertSerializable(lazyProvider(path.join(dir, "partial.js")));
    const prov = requireFromString(text).handler();
    expect(await prov.check!({}, { host: "a" })).toEqual({ inputs: { host: "a" } });
    expect(await prov.diff!("id", {}, {})).toEqual({}); // changes undefined: DIFF_UNKNOWN
    expect(await prov.read!("id", { host: "a" })).toEqual({ id: "id", props: { host: "a" } });
    await expect(prov.delete!("id", {})).resolves.toBeUndefined();
    await expect(prov.update!("id", {}, {})).rejects.toThrow(/has no update\(\): the host would drop every output/);
  });
});

describe("captureProvider", () => {
  test("returns the __provider string the SDK registers, the type token, the URN, and secrets in engine form", async () => {
    const reg = await captureProvider(() => new Note("n1", { dir: "/tmp/x", name: "hello", content: pulumi.secret("s3cret") }));
    expect(reg.type).toBe(NOTE_TYPE);
    expect(reg.urn).toBe(`urn:pulumi:stack::proj::${NOTE_TYPE}::n1`);
    expect(reg.providerIsSecret).toBe(false);
    expect(reg.inputs.__provider).toBe(reg.provider);
    expect(reg.provider).toContain(JSON.stringify(noteImplementation()));
    expect(Buffer.byteLength(reg.provider)).toBeLessThan(3000);
    expect(isSecret(reg.inputs.content)).toBe(true);
    expect(reg.inputs.content).toEqual({ [SECRET_SIG_KEY]: "1b47061264138c4ac30d75fd1eb44270", value: "s3cret" });
    // Declared outputs passed as undefined are not sent.
    expect(Object.keys(reg.inputs).sort()).toEqual(["__provider", "content", "dir", "name"]);
    // What the host will run is the shim, and it is runnable here as well.
    const prov = requireFromString(reg.provider).handler();
    expect(Object.keys(prov).sort()).toEqual(["check", "create", "delete", "diff", "read", "update"]);
  });

  test("several resources come back in registration order", async () => {
    const regs = await captureRegistrations(() => [
      new Note("a", { dir: "/tmp/x", name: "a", content: "1" }),
      new Note("b", { dir: "/tmp/x", name: "b", content: "2", tags: ["t"] }),
    ]);
    expect(regs.map((r) => r.name)).toEqual(["a", "b"]);
    expect(regs[1].inputs.tags).toEqual(["t"]);
    expect(regs[0].provider).toBe(regs[1].provider);
  });

  /** A provider that captures a module-level-style Set and reads its size: the SDK cannot serialize that capture. */
  function providerCapturingSetSize(): pulumi.dynamic.ResourceProvider {
    const seen = new Set<string>();
    return {
      async create(inputs) {
        return { id: `${inputs.name}-${seen.size}` };
      },
    };
  }

  test("assertSerializable rejects fast, with the SDK's message, for a provider capturing a Set", async () => {
    await expect(assertSerializable(providerCapturingSetSize())).rejects.toThrow(/seen[\s\S]*could not be serialized/);
  });

  test("a Set used only through a method serializes, then breaks when called: rehydrate and call, too", async () => {
    const seen = new Set<string>();
    const bad: pulumi.dynamic.ResourceProvider = {
      async create(inputs) {
        seen.add(inputs.name);
        return { id: inputs.name };
      },
    };
    const { text } = await assertSerializable(bad);
    await expect(requireFromString(text).handler().create({ name: "x" })).rejects.toThrow(/incompatible receiver/);
  });
});
