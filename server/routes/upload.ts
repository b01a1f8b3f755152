// PUT and POST to any path: a new paste (docs/api.md). Everything only uploads need is
// registered inside this plugin, so that it applies to them alone: the body taken as bytes
// whatever its declared type, multipart parsing, the body size limit and the per-IP rate
// limit. A later JSON route or DELETE is parsed by its own rules and costs no upload budget.

import fastifyMultipart from "@fastify/multipart";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { clientIp, rateLimitKey } from "../client-ip.js";
import {
  EmptyPasteError,
  NoFreeIdError,
  NotReplicatedError,
  PasteTooLargeError,
  StorageError,
  WriterConflictError,
  type PasteService,
} from "../pastes/service.js";
import { readBounded, UploadsBusyError, type UploadAccount, type UploadBudget } from "../pastes/upload-budget.js";
import { HttpError, sendText } from "../plugins/errors.js";
import { publicOrigin } from "../public-origin.js";
import { createRateLimiter } from "../rate-limit.js";
import { PASTE_SPACE } from "../url-space.js";
import { lingerAfterAnswer } from "../connections.js";
import { CLOSE, FORM_FIELDS_LIMIT, FORM_FILES_LIMIT, pasteFromForm, tooManyParts } from "./upload-form.js";

export interface UploadOptions {
  readonly pastes: PasteService;
  readonly maxPasteBytes: number;
  /** Uploads per client IP per minute; 0 turns the limit off. */
  readonly perMinuteLimit: number;
  readonly behindProxy: boolean;
  /** 0: the TCP peer is the client (see client-ip.ts). */
  readonly trustedProxies: number;
  /** The pinned public origin for the links POST answers, or null (from the Host header). */
  readonly baseUrl: string | null;
  /** Upload bytes held in memory, server-wide. */
  readonly budget: UploadBudget;
}

const MIB = 1024 * 1024;
/** Uploads in flight finish in seconds; a refused one may try again soon. */
export const DEFAULT_BUSY_RETRY_AFTER_SECONDS = 5;

