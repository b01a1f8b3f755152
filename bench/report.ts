// docs/benchmarks.md, written only by the runner. Each scenario's section sits between
// markers that carry its goals as JSON, so `--only` can replace some sections, keep the
// others as they were, and still rebuild the summary of every goal.

import type { BenchGoal, BenchTable, ScenarioResult } from "./scenario.js";
import type { RunInfo } from "./lib/machine.js";
import { formatNumber } from "./lib/stats.js";

/** The goal of a figure that is only measured, not held to a target (cold start). */
export const REPORTED = "reported";

function verdict(goal: BenchGoal): string {
  if (goal.goal === REPORTED) return "—";
  return goal.met ? "met" : "**missed**";
}

export interface RunStamp {
  readonly info: RunInfo;
  readonly rounds: number;
  readonly store: string;
}

export interface SectionInput {
  readonly id: string;
  readonly title: string;
  readonly stamp: RunStamp;
  /** Set when the scenario ran to the end. */
  readonly result?: ScenarioResult;
  /** Set when it threw: the section says so and the summary counts it as missed. */
  readonly error?: string;
}

/** What a section's begin marker carries. */
interface SectionMeta {
  readonly id: string;
  readonly title: string;
  readonly goals: readonly BenchGoal[];
  readonly error?: string;
}

export interface Section {
  readonly meta: SectionMeta;
  /** The section's full text, markers included. */
  readonly text: string;
}

const BEGIN = /<!-- bench-section (\{.*?\}) -->\n/g;
const endMarker = (id: string) => `<!-- bench-section-end ${id} -->`;

