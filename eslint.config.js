import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "dist-*/", "node_modules/", "coverage/", "data/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["web/**/*.js"],
    languageOptions: { globals: { window: "readonly", document: "readonly", fetch: "readonly", navigator: "readonly", console: "readonly", FormData: "readonly", Blob: "readonly", Error: "readonly", history: "readonly", location: "readonly", localStorage: "readonly", setTimeout: "readonly", Element: "readonly", HTMLInputElement: "readonly" } },
  },
  {
    // The server sees replication through replication/index.ts only: the rest of
    // replication/ can be rearranged without touching server/.
    files: ["server/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{
          regex: "(^|/)replication/(?!index\\.js$)",
          message: "server/ imports replication/ only through replication/index.js (re-export what it needs there).",
        }],
      }],
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
