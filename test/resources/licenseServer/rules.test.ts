/**
 * RdsLicenseServer's pure decisions (provider/resources/licenseServer/rules.ts): the activation call,
 * the activation origin, the desired status and the comparator views, what set.ps1 must write, the
 * next step text and the outputs; and the derived field lists (schema.ts FIELDS), the messages catalogue.
 *
 * Real: the rule functions, the field table and what is derived from it, the message functions.
 * Stands in: nothing runs pwsh here; live states are literal get.ps1 results.
 */
import { compare } from "../../../provider/diff";
import { ErrorCode, isRdsError } from "../../../provider/errors";
import { ERROR_CODES, rebuiltServer, roleNotInstalled } from "../../../provider/resources/licenseServer/messages";
import {
  activationCallFor,
  actualView,
  buildOutputs,
  desiredStatus,
  desiredView,
  groupAddNeeded,
  nextStepFor,
  originOf,
  settingsToWrite,
  statusOf,
  type LiveServer,
} from "../../../provider/resources/licenseServer/rules";
import { FIELDS, argsSchema, type LicenseServerInputs } from "../../../provider/resources/licenseServer/schema";

const CONTACT = { firstName: "Ada", lastName: "Lovelace", company: "Contoso Ltd", countryRegion: "United Kingdom" };
const ID = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678";
const PID = "00001-00002-00003-AA004";

function inputs(over: Record<string, unknown> = {}): LicenseServerInputs {
  return argsSchema.parse({
    connection: { transport: "simulator", host: "ls01" },
    contact: CONTACT,
    activation: { method: "automatic" },
    ...over,
  });
}

function live(over: Partial<LiveServer> = {}): LiveServer {
  const contact = { ...CONTACT, email: "", orgUnit: "", address: "", city: "", state: "", postalCode: "" };
  return {
    serverName: "ls01",
    productId: PID,
    version: "10.0.20348",
    activationStatus: 1,
    licenseServerId: "",
    serverRole: 0,
    contact,
    ...over,
  };
}

describe("the field table", () => {
  test("derives the secret field, the state-only fields, the replace fields and the output keys", () => {
    expect(FIELDS.secretFields).toEqual(["connection"]);
    expect([...FIELDS.stateOnlyFields].sort()).toEqual(["connection", "deactivateOnDelete", "installRole"]);
    const replace = Object.entries(FIELDS.diffSpec)
      .filter(([, r]) => r.replace)
      .map(([k]) => k);
    expect(replace).toEqual(["host", "transport"]);
    expect(Object.keys(FIELDS.inputShape)).toEqual([
      "connection",
      "contact",
      "activation",
      "installRole",
      "discoveryScope",
      "addToLicenseServersGroup",
      "deactivateOnDelete",
    ]);
    for (const key of [
      "serverName",
      "productId",
      "licenseServerId",
      "activationStatus",
      "activationMethod",
      "activatedProductId",
      "nextStep",
      "version",
      "installRole",
      "discoveryScope",
      "deactivateOnDelete",
      "addToLicenseServersGroup",
      "licenseServersGroup",
      "calUsage",
    ]) {
      expect(FIELDS.outputKeys).toContain(key);
    }
  });

  test("defaults come from the table: installRole true, deactivateOnDelete false, discoveryScope unmanaged", () => {
    const i = inputs();
    expect(i.installRole).toBe(true);
    expect(i.deactivateOnDelete).toBe(false);
    expect(i.discoveryScope).toBeUndefined();
  });
});

