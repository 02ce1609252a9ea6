/**
 * `guichet watch <concert>`: follows a concert's seats live. On a terminal the screen is
 * redrawn in place on every change, like the interactive client's (heading with the counts,
 * the map in rows, a window of them around the last change when the hall does not fit);
 * otherwise (a pipe, --json) the map is printed once and each change appends a line.
 * A lost connection is an error (exit 1), not the end of a watch: Ctrl-C is (exit 130).
 */
import type { SeatEvent } from './client.js';
import { setSeat, type Dialogue, type Seats } from './interactive-dialogue.js';
import { formatSeatScreen } from './interactive-format.js';
import { connectWith, describeEvent, type ClientFlags } from './oneshot.js';
import { renderSeatGrid, useColor } from './render.js';
import { drawInPlace } from './screen.js';

/** Live changes arriving in a burst are drawn once. */
const REDRAW_DELAY_MS = 40;
const FOOTER = 'Watching; Ctrl-C to stop.';

export async function watch(flags: ClientFlags, concert: string, out: NodeJS.WriteStream = process.stdout): Promise<void> {
  const c = await connectWith(flags);
  const initial = await c.request<Seats & { free: number }>('WATCH', concert);
  const color = useColor(out);
  const screen = !flags.json && Boolean(out.isTTY);
  let seats: Seats = { concert: initial.concert, capacity: initial.capacity, map: initial.map, ...(Array.isArray(initial.rows) ? { rows: initial.rows } : {}) };
  let lastChange: string | undefined;
  let focus: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  const draw = () => {
    timer = undefined;
    const d: Dialogue = { concerts: c.hello.concerts, step: { at: 'seat', seats } };
    const { lines } = formatSeatScreen(d, { color, lastChange, notes: [FOOTER], width: out.columns, height: out.rows, focus, movable: false, promptLength: 0 });
    out.write(drawInPlace(lines));
  };

  if (flags.json) out.write(`${JSON.stringify(initial)}\n`);
  else if (screen) draw();
  else out.write(`${concert}: ${initial.free} of ${initial.capacity} free\n${renderSeatGrid(initial.map, { color, rows: seats.rows })}\n${FOOTER}\n`);

  c.on('event', (e: SeatEvent) => {
    if (e.seat >= 1 && e.seat <= seats.capacity) seats = { ...seats, map: setSeat(seats.map, e.seat, e.state) };
    if (!screen) {
      out.write(`${flags.json ? JSON.stringify(e) : describeEvent(e)}\n`);
      return;
    }
    lastChange = describeEvent(e);
    focus = e.seat;
    timer ??= setTimeout(draw, REDRAW_DELAY_MS);
  });
  const onResize = () => void (timer ??= setTimeout(draw, REDRAW_DELAY_MS));
  if (screen) out.on('resize', onResize);
  c.on('notice', (err: Error) => process.stderr.write(`server: ${err.message}\n`));
  let stopping = false;
  // Ended by the user: the exit status says by which signal, as the interactive client's does.
  const stopOn = (code: number) => () => {
    stopping = true;
    process.exitCode = code;
    c.close();
  };
  const onInt = stopOn(130);
  const onTerm = stopOn(143);
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  await c.waitClosed();
  if (timer) clearTimeout(timer);
  out.off('resize', onResize);
  process.off('SIGINT', onInt);
  process.off('SIGTERM', onTerm);
  if (!stopping) throw new Error(`the connection to ${flags.host}:${flags.port} was lost (did the server stop?); not watching any more`);
}
