// Just enough of the Dockerfile syntax to read our own Dockerfile: instructions (with
// backslash continuations joined, comments dropped), grouped into build stages.

export interface Instruction {
  /** Upper-cased: FROM, RUN, COPY… */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  readonly args: string;
}

export interface Stage {
  /** The `AS name`, or the stage's position when it has none. */
  readonly name: string;
  /** The image reference after FROM, with global ARGs substituted. */
  readonly from: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  readonly globalArgs: ReadonlyMap<string, string>;
  readonly stages: readonly Stage[];
}

function logicalLines(text: string): string[] {
  const lines: string[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    // Inside a continued instruction Docker skips comment and empty lines too.
    if (pending !== "" && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    lines.push(`${pending}${line}`.trim());
    pending = "";
  }
  if (pending !== "") throw new Error(`the Dockerfile ends inside a continued line: ${pending}`);
  return lines;
}

export function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string>();
  const stages: { name: string; from: string; instructions: Instruction[] }[] = [];
  for (const line of logicalLines(text)) {
    const match = /^(\S+)\s*(.*)$/s.exec(line)!;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]! };
    if (instruction.keyword === "FROM") {
      const [image = "", as, name] = instruction.args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_all, braced: string | undefined, bare: string | undefined) => {
        const arg = (braced ?? bare)!;
        const value = globalArgs.get(arg);
        if (value === undefined) throw new Error(`FROM ${image} uses ARG ${arg}, which has no default before the first FROM`);
        return value;
      });
      stages.push({ name: as?.toUpperCase() === "AS" && name ? name : String(stages.length), from, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== "ARG") throw new Error(`${instruction.keyword} before the first FROM`);
      const [argName = "", value = ""] = instruction.args.split(/=(.*)/s, 2);
      globalArgs.set(argName.trim(), value.trim().replace(/^"(.*)"$/, "$1"));
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** The stage called `name`; throws naming the stages there are. */
export function stageNamed(dockerfile: Dockerfile, name: string): Stage {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (!stage) throw new Error(`no stage "${name}" in the Dockerfile (stages: ${dockerfile.stages.map((s) => s.name).join(", ")})`);
  return stage;
}

/** The instructions of a stage with this keyword. */
export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

export interface CopyInstruction {
  /** The stage named by --from, or null for the build context. */
  readonly fromStage: string | null;
  readonly sources: readonly string[];
  readonly destination: string;
}

/** A COPY's --from, sources and destination (other flags, such as --chown, are ignored). */
export function parseCopy(instruction: Instruction): CopyInstruction {
  const words = instruction.args.split(/\s+/);
  let fromStage: string | null = null;
  while (words[0]?.startsWith("--")) {
    const flag = words.shift()!;
    if (flag.startsWith("--from=")) fromStage = flag.slice("--from=".length);
  }
  const destination = words.pop();
  if (destination === undefined || words.length === 0) throw new Error(`COPY needs a source and a destination: COPY ${instruction.args}`);
  return { fromStage, sources: words, destination };
}
