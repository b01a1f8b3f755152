// The deployment guides and platform files name real settings, and every guide carries
// what a reader needs without reading another: a well-formed least-privilege policy, the
// bucket, a replication check, a restore drill and the cost arithmetic.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { projectRoot } from "../../testkit/paths.js";

const deploymentDocs = path.join(projectRoot, "docs/deployment");
const guides = ["fly.io.md", "heroku.md", "lightsail.md", "aws-app-runner.md", "aws-ecs.md", "docker.md"];
const read = (file: string) => readFileSync(path.join(projectRoot, file), "utf8");

/** Upper-case words in these files that are not settings. */
const NOT_SETTINGS = new Set([
  // protocols, formats, services and tools
  ...["AWS", "IAM", "ECR", "ECS", "EC2", "SDK", "CLI", "URL", "HTTP", "HTTPS", "TCP", "JSON", "CSS", "CPU", "LTS", "WAL", "API", "VPC", "ARN"],
  // HTTP and S3 request kinds, SQL, signals, Dockerfile instructions, here-document markers
  ...["PUT", "GET", "HEAD", "POST", "LIST", "SELECT", "FROM", "SIGTERM", "SIGKILL", "SIGINT", "HEALTHCHECK", "CMD", "EOF"],
  ...["ENTRYPOINT", "STOPSIGNAL", "EXPOSE", "USER"],
  // the image's name as a placeholder (docker run IMAGE …), Heroku's boot-timeout error code
  ...["IMAGE", "R10"],
  // states printed by Lightsail and App Runner, a MinIO release tag, a file name
  ...["READY", "ACTIVE", "RUNNING", "PAUSED", "RELEASE", "README"],
  // the shell's own variables, and shell variables the guides set for their own commands
  ...["PWD", "HOME", "KEY", "HOST_KEY"],
  // protocols, a TLS version name and an example host kind in the replica guides, a password placeholder
  ...["SFTP", "SSH", "TLS1_2", "NAS", "PASSWORD"],
  // variables of other programs in the compose file
  ...["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"],
  // LogPaste variables the guides mention to say litepaste ignores them
  ...["CREATE_NEW_DB", "SITE_DARK_MODE"],
  // the placeholders of Litestream's replica host forms (s3://BUCKET.s3.REGION.backblazeb2.com/PATH)
  ...["BUCKET", "REGION", "PATH"],
  // a standard AWS credential variable (docs/api.md: "the standard AWS variables")
  "AWS_SESSION_TOKEN",
]);

/** The variable names of docs/api.md's Configuration section. */
function configurationReference(): Set<string> {
  const api = read("docs/api.md");
  const start = api.indexOf("\n## Configuration");
  assert.ok(start >= 0, "docs/api.md has a Configuration section");
  const end = api.indexOf("\n## ", start + 1);
  return new Set(api.slice(start, end === -1 ? undefined : end).match(/\b[A-Z][A-Z0-9_]{2,}\b/g));
}

test("every variable the guides and platform files set or mention is in docs/api.md's configuration reference", () => {
  const reference = configurationReference();
  const files = [...readdirSync(deploymentDocs).filter((f) => f.endsWith(".md")).map((f) => `docs/deployment/${f}`), "docker-compose.yml", "fly.toml", "app.json"];
  const unknown: string[] = [];
  for (const file of files) {
    for (const name of new Set(read(file).match(/\b[A-Z][A-Z0-9_]{2,}\b/g))) {
      if (NOT_SETTINGS.has(name) || reference.has(name)) continue;
      // SITE_* and LITESTREAM_* stand for a family of settings.
      if (name.endsWith("_") && [...reference].some((known) => known.startsWith(name))) continue;
      unknown.push(`${name} (${file})`);
    }
  }
  assert.deepEqual(unknown, [], "not in docs/api.md#configuration: add them there, or fix the name");
});

