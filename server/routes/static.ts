// web/static/ at /static/, and at the pre-0.3.2 paths /js/ and /css/ that older embeds
// still load; /favicon.ico is answered 404 rather than looked up as a paste. Only the
// files that are under the root are served: no dotfiles, and no symlink that leads out.

import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { realpathSync } from "node:fs";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { HttpError, sendText } from "../plugins/errors.js";
import { reservedPath } from "../url-space.js";
import { WEB_ROOT } from "../web/web-root.js";

const notFound = () => new HttpError(404, "not found");

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const root = path.join(WEB_ROOT, "static");
  // The root itself may sit behind a symlink (a deploy's current/ → release/): compare real paths.
  const realRoot = realpathSync(root);
  const options = {
    // A dotfile is as absent as a missing file (404); "deny" would answer 403 and confirm it exists.
    dotfiles: "ignore" as const,
    async onFile(file: string): Promise<void> {
      if (!(await realpath(file)).startsWith(realRoot + path.sep)) throw notFound();
    },
  };
  await app.register(fastifyStatic, { ...options, root, prefix: `${reservedPath("static")}/` });
  for (const legacy of ["js", "css"] as const) {
    await app.register(fastifyStatic, { ...options, root: path.join(root, legacy), prefix: `${reservedPath(legacy)}/`, decorateReply: false });
  }
  // What the file server refuses (a NUL byte, a path it finds malicious: 400/403) is, to a
  // client, a file that is not there; the rest goes on to the app's handler.
  app.setErrorHandler((err: Error & { statusCode?: number }) => {
    throw err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? notFound() : err;
  });
  app.get(reservedPath("favicon.ico"), async (_req, reply) => sendText(reply, 404, "not found"));
}
