// Replica URLs, as Litestream and LogPaste's users write them (docs/replication.md, "Replica
// URLs"): s3://bucket/path with Litestream v0.3's provider host forms and query options,
// file:///absolute/dir, or an absolute directory path. A URL means what it says or is an
// error; it is printed only through describeReplicaUrl (redact.ts).

import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileReplicaClient } from "./file/client.js";
import type { ConditionalReplicaClient } from "./client.js";
import {
  BOOLEAN_TEXT, describeReplicaUrl, normalizeEndpoint, REGION_TEXT, splitReplicaUrl, unquoteReplicaUrl, type SplitUrl,
} from "./redact.js";
import { DEFAULT_REGION, parseS3Host } from "./s3/host.js";
import { S3ReplicaClient, type S3Credentials, type S3ReplicaClientOptions } from "./s3/client.js";
import { openAbsReplicaClient } from "./abs/client.js";
import { openGcsReplicaClient } from "./gcs/client.js";
import { openSftpReplicaClient } from "./sftp/client.js";

export { describeReplicaUrl } from "./redact.js";

const ACCEPTED_FORMS =
  "s3://bucket/path[?endpoint=URL&region=REGION&forcePathStyle=true&skipVerify=true], " +
  "s3://BUCKET.s3.REGION.backblazeb2.com/path (and Litestream's other provider hosts: DigitalOcean, Scaleway, Linode, Filebase, BUCKET.localhost:PORT), " +
  'file:///absolute/dir or a directory path starting with "/"';
const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

export type ReplicaLocation =
  | { readonly kind: "file"; readonly dir: string }
  | {
      readonly kind: "s3";
      readonly bucket: string;
      /** "" or a path ending in "/". */
      readonly prefix: string;
      readonly endpoint: string | undefined;
      /** Undefined: an AWS bucket whose region is looked up (as Litestream does). */
      readonly region: string | undefined;
      readonly forcePathStyle: boolean;
      readonly skipVerify: boolean;
    };

export class ReplicaUrlError extends Error {
  override name = "ReplicaUrlError";
}

/** A parse in progress: the unquoted text (for messages) and its parts. */
interface ReplicaUrl {
  readonly text: string;
  readonly split: SplitUrl;
}

function fail(url: string, problem: string): never {
  throw new ReplicaUrlError(`invalid replica URL "${describeReplicaUrl(url)}": ${problem} (accepted: ${ACCEPTED_FORMS})`);
}

function refuseCredentials(url: ReplicaUrl, hint: string): void {
  if (url.split.userinfo === undefined) return;
  fail(url.text, `credentials do not belong in the URL: ${hint} (an "@" that is part of a path is written %40)`);
}

/** Refuses every query key but `accepted`; returns the first value of each. */
function queryOf(url: ReplicaUrl, accepted: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const [name, value] of url.split.query) {
    if (!accepted.includes(name)) {
      fail(url.text, PARAMETER_NAME.test(name) ? `unknown parameter "${name}"` : "an unknown parameter");
    }
    if (!values.has(name)) values.set(name, value);
  }
  return values;
}

function decodedPath(url: ReplicaUrl): string {
  try {
    return decodeURIComponent(url.split.path);
  } catch {
    fail(url.text, "the path has a malformed %-escape");
  }
}

/** The value of the first of `names` given (Litestream's camelCase or kebab-case spelling), or undefined. */
function booleanOf(url: ReplicaUrl, query: Map<string, string>, ...names: string[]): boolean | undefined {
  const name = names.find((n) => query.has(n));
  if (name === undefined) return undefined;
  const value = query.get(name)!;
  if (!BOOLEAN_TEXT.test(value)) fail(url.text, `${name} must be true or false`);
  return value === "true";
}

