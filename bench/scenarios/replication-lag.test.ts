// How the lag scenario pairs acknowledged pastes with the segment uploads that hold them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { lz4FrameEncode } from "../../replication/lz4/frame.js";
import type { StoreRequest } from "../lib/store-proxy.js";
import { lagsOf } from "./replication-lag.js";

function segmentUpload(offset: number, start: number, end: number, frames: string): StoreRequest {
  const body = lz4FrameEncode(Buffer.from(frames));
  return {
    operation: "PutObject", key: `bench/generations/0123456789abcdef/wal/00000000_${offset.toString(16).padStart(8, "0")}.wal.lz4`,
    bytes: body.byteLength, start, end, status: 200, body,
  };
}

test("a paste's lag ends with the first upload, in time order, whose decoded frames hold its id", () => {
  const requests = [
    segmentUpload(0x2020, 2000, 2010, "page with pasteB and pasteA again"),
    segmentUpload(0x20, 1000, 1015, "page with pasteA"),
    { operation: "ListObjectsV2", key: "", bytes: 0, start: 900, end: 905, status: 200 },
  ];
  const lags = lagsOf(
    [
      { status: 200, id: "pasteA", at: 990, latencyMs: 1 },
      { status: 200, id: "pasteB", at: 1500, latencyMs: 1 },
    ],
    requests,
  );
  assert.deepEqual(lags, [25, 510]);
});

test("a paste no segment holds is an error, not a missing sample", () => {
  assert.throws(
    () => lagsOf([{ status: 200, id: "lost", at: 0, latencyMs: 1 }], [segmentUpload(0x20, 10, 20, "other pages")]),
    /paste lost was acknowledged but no WAL segment holding it reached the store/,
  );
});
