/**
 * Yields what `source` yields, asking it for the next item as soon as one is handed over: the
 * source's work on item k+1 (reading and checking the next batch of a file) overlaps what the
 * consumer does with item k (waiting on the manager's AddUnits). An error of the item read ahead
 * surfaces when the consumer comes to it.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const item = await next;
      if (item.done) return;
      next = iterator.next();
      // Awaited on the next turn of the loop; not left unhandled if the consumer stops first.
      next.catch(() => undefined);
      yield item.value;
    }
  } finally {
    await iterator.return?.();
  }
}
