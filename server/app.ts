// The HTTP application: LogPaste's routes (see docs/api.md) on Fastify.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import fastifyMultipart from "@fastify/multipart";
import fastifyStatic from "@fastify/static";
import path from "node:path";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Metrics } from "./metrics.js";
import type { Store } from "./store.js";
import { clientIp } from "./client-ip.js";
import { createHomePage } from "./home-page.js";
import { isBlank } from "./paste-body.js";
import { newPasteId } from "./paste-id.js";
import { createRateLimiter } from "./rate-limit.js";
import { WEB_ROOT } from "./web-root.js";

export type AppConfig = Pick<
  Config,
  "title" | "subtitle" | "footer" | "showDocs" | "perMinuteLimit" | "maxPasteBytes" | "behindProxy" | "metricsAddr"
>;

export interface AppDeps {
  readonly config: AppConfig;
  readonly store: Store;
  readonly logger: Logger;
  /** Requests and pastes are counted into it; served at /metrics unless `config.metricsAddr` is set. */
  readonly metrics: Metrics;
  /**
   * Sync mode: resolves once the commit just made is in the replica; rejects when the
   * replica could not take it in time. Absent in async mode and without replication.
   */
  readonly waitUntilReplicated?: () => Promise<void>;
  /** Replication's state for /healthz; absent without replication. */
  readonly replicationStatus?: () => ReplicationHealth;
}

/** What /healthz needs from replication; the rest of the status is shown as it is. */
export interface ReplicationHealth {
  readonly mode: "async" | "sync";
  /** False while uploads fail. */
  readonly healthy: boolean;
  /** Set when another instance writes the same replica: replication has stopped. */
  readonly writerConflict: unknown;
  readonly [detail: string]: unknown;
}

/**
 * A replica outage is unhealthy only in sync mode, where uploads fail with it; in async
 * mode uploads go on and a restart would only lose the WAL not yet shipped. Another
 * writer is unhealthy in both: nothing is replicated any more.
 */
function replicationOk(replication: ReplicationHealth | null): boolean {
  if (!replication) return true;
  return replication.writerConflict === null && (replication.mode === "async" || replication.healthy);
}

/**
 * A failed write says what the operator must fix. SQLite rolls the transaction back, so
 * stored pastes are untouched and reads keep working.
 */
function storageError(err: unknown): HttpError {
  const code = String((err as { code?: unknown }).code ?? "");
  if (code === "SQLITE_FULL") return new HttpError(507, "can't save entry: the server's disk is full");
  if (/^SQLITE_(READONLY|CANTOPEN|IOERR|BUSY|LOCKED)/.test(code)) {
    return new HttpError(503, "can't save entry: the database cannot be written right now; try again later", { "Retry-After": "30" });
  }
  return new HttpError(500, "can't save entry");
}

