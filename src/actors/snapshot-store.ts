/**
 * Concert snapshots in the snapshot stream: the codec of src/actors/snapshot.ts over the
 * authenticated records of src/events/snapshots.ts.
 */
import { snapshotSubject, type SnapshotStream } from '../events/snapshots.js';
import { decodeSnapshot, encodeSnapshot, type ConcertSnapshot } from './snapshot.js';

export type SnapshotRead = { snapshot: ConcertSnapshot } | { missing: true } | { unusable: string };

export class ConcertSnapshots {
  constructor(private readonly stream: SnapshotStream) {}

  async read(concert: string): Promise<SnapshotRead> {
    const read = await this.stream.read(snapshotSubject(concert));
    if (!('payload' in read)) return read;
    try {
      return { snapshot: decodeSnapshot(new TextDecoder().decode(read.payload)) };
    } catch (err) {
      return { unusable: (err as Error).message };
    }
  }

  async write(snapshot: ConcertSnapshot): Promise<void> {
    await this.stream.write(snapshotSubject(snapshot.state.concert), new TextEncoder().encode(encodeSnapshot(snapshot)));
  }
}
