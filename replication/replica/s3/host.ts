// The host of an s3:// URL, read as Litestream v0.3 reads it (s3.ParseHost): a few
// providers' host names carry the bucket, endpoint and region; any other host is an AWS
// bucket name. Operators copy these URLs from Litestream's docs and LogPaste's article.

export interface S3Host {
  readonly bucket: string;
  /** The provider's endpoint, with scheme (and the URL's port); undefined for AWS itself. */
  readonly endpoint: string | undefined;
  /** The provider's region; undefined when the host does not name one. */
  readonly region: string | undefined;
  /** Every provider but AWS is addressed path-style. */
  readonly forcePathStyle: boolean;
}

/** Litestream's default for stores that need a region but do not use it (localhost, Filebase). */
export const DEFAULT_REGION = "us-east-1";

interface Provider {
  readonly pattern: RegExp;
  readonly scheme: "http" | "https";
  readonly endpoint: (region: string) => string;
  readonly region?: string;
}

// Litestream's table, in its order (its patterns leave some dots unescaped; these do not).
const PROVIDERS: readonly Provider[] = [
  { pattern: /^(?:(.+)\.)?localhost$/, scheme: "http", endpoint: () => "localhost", region: DEFAULT_REGION },
  { pattern: /^(?:(.+)\.)?s3\.([^.]+)\.backblazeb2\.com$/, scheme: "https", endpoint: (r) => `s3.${r}.backblazeb2.com` },
  { pattern: /^(?:(.+)\.)?s3\.filebase\.com()$/, scheme: "https", endpoint: () => "s3.filebase.com" },
  { pattern: /^(?:(.+)\.)?([^.]+)\.digitaloceanspaces\.com$/, scheme: "https", endpoint: (r) => `${r}.digitaloceanspaces.com` },
  { pattern: /^(?:(.+)\.)?s3\.([^.]+)\.scw\.cloud$/, scheme: "https", endpoint: (r) => `s3.${r}.scw.cloud` },
  { pattern: /^(?:(.+)\.)?([^.]+)\.linodeobjects\.com$/, scheme: "https", endpoint: (r) => `${r}.linodeobjects.com` },
];

/** `hostname` lower-cased, `port` "" when the URL has none. */
export function parseS3Host(hostname: string, port: string): S3Host {
  for (const provider of PROVIDERS) {
    const match = provider.pattern.exec(hostname);
    if (!match) continue;
    const region = provider.region ?? (match[2] || undefined);
    const host = provider.endpoint(region ?? "");
    return {
      bucket: match[1] ?? "",
      endpoint: `${provider.scheme}://${host}${port ? `:${port}` : ""}`,
      region,
      forcePathStyle: true,
    };
  }
  return { bucket: hostname, endpoint: undefined, region: undefined, forcePathStyle: false };
}
