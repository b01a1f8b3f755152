// The URL checks every replica type with its own folder (abs/, gcs/, sftp/) makes the same
// way, so that their errors read alike and never quote a credential.

import { ReplicaUrlError, type OpenReplicaOptions } from "./url.js";

/** What openReplicaClient hands a replica type's opener besides the URL and the environment. */
export interface BackendOpenOptions extends OpenReplicaOptions {
  /** The URL without credentials (see describeReplicaUrl). */
  readonly description: string;
}

export interface BackendUrl {
  readonly url: URL;
  /** The path without leading and trailing slashes, percent-decoding undone. */
  readonly path: string;
  /** Throws a ReplicaUrlError naming the replica by its safe description. */
  invalid(problem: string): never;
}

/**
 * Parses `url` for a replica type whose own parameters are `parameters`; an unknown one is
 * an error (a typo must not silently fall back to a default).
 */
export function parseBackendUrl(url: string, description: string, form: string, parameters: readonly string[]): BackendUrl {
  const invalid = (problem: string): never => {
    throw new ReplicaUrlError(`invalid replica URL "${description}": ${problem} (expected ${form})`);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    invalid("it is not a valid URL");
  }
  for (const name of parsed!.searchParams.keys()) {
    if (!parameters.includes(name)) invalid(`unknown parameter "${name}"`);
  }
  let decodedPath: string;
  try {
    decodedPath = decodeURIComponent(parsed!.pathname);
  } catch {
    invalid("the path is not valid percent-encoding");
  }
  return { url: parsed!, path: decodedPath!.replace(/^\/+|\/+$/g, ""), invalid };
}

/** "" or `path` + "/": the key prefix of a replica inside its bucket or container. */
export function keyPrefix(path: string): string {
  return path === "" ? "" : `${path}/`;
}
