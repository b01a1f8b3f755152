// PUT and POST to any path: a new paste (docs/api.md). Everything only uploads need is
// registered inside this plugin, so that it applies to them alone: the body taken as bytes
// whatever its declared type, multipart parsing, the body size limit and the per-IP rate
// limit. A later JSON route or DELETE is parsed by its own rules and costs no upload budget.

import fastifyMultipart from "@fastify/multipart";
import type { FastifyInstance } from "fastify";
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
import { HttpError, sendText } from "../plugins/errors.js";
import { publicOrigin } from "../public-origin.js";
import { createRateLimiter } from "../rate-limit.js";
import { PASTE_SPACE } from "../url-space.js";

export interface UploadOptions {
  readonly pastes: PasteService;
  readonly maxPasteBytes: number;
  /** Uploads per client IP per minute; 0 turns the limit off. */
  readonly perMinuteLimit: number;
  readonly behindProxy: boolean;
  /** 0: the TCP peer is the client (see client-ip.ts). */
  readonly trustedProxies: number;
}

const MIB = 1024 * 1024;

export async function uploadRoutes(app: FastifyInstance, { pastes, maxPasteBytes, perMinuteLimit, behindProxy, trustedProxies }: UploadOptions): Promise<void> {
  const tooLarge = () => new HttpError(413, `body too long: the limit is ${maxPasteBytes} bytes (${maxPasteBytes / MIB} MiB)`);

  /** The service's errors and the body parser's, as LogPaste answers them; anything else goes on to the app's handler. */
  function answer(err: unknown): unknown {
    if (err instanceof EmptyPasteError) return new HttpError(400, "empty body");
    if (err instanceof PasteTooLargeError || (err as { code?: string }).code === "FST_ERR_CTP_BODY_TOO_LARGE") return tooLarge();
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
  app.setErrorHandler((err) => {
    throw answer(err);
  });

  /** Whatever went wrong inside a multipart body was the client's doing: say what, never 500. */
  function multipartError(err: unknown): HttpError {
    if (err instanceof HttpError) return err;
    switch ((err as { code?: string }).code) {
      case "FST_REQ_FILE_TOO_LARGE":
        return tooLarge();
      case "FST_PARTS_LIMIT":
      case "FST_FILES_LIMIT":
      case "FST_FIELDS_LIMIT":
        return new HttpError(413, "too many form parts: send one text field or one file");
    }
    return new HttpError(400, "no valid multipart/form-data found");
  }

  // Paste bodies are bytes, whatever Content-Type a client sends (curl says form-urlencoded).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: maxPasteBytes }, (_req, body, done) => done(null, body));
  await app.register(fastifyMultipart, {
    // latin1 maps each byte to one code unit, so text fields convert back to their exact bytes.
    defCharset: "latin1",
    limits: { fieldSize: maxPasteBytes, fileSize: maxPasteBytes, fields: 100, files: 10, parts: 110 },
  });

  app.addHook("onRequest", async (req) => {
    // The declared type matters only to a multipart POST. PUT takes the raw bytes whatever
    // the client declared, as LogPaste does (the multipart parser would take a multipart
    // body); and without this, Fastify answers 415 to a type that is not type/subtype before
    // a route can say what is wrong.
    const declared = req.headers["content-type"];
    if (req.method === "PUT" || (declared !== undefined && !/^\s*multipart\//i.test(declared))) {
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
    let text: Buffer | undefined;
    let file: Buffer | undefined;
    let sawField = false;
    try {
      for await (const part of req.parts()) {
        if (part.type === "field") {
          if (part.valueTruncated) throw tooLarge();
          sawField = true;
          const value = typeof part.value === "string" ? part.value : String(part.value);
          if (text === undefined && value !== "") text = Buffer.from(value, "latin1");
        } else if (file === undefined && text === undefined) {
          file = await part.toBuffer();
        } else {
          part.file.resume();
        }
      }
    } catch (err) {
      throw multipartError(err);
    }
    const contents = text ?? file ?? (sawField ? Buffer.alloc(0) : undefined);
    if (contents === undefined) throw new HttpError(400, "form data or file is required");
    const id = await pastes.save(contents);
    return reply.type("text/plain").send(Buffer.from(`${publicOrigin(req, behindProxy)}/${id}\n`));
  });
}
