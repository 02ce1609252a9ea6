/**
 * The event ids seen so far, for the audit's duplicate check over millions of events. A ULID
 * (what guichet writes) is kept as three exact numbers in a flat open-addressing table: no
 * string and no object per id stays on the heap, which keeps the garbage collector's work
 * and the memory flat as the log grows. Any other id falls back to a Map.
 */

/** Crockford base-32 digit values by char code (uppercase, without I, L, O, U); -1 otherwise. */
const DIGIT = new Int8Array(128).fill(-1);
'0123456789ABCDEFGHJKMNPQRSTVWXYZ'.split('').forEach((c, i) => (DIGIT[c.charCodeAt(0)] = i));

const LANES = 4; // time (48 bits), randomness (2 × 40 bits), first sequence

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class IdSet {
  private table = new Float64Array((1 << 12) * LANES);
  private mask = (1 << 12) - 1;
  private count = 0;
  private readonly others = new Map<string, number>();
  // Scratch for the decoded id (no allocation per call).
  private t = 0;
  private a = 0;
  private b = 0;

  get size(): number {
    return this.count + this.others.size;
  }

  /** Adds `id`, first seen at `seq` (≥ 1); when it was there already, returns where it was first seen. */
  add(id: string, seq: number): number | undefined {
    if (!this.decode(id)) {
      const first = this.others.get(id);
      if (first === undefined) this.others.set(id, seq);
      return first;
    }
    const found = this.probe();
    const table = this.table;
    if (table[found + 3] !== 0) return table[found + 3];
    table[found] = this.t;
    table[found + 1] = this.a;
    table[found + 2] = this.b;
    table[found + 3] = seq;
    if (++this.count * 2 > this.mask + 1) this.grow();
    return undefined;
  }

  /** The slot (index of its first lane) holding the decoded id, or the empty slot where it goes. */
  private probe(): number {
    const table = this.table;
    const { t, a, b } = this;
    let slot = fmix32((b >>> 0) ^ fmix32((a >>> 0) ^ (t >>> 0))) & this.mask;
    for (;;) {
      const i = slot * LANES;
      if (table[i + 3] === 0 || (table[i] === t && table[i + 1] === a && table[i + 2] === b)) return i;
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const old = this.table;
    this.mask = this.mask * 2 + 1;
    this.table = new Float64Array((this.mask + 1) * LANES);
    for (let i = 0; i < old.length; i += LANES) {
      if (old[i + 3] === 0) continue;
      this.t = old[i]!;
      this.a = old[i + 1]!;
      this.b = old[i + 2]!;
      const j = this.probe();
      this.table[j] = this.t;
      this.table[j + 1] = this.a;
      this.table[j + 2] = this.b;
      this.table[j + 3] = old[i + 3]!;
    }
  }

  /** A canonical ULID as three exact integers (10 + 8 + 8 digits); false for anything else. */
  private decode(id: string): boolean {
    if (id.length !== 26) return false;
    let t = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < 26; i++) {
      const code = id.charCodeAt(i);
      const d = code < 128 ? DIGIT[code]! : -1;
      if (d < 0) return false;
      if (i < 10) t = t * 32 + d;
      else if (i < 18) a = a * 32 + d;
      else b = b * 32 + d;
    }
    this.t = t;
    this.a = a;
    this.b = b;
    return true;
  }
}