describe("the activation call", () => {
  test("an activated server gets none", () => {
    expect(activationCallFor(inputs(), live({ activationStatus: 0 }), undefined)).toEqual({ kind: "none" });
  });

  test("automatic: ActivateServerAutomatic the first time and after a deactivation (never Reactivate*: the server is not activated)", () => {
    expect(activationCallFor(inputs(), live(), undefined)).toEqual({ kind: "call", call: "ActivateServerAutomatic" });
    expect(activationCallFor(inputs(), live(), { activatedProductId: PID })).toEqual({ kind: "call", call: "ActivateServerAutomatic" });
    // a rebuilt server (another product id) is activated afresh
    expect(activationCallFor(inputs(), live({ productId: "9" }), { activatedProductId: PID })).toEqual({
      kind: "call",
      call: "ActivateServerAutomatic",
    });
  });

  test("web without a license server id: none (pending); with one: ActivateServer, also after a deactivation", () => {
    expect(activationCallFor(inputs({ activation: { method: "web" } }), live(), undefined)).toEqual({ kind: "none" });
    const withId = inputs({ activation: { method: "telephone", licenseServerId: ID } });
    expect(activationCallFor(withId, live(), undefined)).toEqual({ kind: "call", call: "ActivateServer", licenseServerId: ID });
    expect(activationCallFor(withId, live(), { activatedProductId: PID })).toEqual({
      kind: "call",
      call: "ActivateServer",
      licenseServerId: ID,
    });
  });

  test("a rebuilt server with the license server id of its old product id is refused", () => {
    const withId = inputs({ activation: { method: "web", licenseServerId: ID } });
    const prior = { activatedProductId: PID, activation: { method: "web" as const, licenseServerId: ID } };
    const decision = activationCallFor(withId, live({ productId: "11111-22222-33333-BB444" }), prior);
    expect(decision).toEqual({
      kind: "rebuilt",
      method: "web",
      oldProductId: PID,
      newProductId: "11111-22222-33333-BB444",
      transport: "simulator",
    });
    // The refusal names the route of the connection's transport.
    const overWinrm = inputs({
      connection: { transport: "winrm", host: "ls01", user: "CONTOSO\\admin", password: "pw" },
      activation: { method: "web", licenseServerId: ID },
    });
    expect(activationCallFor(overWinrm, live({ productId: "11111-22222-33333-BB444" }), prior)).toMatchObject({
      kind: "rebuilt",
      transport: "winrm",
    });
    // a new id for the new product id is used
    const fresh = inputs({ activation: { method: "web", licenseServerId: "Z".repeat(35) } });
    expect(activationCallFor(fresh, live({ productId: "11111-22222-33333-BB444" }), prior)).toMatchObject({
      kind: "call",
      call: "ActivateServer",
    });
  });
});

describe("origin and status", () => {
  test("activated: the recorded method on the same server, external otherwise", () => {
    expect(originOf(live({ activationStatus: 0 }), { activatedProductId: PID, activationMethod: "web" })).toEqual({
      activationMethod: "web",
      activatedProductId: PID,
    });
    expect(originOf(live({ activationStatus: 0 }), undefined)).toEqual({ activationMethod: "external", activatedProductId: PID });
    expect(originOf(live({ activationStatus: 0 }), { activatedProductId: "other", activationMethod: "web" })).toEqual({
      activationMethod: "external",
      activatedProductId: PID,
    });
  });

  test("not activated: the record of the last activation is kept", () => {
    expect(originOf(live(), { activatedProductId: PID, activationMethod: "automatic" })).toEqual({
      activationMethod: "automatic",
      activatedProductId: PID,
    });
    expect(originOf(live(), undefined)).toEqual({ activationMethod: "", activatedProductId: "" });
  });

  test("status: activated, notActivated when the inputs can activate, pending otherwise, unknown", () => {
    expect(statusOf(0, { method: "web" })).toBe("activated");
    expect(statusOf(1, { method: "automatic" })).toBe("notActivated");
    expect(statusOf(1, { method: "web", licenseServerId: ID })).toBe("notActivated");
    expect(statusOf(1, { method: "web" })).toBe("pending");
    expect(statusOf(2, { method: "automatic" })).toBe("unknown");
    expect(statusOf(undefined, { method: "automatic" })).toBe("unknown");
  });

  test("desired status: activated when the inputs can activate; a pending declaration keeps what is there, except unknown", () => {
    expect(desiredStatus({ method: "automatic" }, "notActivated")).toBe("activated");
    expect(desiredStatus({ method: "web", licenseServerId: ID }, "pending")).toBe("activated");
    expect(desiredStatus({ method: "web" }, "activated")).toBe("activated");
    expect(desiredStatus({ method: "web" }, "pending")).toBe("pending");
    expect(desiredStatus({ method: "web" }, "unknown")).toBe("pending");
  });
});