function parseEndpoint(url: ReplicaUrl, endpoint: string): string {
  if (endpoint.includes("@")) fail(url.text, "the S3 endpoint must not carry credentials: use LITESTREAM_ACCESS_KEY_ID / LITESTREAM_SECRET_ACCESS_KEY");
  return normalizeEndpoint(endpoint) ?? fail(url.text, "the S3 endpoint must be an http:// or https:// URL: scheme://host[:port]");
}

const S3_PARAMETERS = ["endpoint", "region", "forcePathStyle", "force-path-style", "skipVerify", "skip-verify"];

/**
 * Precedence, as in Litestream: the query, then the host form, then the environment.
 * No region anywhere and no endpoint: an AWS bucket, whose region is looked up.
 */
function parseS3Url(url: ReplicaUrl, env: NodeJS.ProcessEnv): ReplicaLocation {
  refuseCredentials(url, "set LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY");
  const query = queryOf(url, S3_PARAMETERS);
  const authority = /^([^:]*)(?::(\d{1,5}))?$/.exec(url.split.authority);
  if (!authority) fail(url.text, "the host must be a bucket name, or one of the provider forms, with an optional :port");
  const host = parseS3Host(authority[1]!.toLowerCase(), authority[2] ?? "");
  const bucket = authority[1]!.slice(0, host.bucket.length);
  if (bucket === "") fail(url.text, "the bucket name is missing");
  if (host.endpoint === undefined && authority[2] !== undefined) {
    fail(url.text, "a port belongs to an endpoint: write ?endpoint=http://host:port (or BUCKET.localhost:port)");
  }
  const region = query.get("region") || undefined;
  if (region !== undefined && !REGION_TEXT.test(region)) fail(url.text, "the region must be letters, digits and dashes, as eu-west-1");
  const queryEndpoint = query.get("endpoint") || undefined;
  const endpointSetting = queryEndpoint ?? host.endpoint ?? (env.LITESTREAM_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || undefined);
  const endpoint = endpointSetting === undefined ? undefined : parseEndpoint(url, endpointSetting);
  const trimmedPath = decodedPath(url).replace(/^\/+|\/+$/g, "");
  return {
    kind: "s3",
    bucket,
    prefix: trimmedPath === "" ? "" : `${trimmedPath}/`,
    endpoint,
    region: region ?? host.region ?? (env.LITESTREAM_REGION || env.AWS_REGION || (endpoint === undefined ? undefined : DEFAULT_REGION)),
    forcePathStyle: booleanOf(url, query, "forcePathStyle", "force-path-style") ?? (host.forcePathStyle || endpoint !== undefined),
    skipVerify: booleanOf(url, query, "skipVerify", "skip-verify") ?? false,
  };
}

function parseFileUrl(url: ReplicaUrl): ReplicaLocation {
  refuseCredentials(url, "a directory replica takes none");
  queryOf(url, []);
  try {
    return { kind: "file", dir: fileURLToPath(url.text) };
  } catch {
    fail(url.text, "a file URL needs an absolute path, as in file:///var/lib/litepaste/replica");
  }
}

/** Each scheme's parser: one row per replica type. */
const PARSERS: Readonly<Record<string, (url: ReplicaUrl, env: NodeJS.ProcessEnv) => ReplicaLocation>> = {
  s3: parseS3Url,
  file: parseFileUrl,
};

export interface ParseOptions {
  /** Told about a URL that was accepted but not as written (surrounding quotes). */
  readonly onWarning?: (message: string) => void;
}

/** The checks every replica URL gets: quotes, emptiness, a path's absoluteness, fragments. */
function readReplicaUrl(raw: string, options: ParseOptions): { value: string; split: SplitUrl | undefined } {
  const { value, quoted } = unquoteReplicaUrl(raw);
  if (value === "") fail(raw, "it is empty");
  if (quoted) {
    options.onWarning?.(
      `the replica URL is wrapped in quotes; using ${describeReplicaUrl(value)} without them, as Litestream's configuration does ` +
        "(docker --env-file and some .env readers keep quotes: leave them out there)",
    );
  }
  const split = splitReplicaUrl(value);
  if (!split && !path.isAbsolute(value)) {
    fail(value, "a directory replica needs an absolute path (a relative one would depend on the working directory), and a URL needs scheme://");
  }
  // Litestream (Go's url.Parse) drops a fragment silently, so a "#" in a path, or a comment
  // pasted after the URL, would point the replica somewhere other than it says.
  if (split?.fragment !== undefined) fail(value, 'a "#" has no place in a replica URL: write it %23 if it is part of the path');
  return { value, split };
}

