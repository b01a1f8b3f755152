// Secrets as operators paste them into replica URLs, and a search for any trace of them in
// what litepaste printed. A trace is the secret, its percent-encoded forms, or any of its
// runs of letters and digits: a secret cut in two by a parser still shows up.

/** An AWS-style secret (with "/" and "+"), and one with every character that trips URL parsers. */
export const SECRETS = ["wJalr/K7MDENG+bPxRfiCYEXAMPLEKEY", "Zq7/Vx9#Wm3?Kp5%Rt2@Hn4:Jd6&Lb8"] as const;

/** Replica URLs that carry `secret` in every place one can be put, raw and percent-encoded. */
export function urlsCarrying(secret: string, endpoint = "http://127.0.0.1:9"): string[] {
  const encoded = encodeURIComponent(secret);
  const endpointHost = endpoint.replace(/^https?:\/\//, "");
  return [
    `s3://AKIAEXAMPLE:${secret}@bucket/db?endpoint=${endpoint}`,
    `s3://AKIAEXAMPLE:${encoded}@bucket/db?endpoint=${endpoint}`,
    `s3://bucket/db?endpoint=http://user:${secret}@${endpointHost}`,
    `s3://bucket/db?endpoint=${encodeURIComponent(`http://user:${secret}@${endpointHost}`)}`,
    `s3://bucket/db?endpoint=${encodeURIComponent(encodeURIComponent(`http://user:${secret}@${endpointHost}`))}`,
    `s3://bucket/db?endpoint=${endpoint}&secretAccessKey=${secret}`,
    `s3://bucket/db?endpoint=${endpoint}&secretAccessKey=${encoded}`,
    `s3://bucket/db?endpoint=${endpoint}#${secret}`,
    `s3:/AKIAEXAMPLE:${secret}@bucket/db`,
    `"s3://AKIAEXAMPLE:${secret}@bucket/db?endpoint=${endpoint}"`,
    `sftp://user:${secret}@127.0.0.1:22/db`,
    `file://user:${encoded}@/tmp/replica`,
  ];
}

/** Every trace of `secret` in `text`; empty when there is none. */
export function tracesOf(secret: string, text: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), encodeURIComponent(encodeURIComponent(secret)), encodeURI(secret)]);
  for (const run of secret.match(/[A-Za-z0-9]{3,}/g) ?? []) forms.add(run);
  return [...forms].filter((form) => text.includes(form));
}
