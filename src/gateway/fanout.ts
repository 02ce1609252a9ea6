/**
 * Live seat updates: every event applied by the registry (written here or by another
 * gateway) becomes one `EVENT` line for each connection watching its concert (a hold of four
 * seats is four events, so four lines, each with its seat's number and label). The line never
 * carries a person's name or a hold id; the seat's character is `H` for the connection that
 * holds it and `h` for everyone else.
 */
import { occupancy, seatAt, seatChar, type ConcertState } from '../actors/concert.js';
import type { Registry } from '../actors/registry.js';
import type { StoredEvent } from '../events/envelope.js';
import { labelOf } from '../layout.js';
import { formatPush } from './protocol.js';
import type { Session } from './session.js';
import type { WatcherIndex } from './watchers.js';

export class Fanout {
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly watchers: WatcherIndex<Session>,
    private readonly now: () => number = Date.now,
  ) {
    this.unsubscribe = registry.onEvent((event, state) => this.publish(event, state));
  }

  close(): void {
    this.unsubscribe();
  }

  private publish(event: StoredEvent, state: ConcertState): void {
    let others: string | undefined;
    let holderLine: string | undefined;
    const holder = event.type === 'SeatHeld' ? event.data.holder : undefined;
    const watching = this.watchers.watchersOf(event.concert);
    if (!watching) return;
    // A push can drop a slow watcher, which takes it out of this set: deleting from a Set
    // while iterating it is well defined in JavaScript (the rest are still visited).
    for (const session of watching) {
      if (session.id === holder) {
        holderLine ??= this.line(event, state, session.id);
        session.push(holderLine);
      } else {
        others ??= this.line(event, state, undefined);
        session.push(others);
      }
    }
  }

  private line(event: StoredEvent, state: ConcertState, viewer: string | undefined): string {
    const now = this.now();
    const seat = event.data.seat;
    const current = seatAt(state, seat);
    return formatPush('EVENT', {
      concert: event.concert,
      seq: event.seq,
      type: event.type,
      seat,
      label: labelOf(this.registry.layout(event.concert) ?? { capacity: 0, rows: [] }, seat),
      state: current ? seatChar(current, now, viewer) : '.',
      at: event.at,
      ...(event.type === 'SeatHeld' ? { expiresAt: event.data.expiresAt } : {}),
      ...(event.type === 'SeatReleased' ? { reason: event.data.reason } : {}),
      ...occupancy(state, now),
    });
  }
}
