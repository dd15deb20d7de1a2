/**
 * What an operation script's plumbing does with the emulator's answers, in the fake world: the error
 * documents Bootstrap.ps1 writes (New-RdsScriptError's typed ones; SCRIPT_EXCEPTION for anything
 * uncaught, with the WBEM HRESULT the exception carries), and Invoke-RdsWmiMethod (a WBEM exception
 * or a non-zero ReturnValue becomes WMI_ERROR with the unsigned code, the method and the class).
 */
import type { ScriptErrorDocument } from "../../provider/powershell/result";
import type { FakeHost } from "./host";
import { getInstances, hex, invokeMethod, WmiFault, type Clearinghouse } from "./wmi";

/** A script that ended with an error document. */
export class ScriptFailure extends Error {
  constructor(readonly doc: ScriptErrorDocument) {
    super(doc.message);
  }
}

/** throw (New-RdsScriptError -Code ... -Message ...) */
export function scriptError(
  code: string,
  message: string,
  extra: { method?: string; className?: string; returnValue?: number } = {},
): ScriptFailure {
  return new ScriptFailure({ code, message, ...extra });
}

/** An exception nothing caught: SCRIPT_EXCEPTION with its message (and WBEM HRESULT, when it carries one). */
export function uncaught(e: unknown): ScriptFailure {
  if (e instanceof ScriptFailure) return e;
  if (e instanceof WmiFault)
    return new ScriptFailure({
      code: "SCRIPT_EXCEPTION",
      message: e.message,
      hresult: e.code >>> 0,
      exceptionType: "System.Runtime.InteropServices.COMException",
    });
  throw e;
}

/** The context every fake script runs in: its host, the shared Clearinghouse, the host name as the connection spells it. */
export interface ScriptCtx {
  h: FakeHost;
  ch: Clearinghouse;
  target: string;
}

/** Get-CimInstance ... -ErrorAction Stop: a WMI failure is thrown on (uncaught unless the script catches). */
export function cim(c: ScriptCtx, className: string): { denied: boolean } {
  return getInstances(c.h, className);
}

/** Invoke-RdsWmiMethod: the outputs, or WMI_ERROR. */
export function wmiCall(c: ScriptCtx, className: string, method: string, args: Record<string, unknown> = {}): Record<string, unknown> {
  const label = `${className}.${method}`;
  let r;
  try {
    r = invokeMethod(c.h, c.ch, className, method, args);
  } catch (e) {
    if (!(e instanceof WmiFault)) throw e;
    throw scriptError("WMI_ERROR", `${label} failed with ${hex(e.code)}: ${e.message}`, { method, className, returnValue: e.code >>> 0 });
  }
  if (r.returnValue !== 0)
    throw scriptError("WMI_ERROR", `${label} returned ${hex(r.returnValue)}`, { method, className, returnValue: r.returnValue >>> 0 });
  return r.out;
}

/** The unsigned WMI code a WMI_ERROR failure carries (Get-RdsScriptErrorDetails ... returnValue), or undefined. */
export function returnValueOf(e: unknown): number | undefined {
  return e instanceof ScriptFailure ? e.doc.returnValue : undefined;
}
