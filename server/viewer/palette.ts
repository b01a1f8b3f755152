// The xterm 256-colour palette, as classes. The viewer's Content-Security-Policy allows no
// inline style, so every colour a log can ask for must be a class of a stylesheet served
// from our origin: colours 0-15 are themed in web/static/viewer/viewer.css (they follow
// light/dark), 16-255 are fixed values generated here, and truecolour (38;2;r;g;b) is
// quantised to the nearest of them. The alternative, a nonce'd per-page <style> with one
// rule per distinct colour, would keep exact colours but put paste-derived text into a
// style element; 240 fixed colours lose little for a log, and the sheet is the same for
// every paste.

/** The six levels of each channel in xterm's 6×6×6 colour cube (16-231). */
const CUBE_LEVELS = [0, 95, 135, 175, 215, 255] as const;

/** The RGB value of a palette colour from 16 to 255. */
export function paletteRgb(index: number): readonly [number, number, number] {
  if (index >= 232) {
    const grey = 8 + (index - 232) * 10;
    return [grey, grey, grey];
  }
  const i = index - 16;
  return [CUBE_LEVELS[Math.floor(i / 36)]!, CUBE_LEVELS[Math.floor(i / 6) % 6]!, CUBE_LEVELS[i % 6]!];
}

function nearestLevel(value: number): number {
  let best = 0;
  for (let i = 1; i < CUBE_LEVELS.length; i++) {
    if (Math.abs(CUBE_LEVELS[i]! - value) < Math.abs(CUBE_LEVELS[best]! - value)) best = i;
  }
  return best;
}

function distance(a: readonly number[], b: readonly number[]): number {
  return (a[0]! - b[0]!) ** 2 + (a[1]! - b[1]!) ** 2 + (a[2]! - b[2]!) ** 2;
}

/** The palette colour (16-255) closest to an RGB value: the nearest cube colour or the nearest grey. */
export function nearestPaletteIndex(r: number, g: number, b: number): number {
  const cube = 16 + 36 * nearestLevel(r) + 6 * nearestLevel(g) + nearestLevel(b);
  const average = (r + g + b) / 3;
  const grey = 232 + Math.min(23, Math.max(0, Math.round((average - 8) / 10)));
  const rgb = [r, g, b];
  return distance(paletteRgb(grey), rgb) < distance(paletteRgb(cube), rgb) ? grey : cube;
}

/** `.ansi-palette-N-fg` and `-bg` for N from 16 to 255: the sheet served at VIEWER_PALETTE_PATH. */
export function paletteCss(): string {
  const rules: string[] = [];
  for (let i = 16; i < 256; i++) {
    const rgb = `rgb(${paletteRgb(i).join(",")})`;
    rules.push(`.ansi-palette-${i}-fg{color:${rgb}}`, `.ansi-palette-${i}-bg{background-color:${rgb}}`);
  }
  return `${rules.join("\n")}\n`;
}
