// The viewer's stylesheets that are not files of web/static/viewer/: the generated xterm
// palette (server/viewer/palette.ts) and highlight.js's GitHub themes, read once from the
// installed package, so that they follow its version.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { FastifyInstance } from "fastify";
import { paletteCss } from "../viewer/palette.js";
import { VIEWER_ASSETS } from "../viewer/page.js";
import { STATIC_CACHE_CONTROL } from "./static.js";

const require = createRequire(import.meta.url);
const themeCss = (name: string) => readFileSync(require.resolve(`highlight.js/styles/${name}.min.css`), "utf8");

export async function viewerAssetRoutes(app: FastifyInstance): Promise<void> {
  const sheets: Record<string, string> = {
    "palette.css": paletteCss(),
    "highlight-light.css": themeCss("github"),
    "highlight-dark.css": themeCss("github-dark"),
  };
  for (const [name, css] of Object.entries(sheets)) {
    app.get(`${VIEWER_ASSETS}/${name}`, async (_req, reply) =>
      reply.header("Cache-Control", STATIC_CACHE_CONTROL).type("text/css; charset=utf-8").send(css),
    );
  }
}