describe("comparator views", () => {
  const conn = { transport: "simulator", host: "LS01" };
  const olds = { ...inputs(), connection: conn, activationStatus: "activated" } as unknown as Record<string, unknown>;

  test("host and transport come from the connection; the host is compared case-insensitively", () => {
    const news = { ...olds, connection: { ...conn, host: "ls01" } };
    expect(desiredView(news, olds)).toMatchObject({ host: "ls01", transport: "simulator" });
    expect(compare(FIELDS.diffSpec, desiredView(news, olds), actualView(olds)).diffs).toEqual([]);
    const moved = { ...olds, connection: { ...conn, host: "ls02" } };
    expect(compare(FIELDS.diffSpec, desiredView(moved, olds), actualView(olds)).replaces).toEqual(["host"]);
  });

  test("another stateDir is a state-only change", () => {
    const news = { ...olds, connection: { ...conn, stateDir: "/tmp/x" } };
    const { diffs } = compare(FIELDS.diffSpec, desiredView(news, olds), actualView(olds));
    expect(diffs).toEqual(["connection"]);
    expect(diffs.every((d) => FIELDS.stateOnlyFields.has(d))).toBe(true);
  });

  test("a deactivated server differs from an automatic declaration", () => {
    const deactivated = { ...olds, activationStatus: "notActivated" };
    expect(compare(FIELDS.diffSpec, desiredView(olds, deactivated), actualView(deactivated)).diffs).toEqual(["activationStatus"]);
  });
});

describe("addToLicenseServersGroup: the comparator and the group step", () => {
  const base = { ...inputs(), connection: { transport: "simulator", host: "ls01" }, activationStatus: "activated" } as unknown as Record<
    string,
    unknown
  >;
  const group = (member: boolean | null) => ({ domainJoined: true, domain: "contoso.com", member, scpRegistered: false, readError: null });
  const diffs = (news: Record<string, unknown>, olds: Record<string, unknown>) =>
    compare(FIELDS.diffSpec, desiredView(news, olds), actualView(olds)).diffs;

  test("asked and recorded, still a member: no diff; removed by hand (read member false): the field differs (an update)", () => {
    const news = { ...base, addToLicenseServersGroup: true };
    expect(diffs(news, { ...news, licenseServersGroup: group(true) })).toEqual([]);
    expect(diffs(news, { ...news, licenseServersGroup: group(false) })).toEqual(["addToLicenseServersGroup"]);
  });

  test("a membership that could not be read (null) is no drift; a state from before the field: asking for it is an update", () => {
    const news = { ...base, addToLicenseServersGroup: true };
    expect(diffs(news, { ...news, licenseServersGroup: group(null) })).toEqual([]);
    expect(diffs(news, { ...base })).toEqual(["addToLicenseServersGroup"]);
  });

  test("not asked: never drift, whatever the membership; unsetting it is an update (that changes nothing on the host)", () => {
    expect(
      diffs({ ...base, addToLicenseServersGroup: false }, { ...base, addToLicenseServersGroup: false, licenseServersGroup: group(false) }),
    ).toEqual([]);
    expect(diffs({ ...base }, { ...base, addToLicenseServersGroup: true, licenseServersGroup: group(true) })).toEqual([
      "addToLicenseServersGroup",
    ]);
  });

  test("group.ps1 runs only when asked and the read does not say member", () => {
    expect(groupAddNeeded(inputs({ addToLicenseServersGroup: true }), live({ licenseServersGroup: group(false) }))).toBe(true);
    expect(groupAddNeeded(inputs({ addToLicenseServersGroup: true }), live({ licenseServersGroup: group(null) }))).toBe(true);
    expect(groupAddNeeded(inputs({ addToLicenseServersGroup: true }), live({ licenseServersGroup: group(true) }))).toBe(false);
    expect(groupAddNeeded(inputs(), live({ licenseServersGroup: group(false) }))).toBe(false);
  });

  test("the outputs carry the input as applied and the live facts (null before the first read of them)", () => {
    const out = buildOutputs(
      inputs({ addToLicenseServersGroup: true }),
      live({ licenseServersGroup: group(true), calUsage: null }),
      {
        activationMethod: "",
        activatedProductId: "",
      },
      undefined,
    );
    expect(out).toMatchObject({ addToLicenseServersGroup: true, licenseServersGroup: group(true), calUsage: null });
  });
});

