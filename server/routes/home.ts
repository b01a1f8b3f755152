// GET / : the home page, branded once at start-up; only the examples' URL changes per request.

import type { FastifyInstance } from "fastify";
import type { Config } from "../config.js";
import { publicOrigin } from "../public-origin.js";
import { HTML_PAGE_HEADERS } from "../security-headers.js";
import { PASTE_SPACE } from "../url-space.js";
import { createHomePage } from "../web/home-page.js";

export type HomeOptions = Pick<Config, "title" | "subtitle" | "footer" | "showDocs" | "behindProxy" | "baseUrl">;

export async function homeRoute(app: FastifyInstance, config: HomeOptions): Promise<void> {
  const homePage = createHomePage(config);
  app.get(PASTE_SPACE.home, async (req, reply) => reply.headers(HTML_PAGE_HEADERS).type("text/html; charset=utf-8").send(homePage.render(publicOrigin(req, config))));
}
