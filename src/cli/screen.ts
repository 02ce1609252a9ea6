/**
 * Drawing a whole screen in place on a terminal, and fitting text to its width. A redraw
 * goes to the top left and overwrites each line, erasing what is left of it and everything
 * below, instead of clearing the screen: a clear (`ESC[2J`) pushes the old screen into the
 * scrollback in many terminals (tmux, VTE), so every live change left a copy of the map there.
 * Every line must fit the width, or it wraps and the screen scrolls after all.
 */

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;
const HAS_SGR = /\x1b\[/;

/** Characters that take a column (colour codes take none). */
export function visibleLength(text: string): number {
  return [...text.replace(SGR, '')].length;
}

/**
 * `text` (which may hold colour codes) broken at spaces into lines of at most `width`
 * columns; a word longer than the width is cut. Each line of `text` is wrapped on its own.
 */
export function wrapText(text: string, width: number, indent = ''): string[] {
  const out: string[] = [];
  const w = Math.max(8, width);
  // An indentation that would leave no room is dropped.
  const pad = indent.length < w / 2 ? indent : '';
  for (const paragraph of text.split('\n')) {
    // Leading spaces are the line's indentation: kept.
    const lead = /^ */.exec(paragraph)![0];
    let line = lead;
    let length = lead.length;
    let first = true;
    for (const word of paragraph.slice(lead.length).split(' ')) {
      const n = visibleLength(word);
      if (!first && length + 1 + n > w) {
        out.push(line);
        line = pad;
        length = pad.length;
      } else if (!first) {
        line += ' ';
        length += 1;
      }
      first = false;
      if (length + n > w && !HAS_SGR.test(word)) {
        // A word wider than the screen (a long id): cut it.
        let rest = word;
        while (length + visibleLength(rest) > w) {
          const room = w - length;
          out.push(line + rest.slice(0, room));
          rest = rest.slice(room);
          line = pad;
          length = pad.length;
        }
        line += rest;
        length += rest.length;
        continue;
      }
      line += word;
      length += n;
    }
    out.push(line);
  }
  return out;
}

/** Rows a line of `length` columns takes, with the cursor after it, on a `width`-column terminal. */
export function rowsTaken(length: number, width: number): number {
  return Math.max(1, Math.floor(length / Math.max(1, width)) + 1);
}

/** The escape sequence that draws `lines` over the screen from its top left, then erases the rest. */
export function drawInPlace(lines: readonly string[]): string {
  return `\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`;
}
