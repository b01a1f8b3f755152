import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

function findProjectRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The project root, whether this runs from the sources or from a build directory inside it. */
export const projectRoot = findProjectRoot(path.dirname(fileURLToPath(import.meta.url)));

/** Litestream's conformance data, kept beside the project (see ../shared/fixtures/litestream/README.md). */
export const litestreamFixtures = path.resolve(projectRoot, "../shared/fixtures/litestream");
