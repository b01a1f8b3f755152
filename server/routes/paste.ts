// GET (and HEAD) of a paste: /<id>, and /<id>/anything for links that add a file name.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { PasteService } from "../pastes/service.js";
import { sendText } from "../plugins/errors.js";
import { PASTE_HEADERS } from "../security-headers.js";
import { PASTE_SPACE } from "../url-space.js";

export interface PasteOptions {
  readonly pastes: PasteService;
}

export async function pasteRoutes(app: FastifyInstance, { pastes }: PasteOptions): Promise<void> {
  const servePaste = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const { id } = req.params;
    const contents = pastes.get(id);
    if (contents === undefined) return sendText(reply, 404, "entry not found");
    // A paste never changes: its id is a strong validator and any cache may keep it forever.
    const etag = `"${id}"`;
    reply
      .header("ETag", etag)
      .header("Cache-Control", "public, max-age=31536000, immutable")
      .headers(PASTE_HEADERS);
    if (req.headers["if-none-match"]?.split(",").some((tag) => tag.trim() === etag || tag.trim() === "*")) {
      return reply.code(304).send();
    }
    return reply.type("text/plain; charset=UTF-8").send(contents);
  };
  app.get(PASTE_SPACE.paste, servePaste);
  app.get(PASTE_SPACE.pasteWithName, servePaste);
}