/** The JSON documents in a guide's shell commands (here-documents and '{"…"}' arguments), shell variables filled in. */
function embeddedJson(guide: string, text: string): { where: string; value: unknown }[] {
  const parse = (where: string, json: string) => {
    try {
      return { where, value: JSON.parse(json.replace(/\$\{?(\w+)\}?/g, "example")) as unknown };
    } catch (err) {
      throw new Error(`${guide}: ${where} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  };
  return [
    ...[...text.matchAll(/cat > (\S+\.json) <<EOF\n([\s\S]*?)\nEOF\n/g)].map((m) => parse(m[1]!, m[2]!)),
    ...[...text.matchAll(/'(\{"[^']*\})'/g)].map((m) => parse(m[1]!.slice(0, 40), m[1]!)),
  ];
}

interface PolicyStatement {
  Effect: string;
  Action: string | string[];
  Resource: string;
  Condition?: { StringLike?: { "s3:prefix"?: string[] } };
}

test("each guide stands alone: bucket, least-privilege policy, a replication check, a restore drill, the cost arithmetic", () => {
  let firstPolicy: unknown;
  for (const guide of guides) {
    const text = read(`docs/deployment/${guide}`);
    const documents = embeddedJson(guide, text); // every embedded JSON document parses
    const policy = documents.find((d) => d.where === "litepaste-replica-policy.json")?.value as { Statement: PolicyStatement[] } | undefined;
    assert.ok(policy, `${guide}: writes the IAM policy`);
    const objects = policy.Statement.find((s) => s.Resource === "arn:aws:s3:::example/litepaste/*");
    assert.ok(objects, `${guide}: object permissions limited to the replica path`);
    for (const action of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]) assert.ok([objects.Action].flat().includes(action), `${guide}: ${action}`);
    const list = policy.Statement.find((s) => s.Action === "s3:ListBucket");
    assert.equal(list?.Resource, "arn:aws:s3:::example", `${guide}: ListBucket on the bucket`);
    assert.ok(list.Condition?.StringLike?.["s3:prefix"]?.every((prefix) => prefix.startsWith("litepaste/")), `${guide}: ListBucket limited to the replica path`);
    assert.ok(policy.Statement.every((s) => s.Effect === "Allow" && !JSON.stringify(s.Action).includes("*")), `${guide}: no wildcard actions`);
    if (firstPolicy === undefined) firstPolicy = policy;
    assert.deepEqual(policy, firstPolicy, `${guide}: the same policy as ${guides[0]}`);

    assert.match(text, /aws s3api create-bucket/, `${guide}: creates the bucket`);
    assert.match(text, /DB_REPLICA_URL/, `${guide}: turns replication on`);
    assert.match(text, /litepaste generations /, `${guide}: checks replication`);
    assert.match(text, /restore -o /, `${guide}: restores to a file`);
    assert.match(text, /## \d*\.? ?Restore drill|### Restore drill/, `${guide}: has a restore drill`);
    assert.match(text, /403 instead of 404/, `${guide}: says why the policy has s3:ListBucket`);
    assert.match(text, /2,592,000/, `${guide}: the month in seconds`);
    assert.match(text, /\$0\.005 per 1,000/, `${guide}: S3's PUT price`);
  }
});

/** Evaluates "2,592,000 / 10" or "86,400 × $0.005 / 1,000" left to right. */
function evaluate(expression: string): number {
  const [first, ...rest] = expression.split(" ");
  let value = Number(first!.replace(/[$,]/g, ""));
  for (let i = 0; i < rest.length; i += 2) {
    const operand = Number(rest[i + 1]!.replace(/[$,]/g, ""));
    value = rest[i] === "×" ? value * operand : value / operand;
  }
  return value;
}

test("every calculation written in the guides adds up", () => {
  const putPrice = 0.005 / 1000;
  let checked = 0;
  for (const file of readdirSync(deploymentDocs).filter((f) => f.endsWith(".md"))) {
    const text = readFileSync(path.join(deploymentDocs, file), "utf8");
    // "8 × 3,600 × 30 / 10 = 86,400", "259,200 × $0.005 / 1,000 = **$1.30**"
    for (const [, expression, stated] of text.matchAll(/(\$?[\d,.]+(?: [×/] \$?[\d,.]+)+) = (?:\*\*)?(\$?[\d,.]+)/g)) {
      const value = evaluate(expression!);
      const claim = Number(stated!.replace(/[$,]/g, ""));
      if (stated!.startsWith("$")) assert.equal(value.toFixed(2), claim.toFixed(2), `${file}: ${expression} = ${stated}`);
      else assert.equal(value, claim, `${file}: ${expression} = ${stated}`);
      checked++;
    }
    // "2,592,000 PUTs = $12.96"
    for (const [claim, puts, dollars] of text.matchAll(/([\d,]+) PUTs = \$([\d.]+)/g)) {
      assert.equal((Number(puts!.replace(/,/g, "")) * putPrice).toFixed(2), dollars, `${file}: ${claim}`);
      checked++;
    }
  }
  assert.ok(checked >= 20, `${checked} calculations found`);
});

test("every guide says at its top which platform documentation it was checked against, and when", () => {
  for (const file of readdirSync(deploymentDocs).filter((f) => f.endsWith(".md"))) {
    const top = readFileSync(path.join(deploymentDocs, file), "utf8").split("\n").slice(0, 12).join(" ");
    const when = /\b[Cc]hecked on (\d{4}-\d{2}-\d{2})\b/.exec(top)?.[1];
    assert.ok(when, `${file}: "Checked on YYYY-MM-DD against …" near its top`);
    assert.ok(!Number.isNaN(Date.parse(when)), `${file}: ${when} is a date`);
    if (file !== "README.md") assert.match(top, /[Cc]hecked on \S+ against \S/, `${file}: names what it was checked against`);
  }
});

test("every guide says what /healthz answers in async mode during a bucket outage: 200 with lastError", () => {
  for (const guide of guides) {
    const text = read(`docs/deployment/${guide}`);
    assert.match(text, /\/healthz/, `${guide}: mentions /healthz`);
    assert.match(text, /lastError/, `${guide}: says that an async-mode outage shows as lastError`);
    // The wrong claim the guides once made: 503 for a bucket outage with no word of sync mode.
    for (const paragraph of text.split(/\n\s*\n/)) {
      if (/503/.test(paragraph) && /(revoked|unreachable bucket|bucket unreachable|bucket outage)/.test(paragraph)) {
        assert.match(paragraph, /sync/, `${guide}: a paragraph gives 503 for a bucket outage without saying it is sync mode only:\n${paragraph}`);
      }
    }
  }
});
