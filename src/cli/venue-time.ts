/**
 * A concert's date as the venue's local time. The catalog writes it with the venue's offset
 * (`2027-02-12T20:30:00+01:00`); the wall-clock part of that string is what the ticket says,
 * wherever the reader is. So it is read off the string itself, never converted through the
 * viewer's time zone (which showed "19:30" on a UTC machine and "04:30" the next day in Tokyo).
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `Fri 12 Feb 2027, 20:30 (UTC+01:00)`: the venue's day and time and its offset from UTC.
 * A string that is not an ISO-8601 time with a zone is returned as it is.
 */
export function formatVenueTime(iso: string): string {
  const m = ISO.exec(iso);
  if (!m) return iso;
  const [, y, mo, d, h, mi, zone] = m as unknown as [string, string, string, string, string, string, string];
  const weekday = DAYS[new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDay()];
  const offset = zone === 'Z' || zone === '+00:00' || zone === '-00:00' ? 'UTC' : `UTC${zone}`;
  return `${weekday} ${Number(d)} ${MONTHS[Number(mo) - 1]} ${y}, ${h}:${mi} (${offset})`;
}
