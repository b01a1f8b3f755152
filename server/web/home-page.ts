// The home page: web/index.html with the operator's branding. Title and subtitle are
// escaped (LogPaste inserted them raw); the footer is raw HTML on purpose.

import { readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config.js";
import { WEB_ROOT } from "./web-root.js";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'{}]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const DOCS_BLOCK = /<!-- docs:start -->[\s\S]*?<!-- docs:end -->\n?/;

/** Renders the branding once; `render(origin)` only fills in the URL the examples use. */
export function createHomePage(config: Pick<Config, "title" | "subtitle" | "footer" | "showDocs">) {
  let template = readFileSync(path.join(WEB_ROOT, "index.html"), "utf8");
  if (!config.showDocs) template = template.replace(DOCS_BLOCK, "");
  const branded = template
    .replaceAll("{{title}}", escapeHtml(config.title))
    .replaceAll("{{subtitle}}", escapeHtml(config.subtitle))
    .replace("{{footer}}", () => config.footer);
  return {
    render(origin: string): string {
      return branded.replaceAll("{{origin}}", escapeHtml(origin));
    },
  };
}
