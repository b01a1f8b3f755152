import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

/** web/ at the project root: found by walking up, so it works from the sources and from any build dir. */
function findWebRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "web");
    if (existsSync(path.join(candidate, "index.html"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`litepaste's web/ folder was not found above ${from}`);
  }
}

export const WEB_ROOT = findWebRoot(path.dirname(fileURLToPath(import.meta.url)));
