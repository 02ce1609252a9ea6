/**
 * Ids: ULIDs for events (their Nats-Msg-Id), holds and connections. The `ulid` package asks
 * the crypto source for one random byte per character (~100 µs an id, 13 % of the gateway's
 * CPU in a rush); this feeds it from a pooled buffer of cryptographic random bytes instead.
 * Hold ids stay unguessable: they are what lets a connection book its hold.
 */
import { randomFillSync } from 'node:crypto';
import { ulid } from 'ulid';

const pool = new Uint32Array(1024);
let next = pool.length;

/** A number in [0, 1) from the cryptographic pool. */
function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 0x1_0000_0000;
}

export function newId(): string {
  return ulid(undefined, pooledRandom);
}
