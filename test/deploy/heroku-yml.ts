// heroku.yml read by structure, for the tests. No YAML library is installed yet (the lead is
// asked to add `yaml` from npm; then this becomes a parse() call): this reader takes only
// what heroku.yml may hold here — comments, and sections of `key: value` lines nested by
// two-space indentation — and throws on anything else (flow style, lists, quotes, anchors,
// multi-line values), so a file it cannot read fails the test instead of being misread.

export type HerokuYml = { readonly [key: string]: string | HerokuYml };

export function parseHerokuYml(text: string): HerokuYml {
  const root: Record<string, string | HerokuYml> = {};
  const stack: { indent: number; node: Record<string, string | HerokuYml> }[] = [{ indent: -1, node: root }];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\s+#.*$|^\s*#.*$/, "").trimEnd();
    if (line === "") return;
    const match = /^( *)([A-Za-z0-9_-]+):(?: (.*))?$/.exec(line);
    if (!match || /[[\]{}&*!|>'"]/.test(match[3] ?? "") || match[1]!.length % 2 !== 0) {
      throw new Error(`heroku.yml line ${i + 1} is beyond this reader: ${raw}`);
    }
    const indent = match[1]!.length;
    while (stack.at(-1)!.indent >= indent) stack.pop();
    const parent = stack.at(-1)!;
    if (indent !== parent.indent + 2 && !(parent.indent === -1 && indent === 0)) {
      throw new Error(`heroku.yml line ${i + 1} is indented unexpectedly: ${raw}`);
    }
    const [key, value] = [match[2]!, match[3]?.trim()];
    if (key in parent.node) throw new Error(`heroku.yml line ${i + 1} repeats ${key}`);
    if (value === undefined || value === "") {
      const child: Record<string, string | HerokuYml> = {};
      parent.node[key] = child;
      stack.push({ indent, node: child });
    } else {
      parent.node[key] = value;
    }
  });
  return root;
}
