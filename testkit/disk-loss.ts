// The operator's disaster, as one helper every replica type's end-to-end test runs: upload
// through a real `litepaste` process, stop, lose the data directory, start again from the
// replica alone, and find every paste.

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { serveCli } from "./litepaste-process.js";

/** PUTs each body in turn; the paste ids. */
export async function uploadBodies(url: string, bodies: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const body of bodies) {
    const res = await fetch(`${url}/`, { method: "PUT", body });
    assert.equal(res.status, 200);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

export async function assertServed(url: string, ids: string[], bodies: string[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    const res = await fetch(`${url}/${id}`);
    assert.equal(res.status, 200, `paste ${id}`);
    assert.equal(await res.text(), bodies[i]);
  }
}

/**
 * Upload, stop cleanly, delete data/, start again from the replica alone — twice, so that
 * writes after a restore are shown to replicate too. `secrets` must appear nowhere in /healthz.
 */
export async function survivesLosingTheDisk(env: NodeJS.ProcessEnv, dataDir: string, secrets: readonly string[]): Promise<string[]> {
  const dbPath = path.join(dataDir, "store.db");
  const bodies = ["first paste\n", "second paste\r\n", "third: \u00e9\u00e8 \u2603\n"];
  const first = await serveCli({ ...env, DB_PATH: dbPath });
  const ids = await uploadBodies(first.url, bodies);
  assert.equal(await first.stop(), 0, first.output());

  rmSync(dataDir, { recursive: true, force: true });
  const second = await serveCli({ ...env, DB_PATH: dbPath });
  try {
    assert.match(second.output(), /restored the database from the replica/);
    await assertServed(second.url, ids, bodies);
    const health = (await (await fetch(`${second.url}/healthz`)).json()) as { status: string; replication: { target: string } };
    assert.equal(health.status, "ok");
    for (const secret of secrets) assert.ok(!JSON.stringify(health).includes(secret), "no credentials in /healthz");
    const more = await uploadBodies(second.url, ["after the restore\n"]);
    assert.equal(await second.stop(), 0, second.output());
    rmSync(dataDir, { recursive: true, force: true });
    const third = await serveCli({ ...env, DB_PATH: dbPath });
    await assertServed(third.url, [...ids, ...more], [...bodies, "after the restore\n"]);
    assert.equal(await third.stop(), 0);
  } finally {
    second.child.kill("SIGKILL");
  }
  return ids;
}
