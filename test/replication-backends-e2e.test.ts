// The start-up restore through the real `litepaste` process with the replica types beyond
// S3 and directories: Azure Blob (Azurite) and SFTP (OpenSSH sshd). Write, stop, lose
// data/, start again: the pastes are back, and no credential reaches /healthz or the log.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { startAzurite, type AzuriteHandle } from "../testkit/azurite.js";
import { startSshd, type SshdHandle } from "../testkit/sshd.js";
import { survivesLosingTheDisk } from "../testkit/disk-loss.js";
import { openReplicaClient } from "../replication/replica/url.js";
import { summarizeReplica } from "../replication/restore.js";
import { freshDir } from "../testkit/scratch.js";

describe("with Azure Blob (Azurite)", () => {
  let azurite: AzuriteHandle;
  let dir: string;
  before(async () => {
    azurite = await startAzurite();
    dir = freshDir("litepaste-e2e-abs");
  });
  after(async () => {
    await azurite?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test("pastes survive losing data/; the replica is Litestream's layout in the container", async () => {
    const url = azurite.url("paste-db");
    await survivesLosingTheDisk({ ...azurite.env, DB_REPLICA_URL: url }, path.join(dir, "data"), [azurite.env.LITESTREAM_AZURE_ACCOUNT_KEY!]);
    const summary = await summarizeReplica(openReplicaClient(url, azurite.env));
    assert.ok(summary.generations.length >= 1);
    for (const g of summary.generations) assert.match(g.id, /^[0-9a-f]{16}$/);
  });
});

describe("with SFTP (OpenSSH sshd)", () => {
  let sshd: SshdHandle;
  let dir: string;
  before(async () => {
    sshd = await startSshd();
    dir = freshDir("litepaste-e2e-sftp");
  });
  after(async () => {
    await sshd?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test("pastes survive losing data/; the replica is Litestream's layout on the server", async () => {
    const url = `${sshd.url("paste-db")}&host-key=${encodeURIComponent(sshd.hostKey)}`;
    await survivesLosingTheDisk({ DB_REPLICA_URL: url }, path.join(dir, "data"), []);
    const summary = await summarizeReplica(openReplicaClient(url, {}));
    assert.ok(summary.generations.length >= 1);
    for (const g of summary.generations) assert.match(g.id, /^[0-9a-f]{16}$/);
  });
});
