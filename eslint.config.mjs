// typescript-eslint's recommended rules, type-aware where it catches real bugs (floating promises,
// misused promises), over the product code, the engine, the tools and the tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [".tools/**", "bin/**", "node_modules/**", "examples/**/node_modules/**", ".rds-sim/**", ".pulumi/**", "**/*.js", "**/*.mjs"],
  },
  // A disable comment that suppresses nothing is an error: every one left is there for a real finding.
  { linterOptions: { reportUnusedDisableDirectives: "error" } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["provider/**/*.ts", "engine/**/*.ts", "scripts/**/*.ts", "bench/**/*.ts", "test/**/*.ts"],
    languageOptions: {
      parserOptions: { project: ["./tsconfig.test.json"], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      // `_name` marks a parameter or binding that is there for its position or to be dropped from a spread.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
);
