/**
 * RdsCalPack's refusal on a license server that is not activated (RDS_NOT_ACTIVATED) keeps its code and
 * its next step, and names the route to the license server id that the connection's transport really
 * has: the rds-sim command only on the simulator (messages.ts withActivationRoute).
 *
 * Real: messages.ts's withActivationRoute and the RdsError class.
 * Stands in: the script's refusal is an RdsError built here with the words CalPack.Common.ps1
 * (Assert-CalPackInstallable, Get-CalPackNextStep) gives it after the kit's rephrasing; no pwsh runs.
 */
import { ErrorCode, RdsError } from "../../../provider/errors";
import { withActivationRoute } from "../../../provider/resources/calPack/messages";

const PID = "00490-92005-99454-AT527";
const WEB_NEXT =
  `open https://activate.microsoft.com, activate a license server with product id ${PID}, set activation.licenseServerId ` +
  `of the RdsLicenseServer to the 35-character license server id the site gives you, and run pulumi up`;

function refusal(next = WEB_NEXT, code: ErrorCode = ErrorCode.NotActivated): RdsError {
  return new RdsError(
    code,
    `installing 2022 Per User CAL pack (enterpriseAgreement) on ls01: the license server must be activated before you can install ` +
      `RDS CALs: its activation status is not activated (product id ${PID}); nothing was installed; next step: ${next}`,
    { host: "ls01", operation: "calPack/inspect", scriptCode: "NOT_ACTIVATED" },
  );
}

describe("the not-activated refusal names the route of the transport", () => {
  test("on the simulator (web or telephone): the rds-sim command is added; code, next step and details are kept", () => {
    for (const method of ["web", "telephone"]) {
      const e = refusal();
      const out = withActivationRoute(e, "simulator", method) as RdsError;
      expect(out).toBeInstanceOf(RdsError);
      expect(out.code).toBe(ErrorCode.NotActivated);
      expect(out.message).toBe(
        `${e.message} (on the simulator, npx rds-sim clearinghouse license-server-id ${PID} plays the Clearinghouse and prints the license server id)`,
      );
      expect(out.message).toContain(`next step: ${WEB_NEXT}`);
      expect(out).toMatchObject({ host: "ls01", operation: "calPack/inspect", scriptCode: "NOT_ACTIVATED" });
    }
  });

  test("over local, ssh and winrm: the refusal is returned as it is (the web site or telephone route, never rds-sim)", () => {
    for (const transport of ["local", "ssh", "winrm", ""]) {
      const e = refusal();
      expect(withActivationRoute(e, transport, "web")).toBe(e);
      expect(e.message).not.toContain("rds-sim");
    }
  });

  test("automatic activation needs no id, and other errors are not touched", () => {
    const automatic = refusal("run pulumi up so the RdsLicenseServer activates it automatically again");
    expect(withActivationRoute(automatic, "simulator", "automatic")).toBe(automatic);
    const other = refusal(WEB_NEXT, ErrorCode.VersionNotAccepted);
    expect(withActivationRoute(other, "simulator", "web")).toBe(other);
    const plain = new Error("boom");
    expect(withActivationRoute(plain, "simulator", "web")).toBe(plain);
  });

  test("a refusal without a product id still names the command, with a placeholder", () => {
    const e = new RdsError(ErrorCode.NotActivated, "installing on ls01: the license server must be activated", { host: "ls01" });
    const out = withActivationRoute(e, "simulator", "web") as RdsError;
    expect(out.message).toContain("npx rds-sim clearinghouse license-server-id <the license server's productId>");
  });
});
