/** What {@link takeWithinBytes} took. */
export interface BytesTaken<T> {
  /** The items taken, a prefix of the input. */
  taken: T[];
  /** Their total size. */
  bytes: number;
  /** Whether it stopped at an item that did not fit (that item was read, not taken). */
  cut: boolean;
}

/**
 * Takes `items` in order while their total size stays within `maxBytes`, stopping at the first one
 * that does not fit, so an iterator's later items are never read (large rows cost no memory). The
 * first item is taken whatever its size when `firstAlways` (the default): a batch of one large item
 * must still move, or it would block everything behind it.
 */
export function takeWithinBytes<T>(items: Iterable<T>, sizeOf: (item: T) => number, maxBytes: number, firstAlways = true): BytesTaken<T> {
  const taken: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (bytes + size > maxBytes && !(firstAlways && taken.length === 0)) return { taken, bytes, cut: true };
    taken.push(item);
    bytes += size;
  }
  return { taken, bytes, cut: false };
}
