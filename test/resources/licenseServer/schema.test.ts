/**
 * RdsLicenseServer check(): bad inputs are rejected with the field named and a reason that says how to
 * fix it, before any host is touched; good inputs come back normalised with their defaults.
 *
 * What is real: the provider's `check` (provider/resources/licenseServer/provider.ts), its zod schema,
 * checkWithSchema, the connection schema of the foundation.
 * What stands in: nothing is faked; no pwsh and no host is involved, and the test proves it: the
 * emulator state directory (given in the connection and in RDS_SIM_STATE_DIR) stays empty.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { provider } from "../../../provider/resources/licenseServer/provider";
import { argsSchema, normalizeLicenseServerId } from "../../../provider/resources/licenseServer/schema";
import { UNKNOWN } from "../../../provider/check";
import { CONTACT_MAX_LENGTH } from "../../../provider/resources/licenseServer/schema";
import { isSecretValue, unwrapSecrets } from "../../../provider/resources/secrets";

type Props = Record<string, unknown>;

let stateDir: string;
let savedEnv: string | undefined;

beforeAll(() => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ls-schema-"));
  savedEnv = process.env.RDS_SIM_STATE_DIR;
  process.env.RDS_SIM_STATE_DIR = stateDir;
});

afterAll(() => {
  // Nothing touched the emulator: no host file, no lock, nothing at all.
  expect(fs.readdirSync(stateDir)).toEqual([]);
  fs.rmSync(stateDir, { recursive: true, force: true });
  if (savedEnv === undefined) delete process.env.RDS_SIM_STATE_DIR;
  else process.env.RDS_SIM_STATE_DIR = savedEnv;
});

afterEach(() => {
  expect(fs.readdirSync(stateDir)).toEqual([]);
});

const ID = "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z0123-45678";
const secret = (value: unknown) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
const ID_NORMAL = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678";

function valid(): Props {
  return {
    connection: { transport: "simulator", host: "ls01", stateDir },
    contact: { firstName: "Ada", lastName: "Lovelace", company: "Contoso", countryRegion: "United Kingdom" },
    activation: { method: "automatic" },
  };
}

async function check(news: Props) {
  return provider.check!({}, { ...news, __provider: "exports.handler = () => ({})" });
}

async function failuresOf(news: Props) {
  const res = await check(news);
  expect(res.failures).toBeDefined();
  return res.failures!;
}

function withContact(patch: Props, drop: string[] = []): Props {
  const v = valid();
  const contact = { ...(v.contact as Props), ...patch };
  for (const k of drop) delete contact[k];
  return { ...v, contact };
}

describe("when the inputs are good", () => {
  test("defaults are filled in and the optional contact fields default to empty", async () => {
    const res = await check(valid());
    expect(res.failures).toBeUndefined();
    expect(res.inputs).toEqual({
      // Secret in every answer of the provider (provider/resources/secrets.ts).
      connection: {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        value: { transport: "simulator", host: "ls01", stateDir },
      },
      contact: {
        firstName: "Ada",
        lastName: "Lovelace",
        company: "Contoso",
        countryRegion: "United Kingdom",
        email: "",
        orgUnit: "",
        address: "",
        city: "",
        state: "",
        postalCode: "",
      },
      activation: { method: "automatic" },
      installRole: true,
      addToLicenseServersGroup: false,
      deactivateOnDelete: false,
      __provider: "exports.handler = () => ({})",
    });
  });

  test("a license server id with hyphens, spaces and lower case is normalised", async () => {
    const res = await check({ ...valid(), activation: { method: "web", licenseServerId: ` ${ID.toLowerCase().replace(/-/g, " - ")} ` } });
    expect(res.failures).toBeUndefined();
    // The activation carries the id, so check's answer holds it as a secret (never in plain text).
    expect((res.inputs as Props).activation).toEqual(secret({ method: "web", licenseServerId: ID_NORMAL }));
    expect(normalizeLicenseServerId(ID)).toBe(ID_NORMAL);
  });

  test("every optional field is accepted with its declared type", async () => {
    const res = await check({
      ...withContact({
        email: "ada@contoso.example",
        orgUnit: "IT",
        address: "1 Main St",
        city: "London",
        state: "-",
        postalCode: "N1 9GU",
      }),
      activation: { method: "telephone" },
      installRole: false,
      discoveryScope: "domain",
      deactivateOnDelete: true,
    });
    expect(res.failures).toBeUndefined();
    expect(res.inputs).toMatchObject({ installRole: false, discoveryScope: "domain", deactivateOnDelete: true });
  });

  test("values that look like PowerShell stay data, byte for byte", async () => {
    const company = `O'Brien "&" $(Get-Process) \`n ü 株式会社`;
    const res = await check(withContact({ company }));
    expect(res.failures).toBeUndefined();
    expect(((res.inputs as Props).contact as Props).company).toBe(company);
  });
});

describe("when a required contact field is missing or empty", () => {
  for (const field of ["firstName", "lastName", "company", "countryRegion"]) {
    test(`contact.${field} missing is named as required`, async () => {
      const failures = await failuresOf(withContact({}, [field]));
      expect(failures).toEqual([{ property: `contact.${field}`, reason: expect.stringContaining("is required") }]);
      expect(failures[0].reason).toContain("Clearinghouse");
    });
    test(`contact.${field} empty is named as empty`, async () => {
      const failures = await failuresOf(withContact({ [field]: "" }));
      expect(failures).toEqual([{ property: `contact.${field}`, reason: expect.stringContaining("is empty") }]);
    });
    test(`contact.${field} of blanks only is named as empty`, async () => {
      const failures = await failuresOf(withContact({ [field]: "   " }));
      expect(failures).toEqual([{ property: `contact.${field}`, reason: expect.stringContaining("is empty") }]);
    });
  }

  test("all four missing give four failures, each named", async () => {
    const failures = await failuresOf({ ...valid(), contact: {} });
    expect(failures.map((f) => f.property).sort()).toEqual([
      "contact.company",
      "contact.countryRegion",
      "contact.firstName",
      "contact.lastName",
    ]);
  });

  test("no contact at all is named", async () => {
    const v = valid();
    delete v.contact;
    const failures = await failuresOf(v);
    expect(failures).toEqual([{ property: "contact", reason: expect.stringContaining("firstName, lastName, company and countryRegion") }]);
  });
});

describe("when the activation is wrong", () => {
  test("an unknown method is named with the accepted ones", async () => {
    const failures = await failuresOf({ ...valid(), activation: { method: "email" } });
    expect(failures).toEqual([{ property: "activation.method", reason: expect.stringContaining('"automatic", "web" or "telephone"') }]);
    expect(failures[0].reason).toContain('"email"');
  });

  test("a missing method is named", async () => {
    const failures = await failuresOf({ ...valid(), activation: {} });
    expect(failures).toEqual([{ property: "activation.method", reason: expect.stringContaining("must be one of") }]);
  });

  test("a method in the wrong case is rejected (no guessing)", async () => {
    const failures = await failuresOf({ ...valid(), activation: { method: "Automatic" } });
    expect(failures.map((f) => f.property)).toEqual(["activation.method"]);
  });

  test("no activation at all is named", async () => {
    const v = valid();
    delete v.activation;
    const failures = await failuresOf(v);
    expect(failures).toEqual([{ property: "activation", reason: expect.stringContaining("method") }]);
  });

  const malformed: [string, string, string][] = [
    ["too short", "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z0123", "got 30"],
    ["too long", `${ID}-9`, "got 36"],
    ["empty", "", "got 0"],
    ["only hyphens", "-----", "got 0"],
    ["a character outside A-Z0-9", "ABCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z0123-4567_", 'found "_"'],
    ["accented letters", "ÄBCDE-FGHIJ-KLMNO-PQRST-UVWXY-Z0123-45678", 'found "Ä"'],
    ["a product id pasted instead", "00490-92005-99454-AT527", "got 20"],
  ];
  for (const [what, id, reason] of malformed) {
    test(`a license server id ${what} is rejected and the reason says how to fix it`, async () => {
      const failures = await failuresOf({ ...valid(), activation: { method: "web", licenseServerId: id } });
      expect(failures).toEqual([{ property: "activation.licenseServerId", reason: expect.stringContaining(reason) }]);
      expect(failures[0].reason).toMatch(/35|letters/);
    });
  }

  test("a license server id with method automatic is rejected with the reason", async () => {
    const failures = await failuresOf({ ...valid(), activation: { method: "automatic", licenseServerId: ID } });
    expect(failures).toEqual([
      { property: "activation.licenseServerId", reason: expect.stringContaining('only used with method "web" or "telephone"') },
    ]);
  });

  test("a license server id that is not text is named", async () => {
    const failures = await failuresOf({ ...valid(), activation: { method: "web", licenseServerId: 12345 } });
    expect(failures).toEqual([{ property: "activation.licenseServerId", reason: expect.stringContaining("must be text, got number") }]);
  });
});

describe("when a value has the wrong type", () => {
  const cases: [string, (v: Props) => Props, string, string][] = [
    ["installRole as text", (v) => ({ ...v, installRole: "yes" }), "installRole", "true or false"],
    ["deactivateOnDelete as a number", (v) => ({ ...v, deactivateOnDelete: 1 }), "deactivateOnDelete", "true or false"],
    [
      "addToLicenseServersGroup as text",
      (v) => ({ ...v, addToLicenseServersGroup: "yes" }),
      "addToLicenseServersGroup",
      "must be true (put the license server in its domain's Terminal Server License Servers group) or false, got string",
    ],
    ["discoveryScope out of the list", (v) => ({ ...v, discoveryScope: "global" }), "discoveryScope", '"workgroup", "domain" or "forest"'],
    ["discoveryScope as a number", (v) => ({ ...v, discoveryScope: 1 }), "discoveryScope", '"workgroup", "domain" or "forest"'],
    ["contact.email as a number", () => withContact({ email: 5 }), "contact.email", "must be text, got number"],
    ["contact.firstName as null", () => withContact({ firstName: null }), "contact.firstName", "must be text, got null"],
    ["contact.company as an array", () => withContact({ company: ["Contoso"] }), "contact.company", "must be text, got an array"],
    ["contact as text", (v) => ({ ...v, contact: "Ada Lovelace" }), "contact", "must be an object"],
    ["activation as text", (v) => ({ ...v, activation: "automatic" }), "activation", "must be an object"],
  ];
  for (const [what, make, property, reason] of cases) {
    test(`${what} is named`, async () => {
      const failures = await failuresOf(make(valid()));
      expect(failures).toEqual([{ property, reason: expect.stringContaining(reason) }]);
    });
  }

  test("a connection without a host is named", async () => {
    const failures = await failuresOf({ ...valid(), connection: { transport: "simulator" } });
    expect(failures.map((f) => f.property)).toEqual(["connection.host"]);
  });

  test("an unknown transport is named", async () => {
    const failures = await failuresOf({ ...valid(), connection: { transport: "telnet", host: "ls01" } });
    expect(failures.map((f) => f.property)).toEqual(["connection.transport"]);
  });

  test("no connection at all is named", async () => {
    const v = valid();
    delete v.connection;
    const failures = await failuresOf(v);
    expect(failures.map((f) => f.property)).toEqual(["connection"]);
  });
});

describe("when there are extra fields", () => {
  test("an unknown top-level field is named with the allowed ones", async () => {
    const failures = await failuresOf({ ...valid(), licenceServerId: ID });
    expect(failures).toEqual([{ property: "(inputs)", reason: expect.stringContaining('unknown field "licenceServerId"') }]);
    expect(failures[0].reason).toContain("allowed: connection, contact, activation");
  });

  test("an unknown contact field is named", async () => {
    const failures = await failuresOf(withContact({ phone: "+44 20 7946 0000" }));
    expect(failures).toEqual([{ property: "contact", reason: expect.stringContaining('unknown field "contact.phone"') }]);
  });

  test("an unknown activation field is named", async () => {
    const failures = await failuresOf({ ...valid(), activation: { method: "web", productId: "00490-92005-99454-AT527" } });
    expect(failures).toEqual([{ property: "activation", reason: expect.stringContaining('unknown field "activation.productId"') }]);
  });

  test("an unknown connection field is rejected", async () => {
    const failures = await failuresOf({ ...valid(), connection: { transport: "simulator", host: "ls01", port: 5986 } });
    expect(failures.map((f) => f.property)).toEqual(["connection"]);
  });
});

describe("length limits and control characters of the contact fields", () => {
  const CONTACT = ["firstName", "lastName", "company", "countryRegion", "email", "orgUnit", "address", "city", "state", "postalCode"];

  test("each field takes exactly its documented length, and refuses one more, naming the field, the limit and the fix", async () => {
    for (const field of CONTACT) {
      const max = CONTACT_MAX_LENGTH[field as keyof typeof CONTACT_MAX_LENGTH];
      expect(max).toBeGreaterThanOrEqual(254);
      expect((await check(withContact({ [field]: "a".repeat(max) }))).failures).toBeUndefined();
      const failures = await failuresOf(withContact({ [field]: "a".repeat(max + 1) }));
      expect(failures).toEqual([
        {
          property: `contact.${field}`,
          reason: `contact.${field} is ${max + 1} characters long, more than the ${max} accepted: shorten it`,
        },
      ]);
    }
  });

  test("a 20 MB first name is refused at check, its text never echoed", async () => {
    const huge = "Ada".repeat(7_000_000);
    const failures = await failuresOf(withContact({ firstName: huge }));
    expect(failures).toEqual([
      { property: "contact.firstName", reason: expect.stringMatching(/is 21000000 characters long, more than the 256/) },
    ]);
    expect(failures[0].reason.length).toBeLessThan(200);
  });

  test("NUL, BEL, tab, line feed, DEL and a C1 control are refused in every field, by code and position", async () => {
    const controls: [string, string][] = [
      ["\u0000", "U+0000"],
      ["\u0007", "U+0007"],
      ["\t", "U+0009"],
      ["\n", "U+000A"],
      ["\u001b", "U+001B"],
      ["\u007f", "U+007F"],
      ["\u0085", "U+0085"],
      ["\u009f", "U+009F"],
    ];
    for (const field of CONTACT) {
      for (const [ch, code] of controls) {
        const failures = await failuresOf(withContact({ [field]: `Ab${ch}cd` }));
        expect(failures).toEqual([
          {
            property: `contact.${field}`,
            reason: expect.stringContaining(`contact.${field} holds a control character (${code}) at position 3: remove it`),
          },
        ]);
      }
    }
  });

  test("text outside the control ranges stays accepted: accents, CJK, emoji, NBSP, quotes", async () => {
    const res = await check(
      withContact({ firstName: "Zoë 李 🎉", lastName: "O'Brien\u00a0Jr", city: "Zürich", address: '1 "Main" St; $x' }),
    );
    expect(res.failures).toBeUndefined();
  });
});

describe("secret outputs: what carries the license server id is secret in every answer", () => {
  test("check's answer wraps the activation when an id is given, not when it is absent or unknown", async () => {
    const withId = await check({ ...valid(), activation: { method: "telephone", licenseServerId: ID } });
    expect(isSecretValue((withId.inputs as Props).activation)).toBe(true);
    expect(unwrapSecrets((withId.inputs as Props).activation)).toEqual({ method: "telephone", licenseServerId: ID_NORMAL });
    const automatic = await check(valid());
    expect((automatic.inputs as Props).activation).toEqual({ method: "automatic" });
    const pending = await check({ ...valid(), activation: { method: "web", licenseServerId: UNKNOWN } });
    expect((pending.inputs as Props).activation).toEqual({ method: "web", licenseServerId: UNKNOWN });
  });
});

describe("at preview, with unknown values", () => {
  test("unknown contact fields, license server id and host pass check", async () => {
    const res = await check({
      connection: { transport: "simulator", host: UNKNOWN, stateDir },
      contact: { firstName: UNKNOWN, lastName: "Lovelace", company: UNKNOWN, countryRegion: "United Kingdom" },
      activation: { method: "web", licenseServerId: UNKNOWN },
    });
    expect(res.failures).toBeUndefined();
    expect(((res.inputs as Props).activation as Props).licenseServerId).toBe(UNKNOWN);
  });

  test("a whole unknown activation or contact passes check", async () => {
    const res = await check({ ...valid(), activation: UNKNOWN, contact: UNKNOWN });
    expect(res.failures).toBeUndefined();
  });

  test("a known bad value is still reported next to an unknown one", async () => {
    const failures = await failuresOf({ ...withContact({ firstName: UNKNOWN, lastName: "" }) });
    expect(failures).toEqual([{ property: "contact.lastName", reason: expect.stringContaining("is empty") }]);
  });
});

test("the schema itself rejects what check rejects (no second code path)", () => {
  expect(argsSchema.safeParse({ ...valid(), activation: { method: "email" } }).success).toBe(false);
  expect(argsSchema.safeParse(valid()).success).toBe(true);
});
