/**
 * The runner's pure pieces: quoting, envelope encoding, result-document parsing, error mapping,
 * the connection schema and target keys (finding pwsh: executable.test.ts).
 *
 * Real: the functions under test. Stand-ins: none needed (no process is started).
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ErrorCode, isRdsError, RdsError } from "../../provider/errors";
import { encodeEnvelope, operationCommand, quotePowerShellLiteral } from "../../provider/powershell/envelope";
import { codeForWbem, errorFromDocument, parseResultDocument, stripAnsi, validateResult } from "../../provider/powershell/result";
import { connectionSchema, resolveStateDir, targetKey } from "../../provider/powershell/transport";
import { removeTempDirs, tempDir } from "./support";

const ctx = { host: "ls01", operation: "licenseServer.read" };

afterAll(() => removeTempDirs());

function thrown(fn: () => unknown): RdsError {
  try {
    fn();
  } catch (err) {
    if (isRdsError(err)) return err;
    throw err;
  }
  throw new Error("expected a throw");
}

describe("quotePowerShellLiteral", () => {
  it("doubles every character PowerShell reads as a single quote", () => {
    expect(quotePowerShellLiteral("/a/it's")).toBe("'/a/it''s'");
    expect(quotePowerShellLiteral("‘x’ ‚y‛")).toBe("'‘‘x’’ ‚‚y‛‛'");
    expect(quotePowerShellLiteral('$(x) `y` "z"')).toBe("'$(x) `y` \"z\"'");
  });

  it.each(["a\nb", "a\rb", "a\u0000b", "a\tb", "a\u2028b", "a\u0085b"])("refuses control characters (%j)", (value) => {
    expect(() => quotePowerShellLiteral(value)).toThrow("control characters");
  });

  it("builds the one operation command from two paths", () => {
    expect(operationCommand("/p/Get.ps1", "/tmp/e/x.env")).toBe(
      "Invoke-RdsOperation -ScriptPath '/p/Get.ps1' -EnvelopePath '/tmp/e/x.env'",
    );
  });
});

describe("encodeEnvelope", () => {
  it("is base64 of the UTF-8 JSON", () => {
    const envelope = { operation: "op", host: "h", args: { s: "é😀\u0000" } };
    const decoded = JSON.parse(Buffer.from(encodeEnvelope(envelope), "base64").toString("utf8"));
    expect(decoded).toEqual(envelope);
  });

  it("fails without quoting any value when the arguments are not JSON", () => {
    const circular: Record<string, unknown> = { secret: "S3cret" };
    circular.self = circular;
    expect(() => encodeEnvelope({ operation: "op", host: "h", args: circular })).toThrow(/cannot be serialized/);
    try {
      encodeEnvelope({ operation: "op", host: "h", args: circular });
    } catch (err) {
      expect((err as Error).message).not.toContain("S3cret");
    }
  });
});

describe("parseResultDocument", () => {
  it("reads the last non-blank line and ignores noise and terminal escapes before it", () => {
    const stdout = '\u001b[?1h\u001b[?1lnoise {"ok":true}\npartial noise\n\n{"ok":true,"result":{"a":1}}\n\u001b[?1h';
    expect(parseResultDocument(stdout, ctx)).toEqual({ ok: true, result: { a: 1 } });
  });

  it("returns error documents", () => {
    const doc = parseResultDocument('{"ok":false,"error":{"code":"SCRIPT_EXCEPTION","message":"m"}}', ctx);
    expect(doc).toEqual({ ok: false, error: { code: "SCRIPT_EXCEPTION", message: "m" } });
  });

  it.each([
    ["", "printed no result document"],
    ["\n  \n", "printed no result document"],
    ["not json", "is not JSON"],
    ['{"ok":true,"result":1}\ntrailing noise', "is not JSON"],
    ['{"ok":"yes"}', "malformed"],
    ['{"ok":false,"error":{"message":"no code"}}', "malformed"],
    ['{"ok":true}', "has no `result`"],
  ])("rejects %j as RDS_INVALID_RESULT", (stdout, cause) => {
    const err = thrown(() => parseResultDocument(stdout, ctx));
    expect(err.code).toBe(ErrorCode.InvalidResult);
    expect(err.message).toContain("running licenseServer.read on ls01: ");
    expect(err.message).toContain(cause);
  });

  it("strips CSI and OSC-less escape sequences", () => {
    expect(stripAnsi("\u001b[31mred\u001b[0m \u001b[?1h")).toBe("red ");
  });
});

describe("validateResult", () => {
  it("names each failing field with its path", () => {
    const schema = z.object({ a: z.number(), list: z.array(z.object({ id: z.string() })) });
    const err = thrown(() => validateResult(schema, { a: "x", list: [{ id: "ok" }, { id: 7 }] }, ctx));
    expect(err.code).toBe(ErrorCode.InvalidResult);
    expect(err.message).toContain("result.a: ");
    expect(err.message).toContain("result.list[1].id: ");
  });
});

describe("errorFromDocument", () => {
  it.each([
    [0x80041003, ErrorCode.AccessDenied],
    [0x80041010, ErrorCode.ClassNotReady],
    [0x80041008, ErrorCode.Wmi],
    [0x80040154, ErrorCode.Wmi],
  ])("codeForWbem(%i) is %s", (code, expected) => {
    expect(codeForWbem(code)).toBe(expected);
    expect(codeForWbem(code | 0)).toBe(expected);
  });

  it("maps WMI_ERROR with its unsigned code, name, method, class and position", () => {
    const err = errorFromDocument(
      {
        code: "WMI_ERROR",
        message: "m",
        method: "ActivateServer",
        className: "Win32_TSLicenseServer",
        returnValue: 0x80041008,
        position: "Set.ps1:9",
      },
      { ...ctx, durationMs: 12 },
    );
    expect(err.code).toBe(ErrorCode.Wmi);
    expect(err.message).toBe(
      "running licenseServer.read on ls01: Win32_TSLicenseServer.ActivateServer returned WBEM_E_INVALID_PARAMETER (0x80041008) (at Set.ps1:9)",
    );
    expect(err).toMatchObject({ returnValue: 0x80041008, wmiName: "WBEM_E_INVALID_PARAMETER", method: "ActivateServer", durationMs: 12 });
  });

  it("maps an exception carrying a WBEM HRESULT like a return value", () => {
    const err = errorFromDocument({ code: "SCRIPT_EXCEPTION", message: "Invalid class", hresult: 0x80041010 }, ctx);
    expect(err.code).toBe(ErrorCode.ClassNotReady);
    expect(err.message).toBe("running licenseServer.read on ls01: a WMI call failed with WBEM_E_INVALID_CLASS (0x80041010): Invalid class");
  });

  it("names unknown WBEM codes in hex", () => {
    const err = errorFromDocument({ code: "WMI_ERROR", message: "m", returnValue: 0x80041099 }, ctx);
    expect(err.wmiName).toBe("0x80041099");
    expect(err.message).toContain("returned 0x80041099");
  });

  it("maps the one-result rule to RDS_INVALID_RESULT", () => {
    expect(errorFromDocument({ code: "RESULT_COUNT", message: "x" }, ctx).code).toBe(ErrorCode.InvalidResult);
    expect(errorFromDocument({ code: "STRAY_OUTPUT", message: "x" }, ctx).code).toBe(ErrorCode.InvalidResult);
  });

  it("maps provider codes with or without the RDS_ prefix, and keeps others as script errors", () => {
    expect(errorFromDocument({ code: "NOT_ACTIVATED", message: "x" }, ctx).code).toBe(ErrorCode.NotActivated);
    expect(errorFromDocument({ code: "RDS_MODE_MISMATCH", message: "x" }, ctx).code).toBe(ErrorCode.ModeMismatch);
    const other = errorFromDocument({ code: "WHATEVER", message: "x" }, ctx);
    expect(other.code).toBe(ErrorCode.ScriptError);
    expect(other.scriptCode).toBe("WHATEVER");
    expect(other.message).toBe("running licenseServer.read on ls01: WHATEVER: x");
  });
});

describe("connections", () => {
  const saved = process.env.RDS_SIM_STATE_DIR;
  const cwd = process.cwd();
  afterEach(() => {
    if (saved === undefined) delete process.env.RDS_SIM_STATE_DIR;
    else process.env.RDS_SIM_STATE_DIR = saved;
    process.chdir(cwd);
  });

  it("accepts a simulator connection and rejects unknown transports and fields", () => {
    expect(connectionSchema.safeParse({ transport: "simulator", host: "ls01" }).success).toBe(true);
    expect(connectionSchema.safeParse({ transport: "simulator", host: "ls01", stateDir: "/s" }).success).toBe(true);
    expect(connectionSchema.safeParse({ transport: "telnet", host: "ls01" }).success).toBe(false);
    // The remote transports are members too (their fields: test/transports/schema.test.ts).
    expect(connectionSchema.safeParse({ transport: "winrm", host: "ls01" }).success).toBe(true);
    expect(connectionSchema.safeParse({ transport: "winrm", host: "ls01", stateDir: "/s" }).success).toBe(false);
    expect(connectionSchema.safeParse({ transport: "simulator", host: "ls01", extra: 1 }).success).toBe(false);
    expect(connectionSchema.safeParse({ transport: "simulator", host: "a\u0007b" }).success).toBe(false);
    expect(connectionSchema.safeParse({ transport: "simulator", host: "h".repeat(253) }).success).toBe(true);
  });

  it("resolves the state directory when asked: explicit, else $RDS_SIM_STATE_DIR, else <cwd>/.rds-sim", () => {
    const dir = fs.realpathSync(tempDir("rds-units-cwd"));
    process.chdir(dir);
    delete process.env.RDS_SIM_STATE_DIR;
    expect(resolveStateDir({ transport: "simulator", host: "h" })).toBe(path.join(dir, ".rds-sim"));
    process.env.RDS_SIM_STATE_DIR = "relative/state";
    expect(resolveStateDir({ transport: "simulator", host: "h" })).toBe(path.join(dir, "relative/state"));
    expect(resolveStateDir({ transport: "simulator", host: "h", stateDir: "/abs" })).toBe("/abs");
  });

  it("keys targets by transport, state directory and exact host", () => {
    const a = targetKey({ transport: "simulator", host: "ls01", stateDir: "/s" });
    expect(targetKey({ transport: "simulator", host: "ls01", stateDir: "/s/" })).toBe(a);
    expect(targetKey({ transport: "simulator", host: "LS01", stateDir: "/s" })).not.toBe(a);
    expect(targetKey({ transport: "simulator", host: "ls01", stateDir: "/t" })).not.toBe(a);
  });
});
