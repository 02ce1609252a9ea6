/** Reads a concert's events back from the stream and folds them with the real `evolve`, checking the rules. */
import { evolve, initialState, type ConcertState } from '../../src/actors/concert.js';
import { EventStore } from '../../src/events/store.js';
import type { NatsConnection } from '@nats-io/transport-node';

export interface FoldResult {
  events: number;
  byType: Record<string, number>;
  booked: number;
  /** Rule breaks found while folding (a seat booked twice, a booking without its hold…). */
  violations: string[];
  state: ConcertState;
}

export async function foldConcert(nc: NatsConnection, concert: string, capacity: number): Promise<FoldResult> {
  const store = await EventStore.open(nc);
  const untilSeq = await store.lastSeqOf(concert);
  const events = untilSeq === 0 ? [] : await store.readUntil({ concert, untilSeq });
  let state = initialState(concert, capacity);
  const byType: Record<string, number> = {};
  const violations: string[] = [];
  for (const e of events) {
    byType[e.type] = (byType[e.type] ?? 0) + 1;
    const seat = state.seats[e.data.seat - 1];
    if (!seat) violations.push(`seq ${e.seq}: no seat ${e.data.seat}`);
    else if (e.type === 'SeatHeld' && seat.kind !== 'free' && !(seat.kind === 'held' && seat.expiresAt <= Date.parse(e.at))) {
      violations.push(`seq ${e.seq}: seat ${e.data.seat} held while ${seat.kind}`);
    } else if (e.type === 'SeatBooked' && !(seat.kind === 'held' && seat.hold === e.data.hold)) {
      violations.push(`seq ${e.seq}: seat ${e.data.seat} booked without its hold (${seat.kind})`);
    }
    state = evolve(state, e);
  }
  const booked = state.seats.filter((s) => s.kind === 'booked').length;
  return { events: events.length, byType, booked, violations, state };
}
