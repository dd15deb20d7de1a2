/**
 * The RdsLicensing component's findings never count a leftover pack (TotalLicenses 0, seen with
 * KeyPackType 7: docs/windows-facts.md#key-pack-type): it supplies no CALs (RDS-LIC-002) and covers
 * no session host (RDS-LIC-003).
 *
 * Real: component/findings.ts and the facts table. Stands in: nothing (plain inputs, no host).
 */
import { computeFindings, type FindingsInput } from "../../../provider/resources/component/findings";

const base: FindingsInput = {
  mode: "perUser",
  licenseServer: { serverName: "ls01", activationStatus: "activated", productId: "00490-92005-99454-AT527", nextStep: "" },
  packs: [],
  hosts: [
    {
      name: "sh1",
      serverName: "sh1",
      effectiveMode: "perUser",
      modeSource: "local",
      effectiveLicenseServers: ["ls01"],
      licenseServersSource: "local",
      gracePeriodDaysLeft: 100,
      osVersion: "2025",
      domainJoined: true,
    },
  ],
};

const status = (input: FindingsInput, id: string) => computeFindings(input).find((f) => f.id === id)?.status;

test("a 2025 leftover neither supplies CALs nor covers a 2025 host; a live 2019 pack beside it still counts", () => {
  const leftover = { name: "old", keyPackId: 30, calType: "perUser", productVersion: "2025", availableLicenses: 0, totalLicenses: 0 };
  const live = { name: "cal", keyPackId: 4, calType: "perUser", productVersion: "2019", availableLicenses: 10, totalLicenses: 10 };
  const onlyLeftover = { ...base, packs: [leftover] };
  expect(status(onlyLeftover, "RDS-LIC-002")).toBe("fail");
  expect(status(onlyLeftover, "RDS-LIC-003")).toBe("fail");
  const both = { ...base, packs: [leftover, live] };
  expect(status(both, "RDS-LIC-002")).toBe("pass");
  // The 2019 pack does not cover a 2025 host, and the leftover's 2025 does not either.
  expect(status(both, "RDS-LIC-003")).toBe("fail");
  // Without totalLicenses (an older caller), a pack is counted as before.
  const { totalLicenses: _omit, ...noTotal } = leftover;
  expect(status({ ...base, packs: [{ ...noTotal, availableLicenses: 5 }] }, "RDS-LIC-003")).toBe("pass");
});
