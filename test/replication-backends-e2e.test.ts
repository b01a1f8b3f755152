// The start-up restore through the real `litepaste` process with the replica types beyond
// S3 and directories: Azure Blob (Azurite) and SFTP (OpenSSH sshd). Write, stop, lose
// data/, start again: the pastes are back, and no credential reaches /healthz or the log.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startAzurite } from "../testkit/azurite.js";
import { startSshd } from "../testkit/sshd.js";
import { survivesLosingTheDisk } from "../testkit/disk-loss.js";
import { useFileServer } from "../testkit/file-server.js";
import { openReplicaClient } from "../replication/replica/url.js";
import { summarizeReplica } from "../replication/restore.js";
import { useScratchDir } from "../testkit/scratch.js";

describe("with Azure Blob (Azurite)", () => {
  const azurite = useFileServer(startAzurite);
  const dir = useScratchDir("litepaste-e2e-abs");

  test("pastes survive losing data/; the replica is Litestream's layout in the container", async () => {
    const url = azurite.url("paste-db");
    await survivesLosingTheDisk({ ...azurite.env, DB_REPLICA_URL: url }, path.join(dir, "data"), [azurite.env.LITESTREAM_AZURE_ACCOUNT_KEY!]);
    const summary = await summarizeReplica(openReplicaClient(url, azurite.env));
    assert.ok(summary.generations.length >= 1);
    for (const g of summary.generations) assert.match(g.id, /^[0-9a-f]{16}$/);
  });
});

describe("with SFTP (OpenSSH sshd)", () => {
  const sshd = useFileServer(startSshd);
  const dir = useScratchDir("litepaste-e2e-sftp");

  test("pastes survive losing data/; the replica is Litestream's layout on the server", async () => {
    const url = `${sshd.url("paste-db")}&host-key=${encodeURIComponent(sshd.hostKey)}`;
    await survivesLosingTheDisk({ DB_REPLICA_URL: url }, path.join(dir, "data"), []);
    const summary = await summarizeReplica(openReplicaClient(url, {}));
    assert.ok(summary.generations.length >= 1);
    for (const g of summary.generations) assert.match(g.id, /^[0-9a-f]{16}$/);
  });
});
