/**
 * Which concert each booking reference belongs to, and which references were ever issued.
 * `LOOKUP` and `CANCEL` are given a reference and no concert, so the gateway keeps this index
 * of every booking it has seen (from snapshots, the start-up replay and live events) instead
 * of scanning every concert's seats.
 */
import type { StoredEvent } from '../events/envelope.js';
import type { ConcertSnapshot } from './snapshot.js';

export class ReferenceIndex {
  /** Reference → concert, for every live booking. */
  private readonly live = new Map<string, string>();
  /**
   * Per concert, the references of its cancelled bookings. A reference is never issued twice
   * (the audit holds the log to it): a new one must avoid these as well as the live ones.
   */
  private readonly cancelled = new Map<string, Set<string>>();

  /** Takes in the bookings and cancelled references a concert's snapshot holds. */
  seed(snapshot: ConcertSnapshot): void {
    const concert = snapshot.state.concert;
    for (const seat of snapshot.state.seats) if (seat.kind === 'booked') this.live.set(seat.reference, concert);
    this.cancelled.set(concert, new Set(snapshot.cancelledReferences));
  }

  /** Keeps the index in step with an event folded into its concert's state. */
  note(event: StoredEvent): void {
    if (event.type === 'SeatBooked') this.live.set(event.data.reference, event.concert);
    if (event.type === 'BookingCancelled') {
      this.live.delete(event.data.reference);
      let cancelled = this.cancelled.get(event.concert);
      if (!cancelled) this.cancelled.set(event.concert, (cancelled = new Set()));
      cancelled.add(event.data.reference);
    }
  }

  /** The concert of a live booking, if known. */
  concertOf(reference: string): string | undefined {
    return this.live.get(reference);
  }

  /** Whether a reference was ever issued (live or cancelled), as far as this index has seen. */
  isTaken(reference: string): boolean {
    if (this.live.has(reference)) return true;
    for (const cancelled of this.cancelled.values()) if (cancelled.has(reference)) return true;
    return false;
  }

  /** The references of a concert's cancelled bookings, as a snapshot records them. */
  cancelledOf(concert: string): string[] {
    return [...(this.cancelled.get(concert) ?? [])];
  }
}
