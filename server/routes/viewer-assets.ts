// The viewer's generated stylesheet (the xterm palette, see server/viewer/palette.ts); its
// hand-written CSS and JS are plain files under web/static/viewer/.

import type { FastifyInstance } from "fastify";
import { paletteCss } from "../viewer/palette.js";
import { VIEWER_ASSETS } from "../viewer/page.js";
import { STATIC_CACHE_CONTROL } from "./static.js";

export async function viewerAssetRoutes(app: FastifyInstance): Promise<void> {
  const css = paletteCss();
  app.get(`${VIEWER_ASSETS}/palette.css`, async (_req, reply) =>
    reply.header("Cache-Control", STATIC_CACHE_CONTROL).type("text/css; charset=utf-8").send(css),
  );
}
