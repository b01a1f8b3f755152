import { fileURLToPath } from "node:url";
import path from "node:path";

/** The project root, whether this runs from the sources or from dist/. */
export const projectRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  fileURLToPath(import.meta.url).includes(`${path.sep}dist${path.sep}`) ? "../../.." : "../..",
);

/** Litestream's conformance data, kept beside the project (see ../shared/fixtures/litestream/README.md). */
export const litestreamFixtures = path.resolve(projectRoot, "../shared/fixtures/litestream");
