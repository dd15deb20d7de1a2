/**
 * Adoption never takes a leftover pack (TotalLicenses 0, seen with KeyPackType 7:
 * docs/windows-facts.md#key-pack-type) when the read by KeyPackId hands one back, as get.ps1 does (a
 * read by id returns the row as it is).
 *
 * Real: adopt.ts, messages.ts, rules.ts, schema.ts.
 * Stands in: steps.ts (the read of the pack returns a leftover row; no host, no pwsh); the journal is
 * never reached (a refusal comes before it), which the mocked journal proves.
 */
import { ErrorCode, isRdsError } from "../../../provider/errors";
import { adopt } from "../../../provider/resources/calPack/adopt";
import { argsSchema, type Pack } from "../../../provider/resources/calPack/schema";

const leftover: Pack = {
  keyPackId: 30,
  keyPackType: 7,
  productType: 1,
  productVersion: "Windows Server 2022",
  productVersionId: 7,
  totalLicenses: 0,
  issuedLicenses: 0,
  availableLicenses: 0,
  typeAndModel: "RDS Per User CAL",
  description: "",
  expirationDate: "",
  issuedPerDevice: 0,
};

jest.mock("../../../provider/resources/calPack/steps", () => ({
  getPack: jest.fn(async () => leftover),
  hostOf: (p: { connection?: { host?: string } }) => p.connection?.host ?? "(unknown host)",
  kit: { encode: (x: unknown) => x },
}));

const journalCalls: string[] = [];
jest.mock("../../../provider/resources/calPack/journal", () => ({
  resolveEntries: jest.fn(async () => {
    journalCalls.push("resolveEntries");
    return [];
  }),
  comparableEntries: jest.fn(() => []),
  writeEntry: jest.fn(() => journalCalls.push("writeEntry")),
  newEntry: jest.fn((e: unknown) => e),
  journalDir: () => "/tmp/journal",
  fingerprint: jest.fn(async () => "f"),
}));

test("adopting a leftover is RDS_VALIDATION naming it, and nothing is journalled", async () => {
  const d = argsSchema.parse({
    connection: { transport: "simulator", host: "ls01" },
    program: "spla",
    agreementNumber: "7654321",
    quantity: 5,
    productVersion: "2022",
    calType: "perUser",
    journalKey: "p/s/pack",
    adoptKeyPackId: 30,
  });
  let caught: unknown;
  try {
    await adopt(d, {}, [], { journalKey: "p/s/pack", fingerprint: "f" }, {});
  } catch (err) {
    caught = err;
  }
  expect(isRdsError(caught)).toBe(true);
  if (!isRdsError(caught)) return;
  expect(caught.code).toBe(ErrorCode.Validation);
  expect(caught.message).toMatch(/adopting CAL pack #30 on ls01: pack #30 \(2022 Per User, 0 CALs, KeyPackType 7\) holds no licenses/);
  expect(journalCalls).toEqual([]);
});