export async function uploadRoutes(app: FastifyInstance, { pastes, maxPasteBytes, perMinuteLimit, behindProxy, trustedProxies, baseUrl, budget }: UploadOptions): Promise<void> {
  const tooLarge = () => new HttpError(413, `body too long: the limit is ${maxPasteBytes} bytes (${maxPasteBytes / MIB} MiB)`, CLOSE);

  /** The service's errors and the body readers', as LogPaste answers them; anything else goes on to the app's handler. */
  function answer(err: unknown): unknown {
    if (err instanceof EmptyPasteError) return new HttpError(400, "empty body");
    if (err instanceof PasteTooLargeError) return tooLarge();
    if (err instanceof UploadsBusyError) {
      return new HttpError(503, "the server is busy receiving other uploads; try again in a few seconds", {
        ...CLOSE,
        "Retry-After": String(DEFAULT_BUSY_RETRY_AFTER_SECONDS),
      });
    }
    if (err instanceof StorageError) {
      switch (err.reason) {
        case "disk-full":
          return new HttpError(507, "can't save entry: the server's disk is full");
        case "unwritable":
          return new HttpError(503, "can't save entry: the database cannot be written right now; try again later", { "Retry-After": "30" });
        case "failed":
          return new HttpError(500, "can't save entry");
      }
    }
    if (err instanceof NoFreeIdError) return new HttpError(500, "can't save entry");
    if (err instanceof NotReplicatedError) {
      const why =
        err instanceof WriterConflictError
          ? "replication has stopped because another server writes the same replica (see /healthz)"
          : "it will be once the replica is reachable";
      return new HttpError(503, `paste ${err.id} was stored locally but is not replicated yet; ${why}`, { "Retry-After": "10" });
    }
    return err;
  }
  // A refusal sent before the body was read closes the connection: let the client read it first.
  app.addHook("onSend", async (req, reply) => {
    // (No socket: the client is already gone.)
    if (reply.getHeader("connection") === "close" && !req.raw.complete && req.raw.socket) lingerAfterAnswer(req.raw.socket);
  });

  app.setErrorHandler((err) => {
    throw answer(err);
  });

  /** Whatever went wrong inside a multipart body was the client's doing: say what, never 500. */
  function multipartError(err: unknown): unknown {
    if (err instanceof HttpError || err instanceof PasteTooLargeError || err instanceof UploadsBusyError) return err;
    switch ((err as { code?: string }).code) {
      case "FST_PARTS_LIMIT":
      case "FST_FILES_LIMIT":
        return tooManyParts();
    }
    return new HttpError(400, "no valid multipart/form-data found", CLOSE);
  }

  // Each upload's share of the memory budget, given back whenever its response is done with
  // (sent, or the connection lost): until then the paste's bytes are referenced.
  const accounts = new WeakMap<FastifyRequest, UploadAccount>();
  const accountOf = (req: FastifyRequest) => accounts.get(req)!;
  app.addHook("onRequest", async (req, reply) => {
    const account = budget.open();
    accounts.set(req, account);
    reply.raw.once("close", () => account.close());
  });

  // Paste bodies are bytes, whatever Content-Type a client sends (curl says form-urlencoded).
  // A declared Content-Length is charged before a byte is read (it will all be held); a
  // chunked body as it arrives.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (req, payload, done) => {
    const account = accountOf(req);
    const declared = Number(req.headers["content-length"]);
    if (declared > maxPasteBytes) return done(new PasteTooLargeError(maxPasteBytes));
    try {
      if (declared > 0) account.prepay(declared);
    } catch (err) {
      return done(err as Error);
    }
    readBounded(payload, maxPasteBytes, account).then(
      (body) => done(null, body),
      (err: unknown) => done(err instanceof PasteTooLargeError || err instanceof UploadsBusyError ? err : new HttpError(400, "can't read request body")),
    );
  });
  await app.register(fastifyMultipart, {
    // Every part is a stream of bytes, never a decoded (or JSON-parsed) field value; which
    // part is text and which a file is upload-form.ts's call, by its filename. Sizes are
    // upload-form.ts's too: it refuses a form past its limit before busboy would.
    isPartAFile: () => true,
    throwFileSizeLimit: false,
    limits: { fileSize: Infinity, files: FORM_FIELDS_LIMIT + FORM_FILES_LIMIT, parts: FORM_FIELDS_LIMIT + FORM_FILES_LIMIT },
  });

  app.addHook("onRequest", async (req) => {
    // The declared type matters only to a multipart POST. PUT takes the raw bytes whatever
    // the client declared, as LogPaste does (the multipart parser would take a multipart
    // body); and without this, Fastify answers 415 to a type that is not type/subtype before
    // a route can say what is wrong.
    const declared = req.headers["content-type"];
    // A bare "multipart/" has no subtype: it is not multipart either (Fastify would say 415).
    if (req.method === "PUT" || (declared !== undefined && !/^\s*multipart\/[\w!#$%&'*+.^`|~-]+\s*(;|$)/i.test(declared))) {
      req.headers["content-type"] = "application/octet-stream";
    }
  });

  if (perMinuteLimit > 0) {
    const limiter = createRateLimiter(perMinuteLimit);
    app.addHook("onRequest", async (req, reply) => {
      if (limiter.tryTake(rateLimitKey(clientIp(req.headers, req.socket.remoteAddress, trustedProxies)))) return;
      reply.header("Retry-After", "60");
      return sendText(reply, 429, "Too many requests. Wait a minute and try again");
    });
  }

  // The raw body is the paste.
  app.put(PASTE_SPACE.anyPath, async (req, reply) => {
    const id = await pastes.save((req.body as Buffer | undefined) ?? Buffer.alloc(0));
    // A Buffer payload keeps the Content-Type exactly as LogPaste sends it (no charset added).
    return reply.type("application/json").send(Buffer.from(`${JSON.stringify({ id })}\n`));
  });

  // Multipart only; the first non-empty text field, else the first file.
  app.post(PASTE_SPACE.anyPath, async (req, reply) => {
    if (!req.isMultipart()) throw new HttpError(400, "no valid multipart/form-data found");
    // Checked before anything is stored: a paste answered with a 400 must not exist.
    const origin = publicOrigin(req, { behindProxy, baseUrl });
    let contents: Buffer | undefined;
    try {
      contents = await pasteFromForm(req.parts(), maxPasteBytes, accountOf(req));
    } catch (err) {
      throw multipartError(err);
    }
    if (contents === undefined) throw new HttpError(400, "form data or file is required");
    const id = await pastes.save(contents);
    return reply.type("text/plain").send(Buffer.from(`${origin}/${id}\n`));
  });
}
