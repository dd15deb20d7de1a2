/**
 * The two phases of a web or telephone activation through RdsLicensing (provider/resources/component/
 * phase.ts): which declarations are phase 1, and the next step the component warns with.
 *
 * Real: phase.ts, and the activation route of licenseServer/rules.ts it words the next step with.
 * Stands in: nothing runs; the license server's outputs are literal values.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  deferredNames,
  describeDeferred,
  pendingActivationMethod,
  pendingNextStep,
  type PendingFacts,
} from "../../../provider/resources/component/phase";

const PID = "00490-92005-99454-AT527";
const ls = (activation: unknown) => ({ connection: { transport: "simulator", host: "ls01" }, contact: {}, activation });

describe("which declaration is phase 1", () => {
  test("web or telephone with no license server id (undefined, null or empty)", () => {
    expect(pendingActivationMethod(ls({ method: "web" }))).toBe("web");
    expect(pendingActivationMethod(ls({ method: "telephone", licenseServerId: undefined }))).toBe("telephone");
    expect(pendingActivationMethod(ls({ method: "web", licenseServerId: null }))).toBe("web");
    expect(pendingActivationMethod(ls({ method: "web", licenseServerId: "" }))).toBe("web");
  });

  test("an id declared, as a plain string or as an Input (a secret from config), is phase 2", () => {
    expect(pendingActivationMethod(ls({ method: "web", licenseServerId: "ABCDE" }))).toBeUndefined();
    expect(pendingActivationMethod(ls({ method: "web", licenseServerId: pulumi.secret("ABCDE") }))).toBeUndefined();
    expect(pendingActivationMethod(ls({ method: "telephone", licenseServerId: Promise.resolve("ABCDE") }))).toBeUndefined();
  });

  test("automatic, or what cannot be read at construction (an Output activation or method), is not phase 1", () => {
    expect(pendingActivationMethod(ls({ method: "automatic" }))).toBeUndefined();
    expect(pendingActivationMethod(ls(pulumi.output({ method: "web" })))).toBeUndefined();
    expect(pendingActivationMethod(ls({ method: pulumi.output("web") }))).toBeUndefined();
    expect(pendingActivationMethod(undefined)).toBeUndefined();
    expect(pendingActivationMethod(ls(undefined))).toBeUndefined();
  });
});

describe("what phase 1 defers", () => {
  test("names in registration order, and a sentence for people", () => {
    const d = { calPacks: ["farm-users-2022", "farm-users-2019"], sessionHosts: ["farm-sh1"] };
    expect(deferredNames(d)).toEqual(["farm-users-2022", "farm-users-2019", "farm-sh1"]);
    expect(describeDeferred(d)).toBe("CAL packs farm-users-2022, farm-users-2019 and session host farm-sh1");
    expect(describeDeferred({ calPacks: ["farm-cal1"], sessionHosts: ["farm-sh1", "farm-sh2"] })).toBe(
      "CAL pack farm-cal1 and session hosts farm-sh1, farm-sh2",
    );
    expect(describeDeferred({ calPacks: [], sessionHosts: [] })).toBe("nothing");
  });
});

describe("the next step of phase 1", () => {
  const facts = (over: Partial<PendingFacts> = {}): PendingFacts => ({
    method: "web",
    transport: "winrm",
    serverName: "ls01.contoso.com",
    productId: PID,
    activationStatus: "pending",
    nextStep: "",
    countryRegion: "United Kingdom",
    deferred: { calPacks: ["farm-users-2022"], sessionHosts: ["farm-sh1", "farm-sh2"] },
    ...over,
  });

  test("web over winrm: what is deferred, the web site with the product id, where the id goes, what phase 2 does", () => {
    expect(pendingNextStep(facts())).toBe(
      `phase 1 of web activation done: license server ls01.contoso.com (product id ${PID}) is created and pending; ` +
        "deferred until the license server is activated (not registered, not failed): CAL pack farm-users-2022 and session hosts farm-sh1, farm-sh2. " +
        `Next: go to https://activate.microsoft.com, choose to activate a license server, enter product id ${PID} and your contact details, ` +
        "and copy the license server id (35 characters) it gives you; put it in licenseServer.activation.licenseServerId, for example: " +
        'pulumi config set --secret licenseServerId <id>, with activation: { method: "web", licenseServerId: cfg.getSecret("licenseServerId") } ' +
        "in the program; then run pulumi up again: phase 2 activates the server, installs the CAL packs, then configures the session hosts",
    );
  });

  test.each(["local", "ssh", "winrm"])(
    "telephone over %s: the Activate Server wizard's number for the country/region, never rds-sim",
    (transport) => {
      const text = pendingNextStep(facts({ method: "telephone", transport }));
      expect(text).toContain(
        "call the Microsoft Clearinghouse at the telephone number RD Licensing Manager's Activate Server wizard shows for your country/region (United Kingdom)",
      );
      expect(text).toContain(`read product id ${PID} to the operator`);
      expect(text).toContain('activation: { method: "telephone", licenseServerId: cfg.getSecret("licenseServerId") }');
      expect(text).not.toContain("rds-sim");
      expect(text).not.toContain("activate.microsoft.com");
    },
  );

  test("on the simulator: the rds-sim command plays the Clearinghouse", () => {
    const text = pendingNextStep(facts({ transport: "simulator" }));
    expect(text).toContain(
      `Next: on the simulator, run npx rds-sim clearinghouse license-server-id ${PID}, which prints the license server id`,
    );
    expect(text).toContain("licenseServer.activation.licenseServerId");
  });

  test("a server activated elsewhere: declare its id; deploying without it deletes what an earlier run made", () => {
    const text = pendingNextStep(facts({ activationStatus: "activated" }));
    expect(text).toContain("license server ls01.contoso.com is activated, but licenseServer.activation.licenseServerId is not declared");
    expect(text).toContain("the license server's licenseServerId output");
    expect(text).toContain("keep the id declared once you have it");
  });

  test("a status that cannot be determined: the license server's own next step", () => {
    const text = pendingNextStep(
      facts({ activationStatus: "unknown", nextStep: "check the TermServLicensing service, then run pulumi up" }),
    );
    expect(text).toContain("is unknown: check the TermServLicensing service, then run pulumi up");
    expect(text).toContain("farm-sh2");
  });
});