function locate({ value, split }: { value: string; split: SplitUrl | undefined }, env: NodeJS.ProcessEnv): ReplicaLocation {
  if (!split) return { kind: "file", dir: path.resolve(value) };
  const parse = PARSERS[split.scheme] ?? fail(value, `unsupported scheme "${split.scheme}"`);
  return parse({ text: value, split }, env);
}

/** Where a replica URL points, with the environment's defaults applied; throws ReplicaUrlError. */
export function parseReplicaUrl(raw: string, env: NodeJS.ProcessEnv = process.env, options: ParseOptions = {}): ReplicaLocation {
  return locate(readReplicaUrl(raw, options), env);
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

export interface OpenReplicaOptions extends ParseOptions {
  /** Counts requests by operation (for metrics): S3's, or their equivalents for a directory replica. */
  readonly onRequest?: (operation: string) => void;
}

type Opener<K extends ReplicaLocation["kind"]> = (
  location: Extract<ReplicaLocation, { kind: K }>, description: string, env: NodeJS.ProcessEnv, options: OpenReplicaOptions,
) => ConditionalReplicaClient;

/** Each replica type's client: one row per replica type. */
const OPENERS: { readonly [K in ReplicaLocation["kind"]]: Opener<K> } = {
  file: (location, description, _env, options) => new FileReplicaClient(location.dir, description, options.onRequest),
  s3: (location, description, env, options) => {
    const { credentials, source } = credentialsFrom(env);
    const s3Options: S3ReplicaClientOptions = {
      bucket: location.bucket,
      prefix: location.prefix,
      region: location.region,
      endpoint: location.endpoint,
      forcePathStyle: location.forcePathStyle,
      skipVerify: location.skipVerify,
      credentials,
      credentialsSource: source,
      description,
      onRequest: options.onRequest,
    };
    return new S3ReplicaClient(s3Options);
  },
};

/** Replica types that parse their own URLs (after the checks of readReplicaUrl), each in its own folder. */
type BackendOpener = (url: string, env: NodeJS.ProcessEnv, options: OpenReplicaOptions & { readonly description: string }) => ConditionalReplicaClient;
const BACKENDS: ReadonlyMap<string, BackendOpener> = new Map<string, BackendOpener>([
  ["abs", openAbsReplicaClient],
  ["gcs", openGcsReplicaClient],
  ["sftp", openSftpReplicaClient],
]);

/** The replica type a URL names, as Litestream's listings print it: "file", "s3", "abs", "gcs" or "sftp". */
export function replicaTypeOf(url: string, env: NodeJS.ProcessEnv = process.env): string {
  const read = readReplicaUrl(url, {});
  const scheme = read.split?.scheme ?? "";
  return BACKENDS.has(scheme) ? scheme : locate(read, env).kind;
}

/** A client for the replica at `url`; throws ReplicaUrlError when the URL or the credentials are unusable. */
export function openReplicaClient(url: string, env: NodeJS.ProcessEnv = process.env, options: OpenReplicaOptions = {}): ConditionalReplicaClient {
  const read = readReplicaUrl(url, options);
  const backend = BACKENDS.get(read.split?.scheme ?? "");
  if (backend) return backend(read.value, env, { ...options, description: describeReplicaUrl(read.value) });
  const location = locate(read, env);
  const open = OPENERS[location.kind] as Opener<typeof location.kind>;
  return open(location as never, describeReplicaUrl(url), env, options);
}
