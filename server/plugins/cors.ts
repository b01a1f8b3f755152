// Every answer may be read cross-origin: pastes are public and no cookies are involved.
// Kept by hand instead of @fastify/cors: one fixed header and one fixed preflight answer,
// which that plugin's options would only reproduce.

import type { FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { PASTE_SPACE } from "../url-space.js";

async function preflight(_req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  reply.header("Access-Control-Allow-Methods", "GET, PUT");
  reply.header("Access-Control-Allow-Headers", "Content-Type");
  return reply.code(200).send();
}

export const cors = fp(
  async (app) => {
    app.addHook("onRequest", async (_req, reply) => {
      reply.header("Access-Control-Allow-Origin", "*");
    });
    // Answered from onRequest, before Fastify reads a body: a preflight has none, and one
    // sent anyway, under any Content-Type (even one that is not type/subtype, which Fastify
    // refuses with 415), must still get the preflight answer. Fastify requires a handler too.
    app.route({ method: "OPTIONS", url: PASTE_SPACE.anyPath, onRequest: preflight, handler: preflight });
  },
  { name: "cors" },
);
