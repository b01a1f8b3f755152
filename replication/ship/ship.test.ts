import { test } from "node:test";
import assert from "node:assert/strict";
import { RetryBackoff } from "./backoff.js";
import { LagClock } from "./lag.js";
import { RetentionSchedule } from "./retention-schedule.js";
import { SnapshotSchedule } from "./snapshot-schedule.js";

test("the back-off doubles from the sync interval up to its ceiling, and a success ends it", () => {
  const backoff = new RetryBackoff(100, 500);
  assert.equal(backoff.ready(0), true);
  assert.equal(backoff.fail("down", 0), true, "the first failure is the one to log");
  assert.equal(backoff.retryAt, 100);
  assert.equal(backoff.ready(99), false);
  assert.equal(backoff.ready(100), true);
  assert.equal(backoff.fail("still down", 1000), false);
  assert.equal(backoff.retryAt, 1200);
  backoff.fail("still down", 2000);
  assert.equal(backoff.retryAt, 2400);
  backoff.fail("still down", 3000);
  assert.equal(backoff.retryAt, 3500, "capped");
  assert.equal(backoff.lastError, "still down");
  assert.equal(backoff.succeed(), true, "the recovery is the one to log");
  assert.equal(backoff.lastError, null);
  assert.equal(backoff.ready(0), true);
  assert.equal(backoff.succeed(), false);
  backoff.fail("down again", 5000);
  assert.equal(backoff.retryAt, 5100, "a new run of failures starts from the sync interval");
});

test("a snapshot is due by interval only after something was shipped, by size once the WAL outgrows the database", () => {
  const schedule = new SnapshotSchedule({ intervalMs: 1000, minTriggerBytes: 100, retryDelayMs: 50 });
  schedule.newGeneration(1000, 0);
  assert.equal(schedule.due(1, 5000), null, "idle: nothing shipped since the snapshot");
  schedule.shipped(10, 1000);
  assert.equal(schedule.due(1, 500), null, "the interval has not passed");
  assert.equal(schedule.due(0, 5000), null, "never twice in one WAL index");
  assert.equal(schedule.due(1, 1000), "interval");
  schedule.shipped(1000, 1000);
  assert.equal(schedule.due(1, 10), "WAL larger than the database");
  const covered = schedule.pendingBytes;
  schedule.shipped(5, 1000); // shipped while the snapshot was uploading
  schedule.taken(1, covered, 20);
  assert.equal(schedule.lastIndex, 1);
  assert.equal(schedule.pendingBytes, 5);
  assert.equal(schedule.due(2, 1019), null);
  assert.equal(schedule.due(2, 1020), "interval");
  schedule.failed(1020);
  assert.equal(schedule.due(2, 1069), null, "waits after a failure");
  assert.equal(schedule.due(2, 1070), "interval");
});

test("a small database's snapshot waits for the minimum trigger size", () => {
  const schedule = new SnapshotSchedule({ intervalMs: 1e9, minTriggerBytes: 100, retryDelayMs: 0 }, { index: 3, at: 0 }, 10);
  schedule.shipped(100, 10);
  assert.equal(schedule.due(4, 1), null);
  schedule.shipped(1, 10);
  assert.equal(schedule.due(4, 1), "WAL larger than the database");
});

test("retention runs once per interval and only after an upload; a failure or a new generation makes it due again", () => {
  const retention = new RetentionSchedule(1000);
  assert.equal(retention.take(0), false, "nothing uploaded yet");
  retention.uploaded();
  assert.equal(retention.take(0), true);
  retention.uploaded();
  assert.equal(retention.take(999), false);
  assert.equal(retention.take(1000), true);
  assert.equal(retention.take(5000), false, "idle: no requests");
  retention.failed();
  assert.equal(retention.take(5000), true);
  retention.newGeneration();
  assert.equal(retention.take(5001), true, "a new generation is checked at once");
});

test("the lag counts from the oldest commit not in the replica, through a sync in flight and its failure", () => {
  const lag = new LagClock();
  assert.equal(lag.seconds(10_000), 0);
  lag.committed(1000);
  lag.committed(2000);
  assert.equal(lag.seconds(3000), 2);
  const since = lag.startShipping();
  lag.committed(2500); // committed while the upload is in flight
  assert.equal(lag.seconds(3000), 2, "in flight still counts");
  lag.stillUnshipped(since, 4000);
  assert.equal(lag.seconds(5000), 4, "a failed sync counts from its oldest commit again");
  lag.startShipping();
  lag.shipped();
  assert.equal(lag.seconds(6000), 0);
});
