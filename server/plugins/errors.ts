// Answers as LogPaste gives them: plain text ending in a newline, for every error of every
// route. A route plugin with errors of its own maps them to HttpError in its own error
// handler and rethrows the rest, which then land here.

import type { FastifyReply } from "fastify";
import fp from "fastify-plugin";

/** A client's mistake or a refusal, answered with this status, text and headers. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Go's http.Error sets it too: an error's text is never to be read as anything but text. */
export const ERROR_HEADERS: Readonly<Record<string, string>> = { "X-Content-Type-Options": "nosniff" };

export function sendText(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).headers(ERROR_HEADERS).type("text/plain; charset=utf-8").send(`${message}\n`);
}

export const errors = fp(
  async (app) => {
    app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      if (err instanceof HttpError) {
        for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
        return sendText(reply, err.statusCode, err.message);
      }
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        return sendText(reply, err.statusCode, err.statusCode === 400 ? "can't read request body" : err.message);
      }
      req.log.error({ err }, "request failed");
      return sendText(reply, 500, "internal error");
    });
  },
  { name: "errors" },
);
