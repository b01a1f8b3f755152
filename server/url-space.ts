// Who owns which URLs. A paste lives at /<id> (and /<id>/anything), and a static route
// always wins over /:id in Fastify's router: a route at /abcd1234 would hide that paste
// for good. So every route other than the paste space's own is under a first path
// segment reserved here, and no reserved segment can be an id. Routes take their paths
// from here; the urlSpace plugin refuses, at start-up, any route that does not.

import fp from "fastify-plugin";
import { couldBePasteId } from "./pastes/paste-id.js";

/** First path segments that are never paste ids. Add one here before adding its route. */
export const RESERVED_SEGMENTS = ["healthz", "metrics", "static", "js", "css", "third-party", "favicon.ico"] as const;
export type ReservedSegment = (typeof RESERVED_SEGMENTS)[number];

/** The routes of the paste space itself, the only ones allowed outside the reserved segments. */
export const PASTE_SPACE = {
  home: "/",
  /** Uploads and the CORS preflight take any path. */
  anyPath: "/*",
  paste: "/:id",
  /** /<id>/anything, for links that add a file name. */
  pasteWithName: "/:id/*",
} as const;
const PASTE_SPACE_ROUTES: readonly string[] = Object.values(PASTE_SPACE);

/** `/healthz`, `/static` …: the path of a reserved segment. */
export function reservedPath(segment: ReservedSegment): `/${ReservedSegment}` {
  return `/${segment}`;
}

/** Why a route's URL does not fit the URL space, or undefined when it does. */
export function urlSpaceViolation(url: string): string | undefined {
  if (PASTE_SPACE_ROUTES.includes(url)) return undefined;
  const first = url.split("/")[1] ?? "";
  if (!(RESERVED_SEGMENTS as readonly string[]).includes(first)) {
    return `route ${url} is outside the URL space: its first path segment must be one of RESERVED_SEGMENTS in server/url-space.ts`;
  }
  if (couldBePasteId(first)) return `route ${url} would hide the paste with id ${first}`;
  return undefined;
}

/** Registered first, so that it sees every route: a route that breaks the rule stops the server from starting. */
export const urlSpace = fp(
  async (app) => {
    app.addHook("onRoute", (route) => {
      const violation = urlSpaceViolation(route.url);
      if (violation) throw new Error(violation);
    });
  },
  { name: "url-space" },
);
