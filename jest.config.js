/** Tests run from TypeScript sources through ts-jest (transpile only: `npm run typecheck`, part of
 * `npm test`, type-checks them with tsconfig.test.json). The provider-host tests need the built
 * product JS in bin/ as well (the real host loads bin/provider), which `npm test` builds first. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, diagnostics: false }] },
  modulePathIgnorePatterns: ["<rootDir>/bin/", "<rootDir>/examples/"],
  // Two files at a time, one per core of the machines we run on (test/run.sh says why).
  maxWorkers: 2,
  // Each file its own install journal, never the user's home (two files run at a time).
  setupFilesAfterEnv: ["<rootDir>/test/setup/isolation.ts"],
  testTimeout: 120000,
  verbose: true,
  reporters: ["default", "<rootDir>/test/reporters/summary.js"],
};
