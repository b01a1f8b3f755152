// ANSI SGR escapes (colours, bold, 256-colour, truecolour) to classed spans, one line at a
// time. The parsing is anser's: of the kept libraries it is the one that hands back the
// parsed state (colour names, palette indices, truecolour values, decorations) instead of
// finished HTML, so that escaping and class names stay ours; ansi_up and ansi-to-html write
// `style="…"` attributes for 256-colour and truecolour text, which the viewer's CSP refuses.
//
// A colour set on one line of a log often runs on over the next lines, so one renderer
// lives for the whole paste and its anser instance carries the state from line to line.
// anser applies that carried state only to text after an escape within the same call: the
// text before a line's first escape comes back unstyled, so that first chunk takes the
// instance's state here. Other CSI sequences (cursor moves, erase line) are dropped by
// anser; every other control character is shown as its Unicode control picture.

import Anser from "anser";
import { nearestPaletteIndex } from "./palette.js";

type Chunk = Anser.AnserJsonEntry;

interface AnserState {
  fg: string | null;
  bg: string | null;
  fg_truecolor: string | null;
  bg_truecolor: string | null;
  decorations: string[];
}

export function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// C0 controls but tab, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;

/** Escapes text for HTML and shows control characters as visible, labelled symbols. */
export function visibleText(text: string): string {
  return withControlPictures(escapeText(text));
}

/** Control characters in escaped HTML (where markup never holds one) as visible, labelled symbols. */
export function withControlPictures(html: string): string {
  return html.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    const picture = code < 0x20 ? String.fromCharCode(0x2400 + code) : code === 0x7f ? "\u2421" : "\ufffd";
    const label = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
    return `<span class="ctl" title="${label}">${picture}</span>`;
  });
}

function colourClass(name: string | null, truecolour: string | null, layer: "fg" | "bg"): string | undefined {
  if (name === "ansi-truecolor" && truecolour) {
    const [r = 0, g = 0, b = 0] = truecolour.split(",").map((n) => Number(n.trim()));
    return `ansi-palette-${nearestPaletteIndex(r, g, b)}-${layer}`;
  }
  return name ? `${name}-${layer}` : undefined;
}

function classesOf(chunk: AnserState): string[] {
  const fg = colourClass(chunk.fg, chunk.fg_truecolor, "fg");
  const bg = colourClass(chunk.bg, chunk.bg_truecolor, "bg");
  return [fg, bg, ...chunk.decorations.map((d) => `ansi-${d}`)].filter((c): c is string => c !== undefined);
}

/** Reverse video as anser does it for the chunks it styles: swap the layers, unset ones white on black. */
function reversed(state: AnserState): AnserState {
  if (!state.decorations.includes("reverse")) return state;
  return {
    fg: state.bg ?? "ansi-black",
    bg: state.fg ?? "ansi-white",
    fg_truecolor: state.bg_truecolor,
    bg_truecolor: state.fg_truecolor,
    decorations: state.decorations.filter((d) => d !== "reverse"),
  };
}

export interface RenderedLine {
  readonly html: string;
  /** The text without escapes, for finding log levels. */
  readonly text: string;
}

/** Turns the lines of a paste, in order, into HTML. */
export interface LineRenderer {
  render(line: string): RenderedLine;
}

export class AnsiLineRenderer implements LineRenderer {
  private readonly anser = new Anser();

  render(line: string): RenderedLine {
    if (!line.includes("\x1b[") && !this.styled()) return { html: visibleText(line), text: line };
    const carried = this.state();
    const chunks: Chunk[] = this.anser.ansiToJson(line, { use_classes: true });
    let html = "";
    let text = "";
    chunks.forEach((chunk, i) => {
      if (chunk.content === "") return;
      text += chunk.content;
      const classes = classesOf(i === 0 ? reversed(carried) : (chunk as unknown as AnserState));
      const body = visibleText(chunk.content);
      html += classes.length === 0 ? body : `<span class="${classes.join(" ")}">${body}</span>`;
    });
    return { html, text };
  }

  private state(): AnserState {
    const a = this.anser as unknown as AnserState;
    return { fg: a.fg, bg: a.bg, fg_truecolor: a.fg_truecolor, bg_truecolor: a.bg_truecolor, decorations: [...a.decorations] };
  }

  private styled(): boolean {
    const a = this.state();
    return a.fg !== null || a.bg !== null || a.decorations.length > 0;
  }
}
