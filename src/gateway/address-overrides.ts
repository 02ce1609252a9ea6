/**
 * Per-address limits of known shared addresses: a school, an office, a mobile operator's NAT
 * puts hundreds of honest people behind one address, where the defaults (32 seats, 256
 * connections) are meant for one household. An operator lists those networks as CIDRs with
 * their own limits (`--address-limits <file>`); every address inside one gets those limits,
 * each address its own budget, as any address has (a network is not pooled into one count:
 * the limits are still counted per address key, address.ts).
 *
 * The file is a JSON array of `{ "cidr": "10.0.0.0/8", "maxSeats": 512, "maxConnections":
 * 4096, "maxWatchers": 512 }`; a missing limit keeps the gateway's own. The most specific CIDR
 * that contains an address wins. IPv6 addresses are counted by /64, so an IPv6 CIDR may be
 * at most a /64: a longer prefix names part of a key, which cannot be told apart.
 */
import { readFileSync } from 'node:fs';
import { ipv6Groups } from './address.js';

/** One entry of the file. */
export interface AddressOverride {
  cidr: string;
  maxSeats?: number;
  maxConnections?: number;
  maxWatchers?: number;
}

/** The limits an override may change (names as in AddressLimitOptions). */
export interface OverriddenLimits {
  maxSeatsHeld?: number;
  maxConnections?: number;
  maxWatchers?: number;
}

const LIMIT_FIELDS = ['maxSeats', 'maxConnections', 'maxWatchers'] as const;
const MAX_LIMIT = 1_000_000;

interface Network {
  family: 4 | 6;
  /** The network's bits, as a bigint of 32 (IPv4) or 64 (the IPv6 /64 prefix) bits. */
  bits: bigint;
  prefix: number;
  limits: OverriddenLimits;
}

/** Reads and checks the file; throws an Error naming the file and the entry that is wrong. */
export function readAddressOverrides(file: string): AddressOverride[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--address-limits ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`--address-limits ${file}: not JSON (${(err as Error).message})`);
  }
  try {
    return checkAddressOverrides(value);
  } catch (err) {
    throw new Error(`--address-limits ${file}: ${(err as Error).message}`);
  }
}

/** Checks a parsed list (the file's content); throws an Error saying which entry is wrong and why. */
export function checkAddressOverrides(value: unknown): AddressOverride[] {
  if (!Array.isArray(value)) throw new Error('expected a JSON array of { "cidr": …, "maxSeats": …, "maxConnections": …, "maxWatchers": … }');
  const seen = new Map<string, number>();
  return value.map((entry: unknown, i) => {
    const where = `entry ${i + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${where}: expected an object, not ${JSON.stringify(entry)}`);
    const record = entry as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key !== 'cidr' && !(LIMIT_FIELDS as readonly string[]).includes(key)) {
        throw new Error(`${where}: unknown field ${JSON.stringify(key)} (known: cidr, ${LIMIT_FIELDS.join(', ')})`);
      }
    }
    if (typeof record['cidr'] !== 'string') throw new Error(`${where}: "cidr" is missing or not a string`);
    const network = parseCidr(record['cidr'], where);
    const canonical = `${network.family}/${network.bits}/${network.prefix}`;
    const earlier = seen.get(canonical);
    if (earlier !== undefined) throw new Error(`${where}: ${record['cidr']} is the network of entry ${earlier} again`);
    seen.set(canonical, i + 1);
    const override: AddressOverride = { cidr: record['cidr'] };
    for (const field of LIMIT_FIELDS) {
      const n = record[field];
      if (n === undefined) continue;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
        throw new Error(`${where} (${record['cidr']}): "${field}" must be a whole number from 1 to ${MAX_LIMIT}, not ${JSON.stringify(n)}`);
      }
      override[field] = n;
    }
    if (LIMIT_FIELDS.every((f) => override[f] === undefined)) {
      throw new Error(`${where} (${record['cidr']}): gives no limit (${LIMIT_FIELDS.join(', ')})`);
    }
    return override;
  });
}

