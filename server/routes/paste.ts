// GET (and HEAD) of a paste: /<id>, and /<id>/anything for links that add a file name.
// With the viewer on, a browser navigating to /<id> gets the HTML viewer (server/viewer/)
// and everyone else the raw bytes; /<id>/anything is always raw, and ?download makes it an
// attachment.

import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { matchesEtag } from "../pastes/paste.js";
import type { PasteService } from "../pastes/service.js";
import { sendText } from "../plugins/errors.js";
import { PASTE_SPACE } from "../url-space.js";
import { prefersViewer } from "../viewer/negotiate.js";
import { sendViewer } from "../viewer/respond.js";

export interface PasteOptions {
  readonly pastes: PasteService;
  /** Null: no negotiation, every answer raw (LogPaste's behaviour). */
  readonly viewer: { readonly siteTitle: string } | null;
}

export async function pasteRoutes(app: FastifyInstance, { pastes, viewer }: PasteOptions): Promise<void> {
  const servePaste = async (req: FastifyRequest<{ Params: { id: string }; Querystring: { download?: string; pretty?: string; lang?: string | string[] } }>, reply: FastifyReply) => {
    const { id } = req.params;
    const paste = pastes.get(id);
    if (paste === undefined) return sendText(reply, 404, "entry not found");
    if (viewer && req.routeOptions.url === PASTE_SPACE.paste) {
      reply.header("Vary", "Accept");
      // Before the ETag: the page is never stored, so a validator the browser holds is the raw answer's.
      if (prefersViewer(req.headers.accept)) {
        const { pretty, lang } = req.query;
        return sendViewer(reply, {
          id,
          bytes: paste.contents,
          created: paste.created,
          siteTitle: viewer.siteTitle,
          pretty: pretty !== undefined,
          // ?lang=a&lang=b: the first.
          lang: Array.isArray(lang) ? lang[0] : lang,
        });
      }
    }
    if (matchesEtag(req.headers["if-none-match"], paste)) return reply.headers(paste.validatorHeaders).code(304).send();
    if (req.query.download !== undefined) reply.header("Content-Disposition", `attachment; filename="${id}.txt"`);
    return reply.headers(paste.textHeaders).send(paste.contents);
  };
  app.get(PASTE_SPACE.paste, servePaste);
  app.get(PASTE_SPACE.pasteWithName, servePaste);
}
