// How a replica URL is cut into its parts, and the one function that prints it.
//
// Hand-written rather than WHATWG `URL` (or Go's url.Parse, which Litestream uses) on
// purpose: both end the authority at the first "/", "?" or "#", so an operator's raw
// secret such as `s3://AKID:wJalr/K7MDENG@bucket/db` becomes host "AKID:wJalr" and path
// "/K7MDENG@bucket/db" — and the secret is then printed as the path. Here the LAST "@"
// before any `endpoint=` parameter ends the userinfo, whatever characters come before it:
// a secret is always taken for a secret. The price: an "@" in a replica path must be
// written %40 (the parser says so).

import path from "node:path";
import { pathToFileURL } from "node:url";

export const BOOLEAN_TEXT = /^(true|false)$/;
export const REGION_TEXT = /^[A-Za-z0-9-]{1,64}$/;
/** Query keys that never carry a secret, and the shape their printed value must have. */
const PRINTABLE_VALUES: Readonly<Record<string, RegExp>> = {
  region: REGION_TEXT,
  forcePathStyle: BOOLEAN_TEXT,
  "force-path-style": BOOLEAN_TEXT,
  skipVerify: BOOLEAN_TEXT,
  "skip-verify": BOOLEAN_TEXT,
};
/** Schemes whose user name is a name (an SFTP login, an Azure account), not a secret. */
const NAMED_USER_SCHEMES = new Set(["sftp", "abs"]);
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const ENDPOINT_PARAMETER = /[?&]endpoint=/i;
const HOST = /^(?:[A-Za-z0-9._~-]*|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;
const USER_NAME = /^[A-Za-z0-9._~%-]{1,64}$/;
const REDACTED = "REDACTED";

export interface SplitUrl {
  /** Lower-cased. */
  readonly scheme: string;
  /** Everything before the userinfo "@", still percent-encoded; undefined without one. */
  readonly userinfo: string | undefined;
  /** host[:port], as written. */
  readonly authority: string;
  /** As written (percent-encoded), "" or starting with "/". */
  readonly path: string;
  /** Decoded, in order. */
  readonly query: readonly (readonly [string, string])[];
  /** Undefined without a "#". */
  readonly fragment: string | undefined;
}

/**
 * Surrounding whitespace and one pair of matching quotes removed (as Litestream's YAML
 * expansion does to `url: ${DB_REPLICA_URL}`); `quoted` says whether there were quotes.
 */
export function unquoteReplicaUrl(raw: string): { value: string; quoted: boolean } {
  const trimmed = raw.trim();
  const quoted = trimmed.length >= 2 && (trimmed[0] === '"' || trimmed[0] === "'") && trimmed.at(-1) === trimmed[0];
  return { value: quoted ? trimmed.slice(1, -1).trim() : trimmed, quoted };
}

/** The parts of `url` (already unquoted); undefined when it has no `scheme://`. */
export function splitReplicaUrl(url: string): SplitUrl | undefined {
  const scheme = SCHEME.exec(url);
  if (!scheme) return undefined;
  let rest = url.slice(scheme[0].length);
  let userinfo: string | undefined;
  const endpointAt = rest.search(ENDPOINT_PARAMETER);
  const at = (endpointAt < 0 ? rest : rest.slice(0, endpointAt)).lastIndexOf("@");
  if (at >= 0) {
    userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  const hash = rest.indexOf("#");
  const fragment = hash < 0 ? undefined : rest.slice(hash + 1);
  if (hash >= 0) rest = rest.slice(0, hash);
  const question = rest.indexOf("?");
  const query = question < 0 ? "" : rest.slice(question + 1);
  if (question >= 0) rest = rest.slice(0, question);
  const slash = rest.indexOf("/");
  return {
    scheme: scheme[1]!.toLowerCase(),
    userinfo,
    authority: slash < 0 ? rest : rest.slice(0, slash),
    path: slash < 0 ? "" : rest.slice(slash),
    query: [...new URLSearchParams(query)],
    fragment,
  };
}

/**
 * An http(s) endpoint as scheme://host[:port][/path], "https://" added when it has no
 * scheme; undefined when it is not such a URL (userinfo, a query or a fragment included).
 */
export function normalizeEndpoint(value: string): string | undefined {
  try {
    const parsed = new URL(SCHEME.test(value) ? value : `https://${value}`);
    if (parsed.username || parsed.password || parsed.search || parsed.hash || !/^https?:$/.test(parsed.protocol)) return undefined;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, "")}`;
  } catch {
    return undefined;
  }
}

/**
 * An endpoint as printed: its userinfo dropped; REDACTED when the rest is not an
 * endpoint, or when an "@" elsewhere in the query or fragment means a secret may have
 * been cut in two (by an unencoded "&" or "#" inside it).
 */
function printableEndpoint(value: string, split: SplitUrl): string {
  const elsewhere = split.query.some(([k, v]) => k !== "endpoint" && (k.includes("@") || v.includes("@")));
  if (elsewhere || split.fragment?.includes("@")) return REDACTED;
  const scheme = SCHEME.exec(value)?.[0] ?? "";
  const host = value.slice(scheme.length).slice(value.slice(scheme.length).lastIndexOf("@") + 1);
  return normalizeEndpoint(scheme + host) ?? REDACTED;
}

/**
 * THE way a replica URL is printed — in errors, logs, /healthz, CLI output. Drops the
 * userinfo (keeps an SFTP/Azure user name), every query parameter but the few that
 * never carry a secret (an endpoint loses its own userinfo) and the fragment; a part
 * that does not have the shape it should is printed as REDACTED. Never throws.
 */
export function describeReplicaUrl(raw: string): string {
  const { value } = unquoteReplicaUrl(raw);
  const split = splitReplicaUrl(value);
  if (!split) {
    if (path.isAbsolute(value)) return pathToFileURL(value).href;
    // Not a path it can use, so an error will show it: a URL that lost a "/" (s3:/…) may
    // still carry a secret.
    return /[:@?]/.test(value) ? REDACTED : value;
  }
  const user = split.userinfo?.split(":", 1)[0];
  const named = user !== undefined && NAMED_USER_SCHEMES.has(split.scheme) && USER_NAME.test(user) ? `${user}@` : "";
  const authority = HOST.test(split.authority) ? split.authority : REDACTED;
  const query = split.query.flatMap(([key, v]) => {
    if (key === "endpoint") return [`endpoint=${printableEndpoint(v, split)}`];
    return PRINTABLE_VALUES[key]?.test(v) ? [`${key}=${v}`] : [];
  });
  return `${split.scheme}://${named}${authority}${split.path}${query.length > 0 ? `?${query.join("&")}` : ""}`;
}
