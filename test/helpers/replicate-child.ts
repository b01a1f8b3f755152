// `litepaste replicate` in a child process of its own, as a test's "other process".

import { runReplicate } from "../../replication/replicate-command.js";

const code = await runReplicate(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
process.exit(code);
