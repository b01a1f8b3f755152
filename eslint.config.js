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
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
);