/** A client's mistake or a refusal, answered as LogPaste does: plain text ending in a newline. */
class HttpError extends Error {
  constructor(readonly statusCode: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

function sendText(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type("text/plain; charset=utf-8").send(`${message}\n`);
}

function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(",")[0]?.trim() || undefined;
}

const SAVE_ATTEMPTS = 5;
const MIB = 1024 * 1024;

export async function buildApp({ config, store, logger, metrics, waitUntilReplicated, replicationStatus }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request, written by our onResponse hook (Fastify would write two).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxPasteBytes,
    // Ids are 8 characters; anything much longer is not a paste and should not reach the store.
    routerOptions: { maxParamLength: 256 },
    // Refused by our own hook instead, in the plain-text form of every other error.
    return503OnClosing: false,
  });

  const limitText = `${config.maxPasteBytes} bytes (${config.maxPasteBytes / MIB} MiB)`;
  const tooLarge = () => new HttpError(413, `body too long: the limit is ${limitText}`);
  const limiter = config.perMinuteLimit > 0 ? createRateLimiter(config.perMinuteLimit) : null;
  const homePage = createHomePage(config);

  const publicOrigin = (req: FastifyRequest): string => {
    const host = (config.behindProxy && firstValue(req.headers["x-forwarded-host"])) || req.headers.host || "localhost";
    const scheme = config.behindProxy
      ? (firstValue(req.headers["x-forwarded-proto"]) ?? "https")
      : "encrypted" in req.socket && req.socket.encrypted ? "https" : "http";
    return `${scheme}://${host}`;
  };

  // Paste bodies are bytes, whatever Content-Type a client sends (curl says form-urlencoded).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  await app.register(fastifyMultipart, {
    // latin1 maps each byte to one code unit, so text fields convert back to their exact bytes.
    defCharset: "latin1",
    limits: { fieldSize: config.maxPasteBytes, fileSize: config.maxPasteBytes, fields: 100, files: 10, parts: 110 },
  });

  // A request that arrives on a kept-alive connection while the server shuts down.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });

  app.addHook("onRequest", async (req, reply) => {
    if (closing) {
      reply.header("Connection", "close").header("Retry-After", "5");
      return sendText(reply, 503, "the server is shutting down; try again in a moment");
    }
    // The declared type matters only to a multipart POST. PUT takes the raw bytes whatever
    // the client declared, as LogPaste does (the multipart parser would take a multipart
    // body); and without this, Fastify answers 415 to a type that is not type/subtype before
    // a route can say what is wrong.
    const declared = req.headers["content-type"];
    if (req.method === "PUT" || (declared !== undefined && !(req.method === "POST" && /^\s*multipart\//i.test(declared)))) {
      req.headers["content-type"] = "application/octet-stream";
    }
    // Every answer may be read cross-origin: pastes are public and no cookies are involved.
    reply.header("Access-Control-Allow-Origin", "*");
    if (limiter && (req.method === "PUT" || req.method === "POST")) {
      const ip = clientIp(req.headers, req.socket.remoteAddress, config.behindProxy);
      if (!limiter.tryTake(ip)) {
        reply.header("Retry-After", "60");
        return sendText(reply, 429, "Too many requests. Wait a minute and try again");
      }
    }
  });

  app.addHook("onResponse", async (req, reply) => {
    metrics.requestServed(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    req.log.info(
      {
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ip: clientIp(req.headers, req.socket.remoteAddress, config.behindProxy),
      },
      "request",
    );
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err instanceof HttpError) {
      for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
      return sendText(reply, err.statusCode, err.message);
    }
    switch (err.code) {
      case "FST_ERR_CTP_BODY_TOO_LARGE":
        return sendText(reply, 413, tooLarge().message);
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendText(reply, err.statusCode, err.statusCode === 400 ? "can't read request body" : err.message);
    }
    req.log.error({ err }, "request failed");
    return sendText(reply, 500, "internal error");
  });

  app.setNotFoundHandler((req, reply) => {
    if (!["GET", "HEAD", "PUT", "POST", "OPTIONS"].includes(req.method)) {
      reply.header("Allow", "GET, HEAD, PUT, POST, OPTIONS");
      return sendText(reply, 405, `method ${req.method} not allowed`);
    }
    return sendText(reply, 404, "not found");
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

  async function savePaste(contents: Buffer): Promise<string> {
    if (isBlank(contents)) throw new HttpError(400, "empty body");
    if (contents.length > config.maxPasteBytes) throw tooLarge();
    for (let attempt = 0; attempt < SAVE_ATTEMPTS; attempt++) {
      const id = newPasteId();
      let inserted: boolean;
      try {
        inserted = await store.insert(id, contents);
      } catch (err) {
        logger.error({ err }, "can't save entry");
        throw storageError(err);
      }
      if (!inserted) continue;
      metrics.pasteStored(contents.length);
      if (waitUntilReplicated) {
        try {
          await waitUntilReplicated();
        } catch (err) {
          logger.warn({ err, id }, "paste stored locally but not yet replicated");
          const why = replicationStatus?.().writerConflict
            ? "replication has stopped because another server writes the same replica (see /healthz)"
            : "it will be once the replica is reachable";
          throw new HttpError(503, `paste ${id} was stored locally but is not replicated yet; ${why}`, { "Retry-After": "10" });
        }
      }
      return id;
    }
    throw new HttpError(500, "can't save entry");
  }

  // PUT to any path: the raw body is the paste.
  app.put("/*", async (req, reply) => {
    const id = await savePaste((req.body as Buffer | undefined) ?? Buffer.alloc(0));
    // A Buffer payload keeps the Content-Type exactly as LogPaste sends it (no charset added).
    return reply.type("application/json").send(Buffer.from(`${JSON.stringify({ id })}\n`));
  });

  // POST to any path: multipart only; the first non-empty text field, else the first file.
  app.post("/*", async (req, reply) => {
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
    const id = await savePaste(contents);
    return reply.type("text/plain").send(Buffer.from(`${publicOrigin(req)}/${id}\n`));
  });

  app.options("/*", async (_req, reply) => {
    reply.header("Access-Control-Allow-Methods", "GET, PUT");
    reply.header("Access-Control-Allow-Headers", "Content-Type");
    return reply.code(200).send();
  });

  app.get("/", async (req, reply) => reply.type("text/html; charset=utf-8").send(homePage.render(publicOrigin(req))));

  await app.register(fastifyStatic, { root: path.join(WEB_ROOT, "static"), prefix: "/static/" });
  // Embeds written before LogPaste 0.3.2 load the same files from the old paths.
  for (const legacy of ["js", "css"]) {
    await app.register(fastifyStatic, {
      root: path.join(WEB_ROOT, "static", legacy),
      prefix: `/${legacy}/`,
      decorateReply: false,
    });
  }

  // Not a paste id (ids are 8 characters), so it can never shadow one.
  app.get("/healthz", async (_req, reply) => {
    let database = "ok";
    try {
      store.ping();
    } catch (err) {
      database = (err as Error).message;
    }
    const replication = replicationStatus?.() ?? null;
    const healthy = database === "ok" && replicationOk(replication);
    return reply
      .code(healthy ? 200 : 503)
      .header("Cache-Control", "no-store")
      .send({ status: healthy ? "ok" : "unhealthy", database, replication });
  });

  // Like /healthz, never a paste id. With METRICS_ADDR it is served there only, and here
  // `/metrics` is looked up as a paste like any other path (404).
  if (config.metricsAddr === null) {
    app.get("/metrics", async (_req, reply) => reply.type(metrics.contentType).header("Cache-Control", "no-store").send(await metrics.render()));
  }

  app.get("/favicon.ico", async (_req, reply) => sendText(reply, 404, "not found"));

  const servePaste = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const { id } = req.params;
    const contents = store.get(id);
    if (contents === undefined) return sendText(reply, 404, "entry not found");
    // A paste never changes: its id is a strong validator and any cache may keep it forever.
    const etag = `"${id}"`;
    reply
      .header("ETag", etag)
      .header("Cache-Control", "public, max-age=31536000, immutable")
      .header("X-Content-Type-Options", "nosniff");
    if (req.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === etag || tag.trim() === "*")) {
      return reply.code(304).send();
    }
    return reply.type("text/plain; charset=UTF-8").send(contents);
  };
  app.get("/:id", servePaste);
  app.get("/:id/*", servePaste);

  return app;
}
