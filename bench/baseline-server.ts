// The GET baseline: a bare Fastify server (the same Fastify litepaste uses, no logger, no
// hooks, no plugins) answering one body from memory with litepaste's content type.
// Env: PORT, HOST, BODY_FILE (the bytes to serve).

import Fastify from "fastify";
import fs from "node:fs";

const body = fs.readFileSync(process.env.BODY_FILE!);
const app = Fastify();
app.get("/healthz", async () => ({ status: "ok" }));
app.get("/:id", async (_req, reply) => reply.type("text/plain; charset=UTF-8").send(body));
await app.listen({ host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 0) });
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
