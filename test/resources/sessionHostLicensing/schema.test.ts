/**
 * RdsSessionHostLicensing check(): the license server names (the licenseServers list, and each CAL
 * pack's licenseServerName) are refused when too long or holding a control character, naming the
 * entry and the fix; the declared packs' calType reaches the mode rule even when the rest of the pack
 * is unknown (preview).
 *
 * Real: the provider's `check` (provider/resources/sessionHostLicensing/provider.ts), its zod schema,
 * checkWithSchema, the mode rule. Stands in: nothing; no pwsh and no host is involved (the emulator
 * state directory given in the connection stays empty).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UNKNOWN } from "../../../provider/check";
import { provider } from "../../../provider/resources/sessionHostLicensing/provider";
import { SERVER_NAME_MAX_LENGTH } from "../../../provider/resources/sessionHostLicensing/schema";

type Props = Record<string, unknown>;

const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "shl-schema-"));

afterAll(() => {
  expect(fs.readdirSync(stateDir)).toEqual([]);
  fs.rmSync(stateDir, { recursive: true, force: true });
});

function valid(extra: Props = {}): Props {
  return {
    connection: { transport: "simulator", host: "sh01", stateDir },
    mode: "perUser",
    licenseServers: ["ls01.contoso.com"],
    ...extra,
  };
}

async function check(news: Props) {
  return provider.check!({}, { ...news, __provider: "exports.handler = () => ({})" });
}

const pack = (extra: Props = {}): Props => ({
  keyPackId: 3,
  calType: "perUser",
  productVersion: "2022",
  licenseServerConnection: { transport: "simulator", host: "ls01", stateDir },
  licenseServerName: "LS01",
  ...extra,
});

describe("license server names", () => {
  test(`a name of ${SERVER_NAME_MAX_LENGTH} characters passes; one more is refused naming the entry, the limit and the fix`, async () => {
    expect((await check(valid({ licenseServers: ["a".repeat(SERVER_NAME_MAX_LENGTH)] }))).failures).toBeUndefined();
    const res = await check(valid({ licenseServers: ["ls01", "a".repeat(SERVER_NAME_MAX_LENGTH + 1)] }));
    expect(res.failures).toEqual([
      {
        property: "licenseServers[1]",
        reason: `a license server name is ${SERVER_NAME_MAX_LENGTH + 1} characters long, more than the ${SERVER_NAME_MAX_LENGTH} accepted: shorten it`,
      },
    ]);
  });

  test("NUL, BEL, escape, DEL and C1 controls are refused in any entry, by code and position, the name never echoed", async () => {
    for (const [ch, code] of [
      ["\u0000", "U+0000"],
      ["\u0007", "U+0007"],
      ["\u001b", "U+001B"],
      ["\u007f", "U+007F"],
      ["\u0085", "U+0085"],
    ]) {
      const res = await check(valid({ licenseServers: ["ls01", `ls${ch}02`] }));
      expect(res.failures).toEqual([
        {
          property: "licenseServers[1]",
          reason: expect.stringContaining(`a license server name holds a control character (${code}) at position 3: remove it`),
        },
      ]);
      expect(res.failures![0].reason).not.toContain(`ls${ch}02`);
    }
  });

  test("a line break inside a name is a control character, not a second name", async () => {
    const res = await check(valid({ licenseServers: ["ls01\nls02"] }));
    expect(res.failures).toEqual([{ property: "licenseServers[0]", reason: expect.stringContaining("(U+000A) at position 5") }]);
  });

  test("blanks around a name are still trimmed, and names with accents or digits pass", async () => {
    const res = await check(valid({ licenseServers: ["  ls01.contoso.com ", "10.0.0.5", "lïcense-02"] }));
    expect(res.failures).toBeUndefined();
  });

  test("a pack's licenseServerName has the same rule", async () => {
    const res = await check(valid({ calPacks: [pack({ licenseServerName: "LS\u000701" })] }));
    expect(res.failures).toEqual([
      {
        property: "calPacks[0].licenseServerName",
        reason: expect.stringContaining("calPacks[].licenseServerName holds a control character (U+0007)"),
      },
    ]);
  });
});

describe("the mode rule at check, with what the declared packs say", () => {
  test("a Per Device host with a Per User pack whose id is still unknown (preview) fails with RDS_MODE_MISMATCH", async () => {
    const res = await check(
      valid({ mode: "perDevice", calPacks: [pack({ keyPackId: UNKNOWN, licenseServerName: UNKNOWN, licenseServerConnection: UNKNOWN })] }),
    );
    expect(res.failures).toEqual([
      { property: "mode", reason: expect.stringMatching(/^RDS_MODE_MISMATCH: .*perDevice needs Per Device CALs/) },
    ]);
  });

  test("the same host with a Per Device pack whose id is unknown passes", async () => {
    const res = await check(valid({ mode: "perDevice", calPacks: [pack({ calType: "perDevice", keyPackId: UNKNOWN })] }));
    expect(res.failures).toBeUndefined();
  });
});