describe("what set.ps1 writes", () => {
  test("only what differs: the whole contact, and the role when the scope is managed", () => {
    expect(settingsToWrite(inputs(), live())).toEqual({ contact: null, serverRole: null });
    expect(settingsToWrite(inputs({ contact: { ...CONTACT, city: "Leeds" } }), live())).toEqual({
      contact: expect.objectContaining({ city: "Leeds" }),
      serverRole: null,
    });
    expect(settingsToWrite(inputs({ discoveryScope: "forest" }), live())).toEqual({ contact: null, serverRole: 2 });
    expect(settingsToWrite(inputs({ discoveryScope: "workgroup" }), live())).toEqual({ contact: null, serverRole: null });
  });
});

describe("next step", () => {
  test("nothing when activated; the way to the license server id when pending", () => {
    expect(nextStepFor("activated", inputs(), PID)).toBe("");
    const web = nextStepFor("pending", inputs({ activation: { method: "web" } }), PID);
    expect(web).toContain("https://activate.microsoft.com");
    expect(web).toContain(`npx rds-sim clearinghouse license-server-id ${PID}`);
    const phone = nextStepFor("pending", inputs({ activation: { method: "telephone" } }), PID);
    expect(phone).toContain("country/region (United Kingdom)");
  });

  // Every transport the connection schema knows, with what its pending nextStep must and must not say.
  const REAL = [
    { transport: "local", host: "ls01" },
    { transport: "ssh", host: "ls01", user: "admin", password: "pw" },
    { transport: "winrm", host: "ls01", user: "CONTOSO\\admin", password: "pw" },
  ];

  test("on the simulator: the rds-sim command first, then the real route it stands in for", () => {
    const web = nextStepFor("pending", inputs({ activation: { method: "web" } }), PID);
    expect(web).toBe(
      `to activate by web: on the simulator, run npx rds-sim clearinghouse license-server-id ${PID}, which prints the license server id ` +
        `(on a real license server you would go to https://activate.microsoft.com, choose to activate a license server, enter product id ${PID} ` +
        `and your contact details, and copy the license server id (35 characters) it gives you); then set activation.licenseServerId to it and run pulumi up again`,
    );
    const phone = nextStepFor("pending", inputs({ activation: { method: "telephone" } }), PID);
    expect(phone).toContain(`on the simulator, run npx rds-sim clearinghouse license-server-id ${PID}`);
    expect(phone).toMatch(
      /telephone number .* country\/region \(United Kingdom\), read product id 00001-00002-00003-AA004 to the operator/,
    );
  });

  test.each(REAL)("over $transport: the web address or the telephone route, never rds-sim", (connection) => {
    const web = nextStepFor("pending", inputs({ connection, activation: { method: "web" } }), PID);
    expect(web).toBe(
      `to activate by web: go to https://activate.microsoft.com, choose to activate a license server, enter product id ${PID} ` +
        `and your contact details, and copy the license server id (35 characters) it gives you; then set activation.licenseServerId to it and run pulumi up again`,
    );
    const phone = nextStepFor("pending", inputs({ connection, activation: { method: "telephone" } }), PID);
    expect(phone).toBe(
      `to activate by telephone: call the Microsoft Clearinghouse at the telephone number RD Licensing Manager's Activate Server wizard shows ` +
        `for your country/region (United Kingdom), read product id ${PID} to the operator, and write down the license server id (35 characters) ` +
        `you are given; then set activation.licenseServerId to it and run pulumi up again`,
    );
    const rebuilt = nextStepFor("notActivated", inputs({ connection, activation: { method: "web", licenseServerId: ID } }), "new", {
      activatedProductId: PID,
    });
    expect(rebuilt).toContain("https://activate.microsoft.com");
    for (const text of [web, phone, rebuilt]) expect(text).not.toContain("rds-sim");
  });

  test("a state without a connection (nothing says simulator) never names rds-sim", () => {
    const text = nextStepFor("pending", { activation: { method: "web" } }, PID);
    expect(text).toContain("https://activate.microsoft.com");
    expect(text).not.toContain("rds-sim");
  });

  test("automatic not activated: run pulumi up; unknown: check the service; rebuilt: a new id is needed", () => {
    expect(nextStepFor("notActivated", inputs(), PID)).toContain("run pulumi up to activate it automatically");
    expect(nextStepFor("unknown", inputs({ activation: { method: "web" } }), PID)).toContain("check the TermServLicensing service");
    const rebuilt = nextStepFor("notActivated", inputs({ activation: { method: "web", licenseServerId: ID } }), "new", {
      activatedProductId: PID,
    });
    expect(rebuilt).toContain(`changed from ${PID} to new`);
    expect(rebuilt).toContain("npx rds-sim clearinghouse license-server-id new");
  });
});

