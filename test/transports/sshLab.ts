/**
 * Test helper (not a test file): the ssh lab (a real OpenSSH server on the loopback) for the ssh
 * transport tests. It lives in scripts/sshLab.ts, shared with the fleet benchmark over ssh
 * (bench/sshFleet.ts), which may not import from test/; this file keeps the tests' import path.
 */
export * from "../../scripts/sshLab";
