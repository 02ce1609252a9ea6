/**
 * The key under which per-address limits count a peer: an IPv4 address as it is, an IPv6
 * address by its /64 prefix. One IPv6 host is usually given a whole /64 and may pick any
 * address in it, so counting full IPv6 addresses would give one host 2^64 budgets.
 */
export function addressKey(remote: string | undefined): string {
  if (!remote) return 'unknown';
  const address = remote.replace(/%.*$/, '').toLowerCase(); // a zone id (fe80::1%eth0) names an interface, not a peer
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1]!; // IPv4 seen through a dual-stack socket
  if (!address.includes(':')) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address; // not an address we can parse: counted as it is, never merged with others
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (lower case; a trailing dotted IPv4 allowed), or undefined when it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return undefined;
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (words.some((w) => !/^[0-9a-f]{1,4}$/.test(w))) return undefined;
  return words.map((w) => parseInt(w, 16));
}