function cell(value: string | number): string {
  const text = typeof value === "number" ? formatNumber(value) : value;
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function markdownTable(columns: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const line = (cells: ReadonlyArray<string | number>) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(columns), `|${columns.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
}

function stampLine({ info, rounds, store }: RunStamp): string {
  const tree = info.dirty ? ", **uncommitted changes in the tree**" : "";
  return `_Measured ${info.date} at commit \`${info.commit}\`${tree}; ${rounds} rounds; ${info.cores} × ${info.cpu}; store: ${store}._`;
}

function table(t: BenchTable): string {
  return `**${t.caption}**\n\n${markdownTable(t.columns, t.rows)}`;
}

export function renderSection(input: SectionInput): string {
  const meta: SectionMeta = {
    id: input.id,
    title: input.title,
    goals: input.result?.goals ?? [],
    ...(input.error !== undefined ? { error: input.error } : {}),
  };
  // "<" escaped so no text inside can close the comment early.
  const json = JSON.stringify(meta).replace(/</g, "\\u003c").replace(/>/g, "\\u003e");
  const parts = [`<!-- bench-section ${json} -->`, `## ${input.title}`, stampLine(input.stamp)];
  if (input.error !== undefined || !input.result) {
    parts.push(`**The scenario failed:**\n\n\`\`\`\n${input.error ?? "no result"}\n\`\`\``);
  } else {
    const r = input.result;
    parts.push(markdownTable(["setting", "value"], Object.entries(r.settings)));
    if (r.goals.length > 0) {
      parts.push(markdownTable(["goal", "target", "measured", ""], r.goals.map((g) => [g.name, g.goal, g.measured, verdict(g)])));
    }
    parts.push(...r.tables.map(table));
    parts.push(...r.charts.map((c) => `![${c.title}](img/${c.file})`));
    if (r.notes.length > 0) parts.push(r.notes.map((n) => `- ${n}`).join("\n"));
  }
  parts.push(endMarker(input.id));
  return parts.join("\n\n");
}

/** The sections of an existing report, in document order. */
export function parseSections(doc: string): Section[] {
  const sections: Section[] = [];
  for (const match of doc.matchAll(BEGIN)) {
    const meta = JSON.parse(match[1]!) as SectionMeta;
    const end = doc.indexOf(endMarker(meta.id), match.index);
    if (end < 0) throw new Error(`docs/benchmarks.md: the section "${meta.id}" has no end marker; regenerate it with a full run`);
    sections.push({ meta, text: doc.slice(match.index, end + endMarker(meta.id).length) });
  }
  return sections;
}

export function renderHeader(stamp: RunStamp, only: readonly string[] | null, elapsedMs: number): string {
  const { info } = stamp;
  const rows: Array<[string, string]> = [
    ["date", info.date],
    ["commit", `\`${info.commit}\`${info.dirty ? " with uncommitted changes" : " (clean tree)"}`],
    ["machine", `${info.cpu}, ${info.cores} cores, ${formatNumber(info.ramBytes / 2 ** 30, 1)} GiB RAM`],
    ["OS", info.os],
    ["Node", info.node],
    ["SQLite", `${info.sqlite} (better-sqlite3's \`sqlite_version()\`)`],
    ["object store", stamp.store],
    ["rounds", String(stamp.rounds)],
    ["scenarios run", only ? `${only.join(", ")} (the other sections are kept from earlier runs; each says when it was measured)` : "all"],
    ["wall time", `${formatNumber(elapsedMs / 1000, 0)} s`],
  ];
  return `## Last run\n\n${markdownTable(["", ""], rows)}`;
}

function summary(sections: readonly Section[]): string {
  const rows: string[][] = [];
  for (const { meta } of sections) {
    if (meta.error !== undefined) rows.push([meta.title, "—", "—", "the scenario failed", "**missed**"]);
    for (const g of meta.goals) rows.push([meta.title, g.name, g.goal, g.measured, verdict(g)]);
  }
  return `## Summary\n\n${markdownTable(["scenario", "what", "goal", "measured", ""], rows)}`;
}

/** The sections a new report holds: fresh ones replace those with the same id, in registry order. */
export function mergeSections(existing: string | null, fresh: readonly Section[], order: readonly string[]): Section[] {
  const byId = new Map<string, Section>();
  for (const s of existing ? parseSections(existing) : []) byId.set(s.meta.id, s);
  for (const s of fresh) byId.set(s.meta.id, s);
  const rank = (id: string) => (order.includes(id) ? order.indexOf(id) : order.length);
  return [...byId.values()].sort((a, b) => rank(a.meta.id) - rank(b.meta.id));
}

/**
 * The new report: the fresh sections replace those with the same id, the rest are kept;
 * sections appear in `order` (the registry's), unknown ones after them as they were.
 */
export function mergeReport(existing: string | null, header: string, fresh: readonly Section[], order: readonly string[]): string {
  const sections = mergeSections(existing, fresh, order);
  return [
    "# Benchmarks",
    "<!-- Generated by `npm run bench` (bench/run.ts); edits by hand are overwritten. How to run: bench/README.md. -->",
    "Every comparison is a ratio measured in the same run on the same machine; tables give the median with the min–max over the rounds in brackets.",
    header,
    summary(sections),
    ...sections.map((s) => s.text),
  ].join("\n\n") + "\n";
}

const HEADLINE_BEGIN = "<!-- bench-headline: written by npm run bench -->";
const HEADLINE_END = "<!-- bench-headline-end -->";

/**
 * The README's headline block (between its markers) rewritten with every goal of the
 * report; the README unchanged if it has no such block.
 */
export function updateHeadline(readme: string, report: string, machine: string): string {
  const begin = readme.indexOf(HEADLINE_BEGIN);
  const end = readme.indexOf(HEADLINE_END);
  if (begin < 0 || end < begin) return readme;
  const goals = parseSections(report).flatMap(({ meta }) =>
    meta.error !== undefined ? [`- ${meta.title}: the scenario failed`] : meta.goals.map((g) => (g.goal === REPORTED ? `- ${g.name}: ${g.measured}` : `- ${g.name}: ${g.measured}, goal ${g.goal}: ${verdict(g)}`)),
  );
  const block = [HEADLINE_BEGIN, `Measured on ${machine}; details, charts and the bottlenecks found in [docs/benchmarks.md](docs/benchmarks.md).`, "", ...goals, "", ""].join("\n");
  return readme.slice(0, begin) + block + readme.slice(end);
}

export function sectionOf(input: SectionInput): Section {
  const text = renderSection(input);
  return parseSections(text)[0]!;
}
