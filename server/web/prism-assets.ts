// Prism (the prismjs package) at the paths LogPaste serves it from, for embeds and custom
// footers that link them: LogPaste's pages load /static/third-party/prism/prism.js with the
// languages it bundled (clike, javascript, bash) and a light and a dark theme. Built once
// at start-up from the package's own files, so an upgrade of prismjs is a package bump.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** LogPaste's prism.js bundle: the core, then each language after the ones it extends. */
const BUNDLED_COMPONENTS = ["core", "clike", "javascript", "bash"] as const;

export interface StaticAsset {
  readonly contentType: string;
  readonly body: Buffer;
}

const require = createRequire(import.meta.url);
const packageFile = (name: string): string => readFileSync(require.resolve(`prismjs/${name}`), "utf8");

/** The files under third-party/prism/, by name. */
export function prismAssets(): ReadonlyMap<string, StaticAsset> {
  const script = BUNDLED_COMPONENTS.map((c) => packageFile(`components/prism-${c}.min.js`)).join("\n");
  const css = (theme: string): StaticAsset => ({ contentType: "text/css; charset=utf-8", body: Buffer.from(packageFile(`themes/${theme}.min.css`)) });
  return new Map([
    ["prism.js", { contentType: "text/javascript; charset=utf-8", body: Buffer.from(script) }],
    ["light.css", css("prism")],
    ["dark.css", css("prism-dark")],
  ]);
}
