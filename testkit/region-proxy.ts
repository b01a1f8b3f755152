// A real HTTP proxy on 127.0.0.1 in front of s3rver that makes its bucket live in one
// region, as AWS does: a request signed for another region gets AWS's answer (301
// PermanentRedirect with x-amz-bucket-region), GetBucketLocation names the region (or is
// refused, as for credentials without s3:GetBucketLocation), the rest goes to s3rver.
// s3rver alone cannot play this: it answers every region and an empty location.

import http from "node:http";
import type { AddressInfo } from "node:net";

export interface RegionProxyOptions {
  /** s3rver's http://127.0.0.1:PORT */
  readonly target: string;
  readonly region: string;
  /** What GetBucketLocation answers: the region (default), another constraint ("EU"), or 403. */
  readonly location?: string | "forbidden";
}

export interface RegionProxy {
  readonly endpoint: string;
  /** What it did, in order: "location", "redirect" or "forwarded:<signed region>". */
  readonly log: string[];
  close(): Promise<void>;
}

const SIGNED_REGION = /Credential=[^/]+\/\d{8}\/([^/]+)\//;

export async function startRegionProxy(options: RegionProxyOptions): Promise<RegionProxy> {
  const target = new URL(options.target);
  const log: string[] = [];
  const server = http.createServer((req, res) => {
    const signedRegion = SIGNED_REGION.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const query = new URL(req.url ?? "/", "http://proxy").searchParams;
    if (req.method === "GET" && query.has("location")) {
      log.push("location");
      req.resume();
      if (options.location === "forbidden") {
        res.writeHead(403, { "content-type": "application/xml" });
        res.end("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
        return;
      }
      res.writeHead(200, { "content-type": "application/xml" });
      res.end(`<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${options.location ?? options.region}</LocationConstraint>`);
      return;
    }
    if (signedRegion !== options.region) {
      log.push("redirect");
      req.resume();
      res.writeHead(301, { "content-type": "application/xml", "x-amz-bucket-region": options.region });
      res.end("<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>");
      return;
    }
    log.push(`forwarded:${signedRegion}`);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
