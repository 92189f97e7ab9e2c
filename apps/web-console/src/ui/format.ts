// Numbers and times as people read them.

const UNITS = ['bytes', 'KB', 'MB', 'GB'] as const;

/** 1536 → "1.5 KB"; binary multiples, as mail clients show sizes. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${value} ${value === 1 ? 'byte' : 'bytes'}`;
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}

/** 75_000 → "1 min 15 s"; 4_000_000 → "1 h 6 min". Negative durations are 0 s. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return seconds % 60 ? `${minutes} min ${seconds % 60} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} days`;
}

/** A timestamp as local date and time, or "—" when unset. */
export function formatTime(date: Date | undefined): string {
  if (!date || Number.isNaN(date.getTime()) || date.getTime() === 0) return '—';
  const sameDay = new Date().toDateString() === date.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "Ada Lovelace <ada@example.com>", or just the address. */
export function formatAddress(address: { name: string; address: string } | undefined): string {
  if (!address) return '—';
  return address.name && address.name !== address.address ? `${address.name} <${address.address}>` : address.address;
}

/** AGENT_PRESENCE_AVAILABLE → "Available": the readable tail of a proto enum name. */
export function enumLabel(name: string, prefix: string): string {
  const tail = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  const words = tail.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
