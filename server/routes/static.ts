// web/static/ at /static/, and at the pre-0.3.2 paths /js/ and /css/ that older embeds
// still load; /favicon.ico is answered 404 rather than looked up as a paste.

import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import path from "node:path";
import { sendText } from "../plugins/errors.js";
import { reservedPath } from "../url-space.js";
import { WEB_ROOT } from "../web/web-root.js";

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const root = path.join(WEB_ROOT, "static");
  await app.register(fastifyStatic, { root, prefix: `${reservedPath("static")}/` });
  for (const legacy of ["js", "css"] as const) {
    await app.register(fastifyStatic, { root: path.join(root, legacy), prefix: `${reservedPath(legacy)}/`, decorateReply: false });
  }
  app.get(reservedPath("favicon.ico"), async (_req, reply) => sendText(reply, 404, "not found"));
}
