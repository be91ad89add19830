/** @file Maps an async stream through an async function with at most `limit` calls in flight, yielding results as they finish. */

/**
 * Reads `inputs` only while fewer than `limit` calls run (backpressure reaches the sender), and
 * yields each result the moment its call settles, so fast items overtake slow ones.
 * `fn` must not reject: turn failures into results.
 */
export async function* boundedMap<In, Out>(inputs: AsyncIterable<In>, limit: number, fn: (input: In, index: number) => Promise<Out>): AsyncGenerator<Out> {
  type Event = { kind: 'read'; result: IteratorResult<In> } | { kind: 'done'; id: number; out: Out };
  const iterator = inputs[Symbol.asyncIterator]();
  const running = new Map<number, Promise<Event>>();
  let reading: Promise<Event> | undefined;
  let exhausted = false;
  let nextId = 0;
  for (;;) {
    if (!exhausted && !reading && running.size < limit) reading = iterator.next().then((result) => ({ kind: 'read', result }));
    if (exhausted && running.size === 0) return;
    const event = await Promise.race(reading ? [...running.values(), reading] : running.values());
    if (event.kind === 'read') {
      reading = undefined;
      if (event.result.done) exhausted = true;
      else {
        const id = nextId++;
        running.set(id, fn(event.result.value, id).then((out) => ({ kind: 'done', id, out })));
      }
    } else {
      running.delete(event.id);
      yield event.out;
    }
  }
}
