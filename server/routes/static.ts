// web/static/ at /static/, and at the pre-0.3.2 paths /js/ and /css/ that older embeds
// still load; Prism at LogPaste's /static/third-party/prism/ and its older /third-party/prism/;
// /favicon.ico is answered with LogPaste's 404 rather than looked up as a paste. Only the
// files that are under the root are served: no dotfiles, and no symlink that leads out.
// Every file is cached for a week, as LogPaste's file server tells browsers.

import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply } from "fastify";
import { realpathSync } from "node:fs";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { HttpError, sendText } from "../plugins/errors.js";
import { reservedPath } from "../url-space.js";
import { prismAssets } from "../web/prism-assets.js";
import { WEB_ROOT } from "../web/web-root.js";

/** A week, as LogPaste (handlers/static.go) caches its static files. */
export const STATIC_MAX_AGE_SECONDS = 604_800;
export const STATIC_CACHE_CONTROL = `public, max-age=${STATIC_MAX_AGE_SECONDS}`;
/** The type Go gives .js (and RFC 9239 names); the file server's MIME table says application/javascript. */
const JAVASCRIPT_TYPE = "text/javascript; charset=utf-8";

const notFound = () => new HttpError(404, "not found");

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const root = path.join(WEB_ROOT, "static");
  // The root itself may sit behind a symlink (a deploy's current/ → release/): compare real paths.
  const realRoot = realpathSync(root);
  const options = {
    // A dotfile is as absent as a missing file (404); "deny" would answer 403 and confirm it exists.
    dotfiles: "ignore" as const,
    maxAge: STATIC_MAX_AGE_SECONDS * 1000,
    async onFile(file: string): Promise<void> {
      if (!(await realpath(file)).startsWith(realRoot + path.sep)) throw notFound();
    },
    setHeaders(reply: FastifyReply, file: string): void {
      if (file.endsWith(".js")) reply.header("Content-Type", JAVASCRIPT_TYPE);
    },
  };
  await app.register(fastifyStatic, { ...options, root, prefix: `${reservedPath("static")}/` });
  for (const legacy of ["js", "css"] as const) {
    await app.register(fastifyStatic, { ...options, root: path.join(root, legacy), prefix: `${reservedPath(legacy)}/`, decorateReply: false });
  }
  // Fixed paths win over the file server's /static/* in Fastify's router.
  for (const [name, asset] of prismAssets()) {
    for (const prefix of [`${reservedPath("static")}/third-party`, reservedPath("third-party")]) {
      app.get(`${prefix}/prism/${name}`, async (_req, reply) => reply.header("Cache-Control", STATIC_CACHE_CONTROL).type(asset.contentType).send(asset.body));
    }
  }
  // What the file server refuses (a NUL byte, a path it finds malicious: 400/403) is, to a
  // client, a file that is not there; the rest goes on to the app's handler.
  app.setErrorHandler((err: Error & { statusCode?: number }) => {
    throw err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? notFound() : err;
  });
  // LogPaste's words (handlers/routes.go), so that a check written against it still matches.
  app.get(reservedPath("favicon.ico"), async (_req, reply) => sendText(reply, 404, "Resource not found"));
}
