// Replica URLs, as Litestream and LogPaste's users write them:
//   s3://bucket/path[?endpoint=URL&region=R&forcePathStyle=true]
//   file:///absolute/dir, or a plain directory path.

import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FileReplicaClient } from "./file/client.js";
import type { ConditionalReplicaClient } from "./client.js";
import { S3ReplicaClient, type S3Credentials, type S3ReplicaClientOptions } from "./s3/client.js";

const ACCEPTED_FORMS = "s3://bucket/path[?endpoint=URL&region=REGION&forcePathStyle=true], file:///absolute/dir or a directory path";
const S3_PARAMETERS = new Set(["endpoint", "region", "forcePathStyle"]);
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

export type ReplicaLocation =
  | { readonly kind: "file"; readonly dir: string }
  | {
      readonly kind: "s3";
      readonly bucket: string;
      /** "" or a path ending in "/". */
      readonly prefix: string;
      readonly endpoint: string | undefined;
      readonly region: string;
      readonly forcePathStyle: boolean;
    };

export class ReplicaUrlError extends Error {
  override name = "ReplicaUrlError";
}

function fail(url: string, problem: string): never {
  throw new ReplicaUrlError(`invalid replica URL "${describeReplicaUrl(url)}": ${problem} (accepted: ${ACCEPTED_FORMS})`);
}

function parseEndpoint(url: string, endpoint: string): string {
  const withScheme = SCHEME.test(endpoint) ? endpoint : `https://${endpoint}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    fail(url, `the S3 endpoint is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") fail(url, "the S3 endpoint must be an http:// or https:// URL");
  if (parsed.username || parsed.password) fail(url, "the S3 endpoint must not carry credentials: use LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY");
  return withScheme.replace(/\/+$/, "");
}

function parseBoolean(url: string, name: string, value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  fail(url, `${name} must be true or false`);
}

/** Where a replica URL points, with the environment's defaults applied; throws ReplicaUrlError. */
export function parseReplicaUrl(url: string, env: NodeJS.ProcessEnv = process.env): ReplicaLocation {
  if (url.trim() === "") fail(url, "it is empty");
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: "file", dir: path.resolve(url) };
  if (scheme === "file") {
    try {
      return { kind: "file", dir: fileURLToPath(url) };
    } catch {
      fail(url, "a file URL needs an absolute path, as in file:///var/lib/litepaste/replica");
    }
  }
  if (scheme !== "s3") fail(url, `unsupported scheme "${scheme}"`);

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail(url, "it is not a valid URL");
  }
  if (parsed.username || parsed.password) {
    fail(url, "credentials do not belong in the URL: set LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY");
  }
  const bucket = decodeURIComponent(parsed.hostname);
  if (bucket === "") fail(url, "the bucket name is missing");
  for (const name of parsed.searchParams.keys()) {
    if (!S3_PARAMETERS.has(name)) fail(url, `unknown parameter "${name}"`);
  }
  const trimmedPath = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, "");
  const endpointSetting = parsed.searchParams.get("endpoint") || env.LITESTREAM_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || undefined;
  const endpoint = endpointSetting === undefined ? undefined : parseEndpoint(url, endpointSetting);
  const forcePathStyle = parsed.searchParams.get("forcePathStyle");
  return {
    kind: "s3",
    bucket,
    prefix: trimmedPath === "" ? "" : `${trimmedPath}/`,
    endpoint,
    region: parsed.searchParams.get("region") || env.LITESTREAM_REGION || env.AWS_REGION || "us-east-1",
    forcePathStyle: forcePathStyle === null ? endpoint !== undefined : parseBoolean(url, "forcePathStyle", forcePathStyle),
  };
}

const USERINFO = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#]*@/;

/**
 * The URL without credentials: safe for logs, messages and /healthz. Drops userinfo and
 * every query parameter but the known S3 ones, in case someone put a secret there. Never throws.
 */
export function describeReplicaUrl(url: string): string {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return url.trim() === "" ? url : pathToFileURL(path.resolve(url)).href;
  const [base = "", query] = url.split(/\?(.*)/s, 2);
  const kept = (query ?? "").split("&").filter((part) => S3_PARAMETERS.has(part.split("=", 1)[0]!) && scheme === "s3");
  const safeQuery = kept.map((part) => {
    const [name, value = ""] = part.split(/=(.*)/s, 2);
    return `${name}=${value.replace(USERINFO, "$1")}`;
  });
  return base.replace(USERINFO, "$1") + (safeQuery.length > 0 ? `?${safeQuery.join("&")}` : "");
}

function credentialsFrom(env: NodeJS.ProcessEnv): { credentials: S3Credentials | undefined; source: string } {
  const pairs = [
    ["LITESTREAM_ACCESS_KEY_ID", "LITESTREAM_SECRET_ACCESS_KEY"],
    ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"],
  ] as const;
  for (const [idName, secretName] of pairs) {
    const accessKeyId = env[idName];
    const secretAccessKey = env[secretName];
    if (!accessKeyId && !secretAccessKey) continue;
    if (!accessKeyId || !secretAccessKey) {
      throw new ReplicaUrlError(`${accessKeyId ? idName : secretName} is set but ${accessKeyId ? secretName : idName} is not: set both`);
    }
    const sessionToken = idName === "AWS_ACCESS_KEY_ID" ? env.AWS_SESSION_TOKEN || undefined : undefined;
    return {
      credentials: sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey },
      source: `${idName} / ${secretName}`,
    };
  }
  return { credentials: undefined, source: "the AWS credential chain (profile, SSO or instance role)" };
}

export interface OpenReplicaOptions {
  /** Counts requests by operation (for metrics): S3's, or their equivalents for a directory replica. */
  readonly onRequest?: (operation: string) => void;
}

/** A client for the replica at `url`; throws ReplicaUrlError when the URL or the credentials are unusable. */
export function openReplicaClient(url: string, env: NodeJS.ProcessEnv = process.env, options: OpenReplicaOptions = {}): ConditionalReplicaClient {
  const location = parseReplicaUrl(url, env);
  const description = describeReplicaUrl(url);
  if (location.kind === "file") return new FileReplicaClient(location.dir, description, options.onRequest);
  const { credentials, source } = credentialsFrom(env);
  const s3Options: S3ReplicaClientOptions = {
    bucket: location.bucket,
    prefix: location.prefix,
    region: location.region,
    endpoint: location.endpoint,
    forcePathStyle: location.forcePathStyle,
    credentials,
    credentialsSource: source,
    description,
    onRequest: options.onRequest,
  };
  return new S3ReplicaClient(s3Options);
}
