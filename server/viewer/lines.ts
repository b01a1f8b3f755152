// A paste's text as lines, without building an array of 50,000 strings first.

/** Each line without its end (\n or \r\n); a final newline does not start another line. */
export function* splitLines(text: string): Generator<string> {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    yield text.slice(start, end > start && text[end - 1] === "\r" ? end - 1 : end);
    start = end + 1;
  }
}

export function countLines(text: string): number {
  let count = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) count++;
  return text.length > 0 && !text.endsWith("\n") ? count + 1 : count;
}
