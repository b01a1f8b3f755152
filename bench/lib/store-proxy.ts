// An HTTP proxy in front of an S3 endpoint that records every request the store receives:
// its S3 operation, key, bytes sent and when it started and ended. Pointing litepaste's
// replica endpoint at it measures what replication costs and when segments land, from the
// store's side, without anything from litepaste's code.
//
// The Host header is forwarded unchanged, so SigV4 signatures stay valid for stores that
// serve any host name (s3rver, MinIO); path-style requests only (what litepaste sends to a
// custom endpoint).

import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { describeReplicaUrl, parseReplicaUrl } from "../../replication/replica/url.js";
import { epochNow } from "./stats.js";

export interface StoreRequest {
  /** S3 operation, e.g. PutObject, ListObjectsV2, DeleteObjects. */
  readonly operation: string;
  /** Object key inside the bucket ("" for bucket-level requests). */
  readonly key: string;
  /** Request body bytes. */
  readonly bytes: number;
  /** Epoch milliseconds (fractional) when the request arrived and when its answer was sent. */
  readonly start: number;
  readonly end: number;
  readonly status: number;
  /** The request body, kept only when `keepBody` asked for it. */
  readonly body?: Buffer;
}

export interface StoreProxy {
  /** http://127.0.0.1:PORT, for `?endpoint=` in a replica URL. */
  readonly endpoint: string;
  /** Every finished request, in the order they finished. */
  readonly requests: StoreRequest[];
  close(): Promise<void>;
}

export interface StoreProxyOptions {
  /** Keep the body of requests it returns true for (e.g. WAL segment uploads). */
  readonly keepBody?: (operation: string, key: string) => boolean;
}

/** The S3 operation of a path-style request. */
export function classifyS3Request(method: string, url: URL, headers: http.IncomingHttpHeaders): { operation: string; key: string } {
  const [, , ...rest] = url.pathname.split("/");
  const key = decodeURIComponent(rest.join("/"));
  const q = url.searchParams;
  const onObject = key !== "";
  switch (method) {
    case "GET":
      if (!onObject) return { operation: q.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects", key };
      return { operation: q.has("uploadId") ? "ListParts" : "GetObject", key };
    case "HEAD":
      return { operation: onObject ? "HeadObject" : "HeadBucket", key };
    case "PUT":
      if (!onObject) return { operation: "CreateBucket", key };
      if (q.has("uploadId")) return { operation: "UploadPart", key };
      return { operation: headers["x-amz-copy-source"] ? "CopyObject" : "PutObject", key };
    case "POST":
      if (q.has("delete")) return { operation: "DeleteObjects", key };
      if (q.has("uploads")) return { operation: "CreateMultipartUpload", key };
      if (q.has("uploadId")) return { operation: "CompleteMultipartUpload", key };
      return { operation: "PostObject", key };
    case "DELETE":
      return { operation: q.has("uploadId") ? "AbortMultipartUpload" : onObject ? "DeleteObject" : "DeleteBucket", key };
    default:
      return { operation: method, key };
  }
}

export function startStoreProxy(upstream: string, options: StoreProxyOptions = {}): Promise<StoreProxy> {
  const target = new URL(upstream);
  const send = target.protocol === "https:" ? https.request : http.request;
  const requests: StoreRequest[] = [];
  const server = http.createServer((req, res) => {
    const start = epochNow();
    const url = new URL(req.url ?? "/", "http://proxy");
    const { operation, key } = classifyS3Request(req.method ?? "GET", url, req.headers);
    const keep = options.keepBody?.(operation, key) ?? false;
    const chunks: Buffer[] = [];
    let bytes = 0;
    let status = 0;
    const upstreamReq = send(
      { protocol: target.protocol, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (upstreamRes) => {
        status = upstreamRes.statusCode ?? 0;
        res.writeHead(status, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (keep) chunks.push(chunk);
    });
    req.pipe(upstreamReq);
    res.on("finish", () => {
      requests.push({ operation, key, bytes, start, end: epochNow(), status, ...(keep ? { body: Buffer.concat(chunks) } : {}) });
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Requests counted by operation, e.g. { PutObject: 12, ListObjectsV2: 1 }. */
export function countByOperation(requests: readonly StoreRequest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) counts[r.operation] = (counts[r.operation] ?? 0) + 1;
  return counts;
}

/** `url` (a replica URL of the bench store) with its requests sent through `proxy`. */
export function replicaUrlVia(proxy: StoreProxy, url: string): string {
  const proxied = new URL(url);
  proxied.searchParams.set("endpoint", proxy.endpoint);
  proxied.searchParams.set("forcePathStyle", "true");
  return proxied.href;
}

/** The S3 endpoint of a bench store's replica URL, which the proxy forwards to. */
export function storeEndpoint(url: string, env: Readonly<Record<string, string>>): string {
  const location = parseReplicaUrl(url, env);
  if (location.kind !== "s3" || location.endpoint === undefined) {
    throw new Error(
      `counting store requests needs an S3-compatible endpoint (s3rver, MinIO) in front of which a proxy can sit; ${describeReplicaUrl(url)} has none`,
    );
  }
  return location.endpoint;
}

/** Resolves once a finished request matches `predicate`; rejects after `timeoutMs`. */
export async function waitForStoreRequest(proxy: StoreProxy, what: string, predicate: (r: StoreRequest) => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!proxy.requests.some(predicate)) {
    if (Date.now() > deadline) throw new Error(`the store did not receive ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function isWalSegmentPut(r: StoreRequest): boolean {
  return r.operation === "PutObject" && r.status === 200 && /\/wal\/[0-9a-f]{8,16}_[0-9a-f]{8,16}\.wal\.lz4$/.test(r.key);
}

export function isSnapshotUpload(r: StoreRequest): boolean {
  return /\/snapshots\/[0-9a-f]{8,16}\.snapshot\.lz4$/.test(r.key) && r.status === 200 && (r.operation === "PutObject" || r.operation === "CompleteMultipartUpload");
}
