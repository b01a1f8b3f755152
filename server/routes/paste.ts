// GET (and HEAD) of a paste: /<id>, and /<id>/anything for links that add a file name.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { matchesEtag } from "../pastes/paste.js";
import type { PasteService } from "../pastes/service.js";
import { sendText } from "../plugins/errors.js";
import { PASTE_SPACE } from "../url-space.js";

export interface PasteOptions {
  readonly pastes: PasteService;
}

export async function pasteRoutes(app: FastifyInstance, { pastes }: PasteOptions): Promise<void> {
  const servePaste = async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const { id } = req.params;
    const paste = pastes.get(id);
    if (paste === undefined) return sendText(reply, 404, "entry not found");
    if (matchesEtag(req.headers["if-none-match"], paste)) return reply.headers(paste.validatorHeaders).code(304).send();
    return reply.headers(paste.textHeaders).send(paste.contents);
  };
  app.get(PASTE_SPACE.paste, servePaste);
  app.get(PASTE_SPACE.pasteWithName, servePaste);
}
