// Requests that no route takes: 405 for a method litepaste never serves, 404 otherwise.
// Encapsulated, so its hook applies to these requests only; registered after the app-wide
// plugins, whose hooks (shutdown, request log, CORS) it inherits.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendText } from "./errors.js";

const SERVED_METHODS = ["GET", "HEAD", "PUT", "POST", "OPTIONS"];

async function refuse(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!SERVED_METHODS.includes(req.method)) {
    reply.header("Allow", SERVED_METHODS.join(", "));
    return sendText(reply, 405, `method ${req.method} not allowed`);
  }
  return sendText(reply, 404, "not found");
}

export async function notFound(app: FastifyInstance): Promise<void> {
  // The answer does not depend on the body, so it is given before Fastify reads one: no
  // body size and no Content-Type (not even one that is not type/subtype, which Fastify
  // refuses with 415) changes it. The handler is the same answer; Fastify requires one.
  app.addHook("onRequest", refuse);
  app.setNotFoundHandler(refuse);
}