describe("outputs", () => {
  test("the contact and scope as live, the status derived, the license server id only while activated", () => {
    const out = buildOutputs(
      inputs({ discoveryScope: "domain" }),
      live({ serverRole: 1, licenseServerId: ID }),
      { activationMethod: "", activatedProductId: "" },
      undefined,
    );
    expect(out).toMatchObject({
      activationStatus: "notActivated",
      licenseServerId: "",
      discoveryScope: "domain",
      productId: PID,
      serverName: "ls01",
    });
    expect(
      buildOutputs(
        inputs(),
        live({ activationStatus: 0, licenseServerId: ID }),
        { activationMethod: "automatic", activatedProductId: PID },
        undefined,
      ),
    ).toMatchObject({ licenseServerId: ID, nextStep: "" });
    expect("discoveryScope" in buildOutputs(inputs(), live(), { activationMethod: "", activatedProductId: "" }, undefined)).toBe(false);
  });
});

describe("messages", () => {
  test("each message is an RdsError with a code of the catalogue, in the form <doing> on <host>: <cause>: <fix>", () => {
    const errors = [
      roleNotInstalled("reading license server", "ls01"),
      rebuiltServer("ls01", { method: "web", oldProductId: PID, newProductId: "new" }),
      rebuiltServer("ls01", { method: "web", oldProductId: PID, newProductId: "new", transport: "simulator" }),
    ];
    for (const e of errors) {
      expect(isRdsError(e)).toBe(true);
      expect(ERROR_CODES).toContain(e.code);
      expect(e.message).toMatch(/^[a-z][^:]* on ls01: [^:]+: /);
      expect(e.message).not.toMatch(/failed to/i);
    }
  });
});

describe("the rebuilt-server refusal names the route of the transport", () => {
  test("on the simulator: the rds-sim command and the real route; elsewhere: the real route only", () => {
    const sim = rebuiltServer("ls01", { method: "web", oldProductId: PID, newProductId: "new", transport: "simulator" });
    expect(sim.message).toContain(
      "(on the simulator: npx rds-sim clearinghouse license-server-id new; on a real server: at https://activate.microsoft.com)",
    );
    for (const transport of ["local", "ssh", "winrm", undefined]) {
      const web = rebuiltServer("ls01", { method: "web", oldProductId: PID, newProductId: "new", transport });
      expect(web.message).toContain(
        "get a new license server id for product id new (at https://activate.microsoft.com) and set activation.licenseServerId to it",
      );
      const phone = rebuiltServer("ls01", { method: "telephone", oldProductId: PID, newProductId: "new", transport });
      expect(phone.message).toContain("(by telephone, at the number the Activate Server wizard shows)");
      for (const e of [web, phone]) {
        expect(e.code).toBe(ErrorCode.Rejected);
        expect(e.message).not.toContain("rds-sim");
      }
    }
  });
});
