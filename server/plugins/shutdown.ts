// A request that arrives on a kept-alive connection while the server shuts down gets a
// plain-text 503 telling the client to retry, and the connection is closed. App-wide:
// every route answers it alike (Fastify's own answer is turned off by return503OnClosing).

import fp from "fastify-plugin";
import { sendText } from "./errors.js";

export const shutdown = fp(
  async (app) => {
    let closing = false;
    app.addHook("preClose", async () => {
      closing = true;
    });
    app.addHook("onRequest", async (_req, reply) => {
      if (!closing) return;
      reply.header("Connection", "close").header("Retry-After", "5");
      return sendText(reply, 503, "the server is shutting down; try again in a moment");
    });
  },
  { name: "shutdown" },
);