/** Which override applies to an address key (address.ts), the most specific first. */
export class AddressOverrides {
  private readonly networks: Network[];
  /** Key → its limits (or none): an address asks at every HOLD and connection. Bounded. */
  private readonly cache = new Map<string, OverriddenLimits | undefined>();

  constructor(overrides: readonly AddressOverride[] = []) {
    this.networks = checkAddressOverrides(overrides)
      .map((o) => ({
        ...parseCidr(o.cidr, o.cidr),
        limits: {
          ...(o.maxSeats !== undefined ? { maxSeatsHeld: o.maxSeats } : {}),
          ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
          ...(o.maxWatchers !== undefined ? { maxWatchers: o.maxWatchers } : {}),
        },
      }))
      .sort((a, b) => b.prefix - a.prefix);
  }

  get size(): number {
    return this.networks.length;
  }

  /** The limits of the most specific network holding `key`, or undefined (the defaults apply). */
  limitsOf(key: string): OverriddenLimits | undefined {
    if (this.networks.length === 0) return undefined;
    if (this.cache.has(key)) return this.cache.get(key);
    const found = this.match(key);
    if (this.cache.size >= 10_000) this.cache.clear();
    this.cache.set(key, found);
    return found;
  }

  private match(key: string): OverriddenLimits | undefined {
    const v4 = parseIpv4(key);
    const v6 = v4 === undefined ? parseKey64(key) : undefined;
    if (v4 === undefined && v6 === undefined) return undefined;
    const [family, bits, width] = v4 !== undefined ? [4, v4, 32] : [6, v6!, 64];
    for (const n of this.networks) {
      if (n.family !== family) continue;
      const shift = BigInt(width - n.prefix);
      if (bits >> shift === n.bits >> shift) return n.limits;
    }
    return undefined;
  }
}

function parseCidr(text: string, where: string): Omit<Network, 'limits'> {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) throw new Error(`${where}: ${JSON.stringify(text)} is not a CIDR such as 10.0.0.0/8 or 2001:db8::/48`);
  const prefix = Number(m[2]);
  const v4 = parseIpv4(m[1]!);
  if (v4 !== undefined) {
    if (prefix > 32) throw new Error(`${where}: ${text}: an IPv4 prefix is at most /32`);
    const host = v4 & ((1n << BigInt(32 - prefix)) - 1n);
    if (host !== 0n) throw new Error(`${where}: ${text} has bits set past its /${prefix} (did you mean ${formatIpv4(v4 - host)}/${prefix}?)`);
    return { family: 4, bits: v4, prefix };
  }
  const groups = ipv6Groups(m[1]!.toLowerCase());
  if (!groups) throw new Error(`${where}: ${JSON.stringify(m[1])} is neither an IPv4 nor an IPv6 address`);
  if (prefix > 64) {
    throw new Error(`${where}: ${text}: IPv6 addresses are counted by /64, so an IPv6 CIDR is at most a /64`);
  }
  if (groups.slice(4).some((g) => g !== 0)) throw new Error(`${where}: ${text} has bits set past its /${prefix}`);
  const bits = groups.slice(0, 4).reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
  if ((bits & ((1n << BigInt(64 - prefix)) - 1n)) !== 0n) throw new Error(`${where}: ${text} has bits set past its /${prefix}`);
  return { family: 6, bits, prefix };
}

function parseIpv4(text: string): bigint | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const bytes = m.slice(1).map(Number);
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

function formatIpv4(bits: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((bits >> s) & 255n)).join('.');
}

/** An IPv6 key of address.ts (`2001:db8:0:1::/64`): its 64 prefix bits. */
function parseKey64(key: string): bigint | undefined {
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4})::\/64$/.exec(key);
  if (!m) return undefined;
  return m.slice(1).reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

