/**
 * The in-memory order of ready copies: per project, per unit priority (highest first), oldest first;
 * across projects, first the project holding the ready copy leased earliest. The manager leases in
 * project order (project priority, then deadline, then age), so arrival keeps that order: a unit
 * priority only ranks copies within its project. Requeued copies go to the front of their bucket
 * (they have waited longest). Entries are removed lazily: `isReady` tells whether a popped id is
 * still ready, so dropping a copy is O(1).
 */
export class ReadyIndex {
  readonly #projects = new Map<string, ProjectQueue>();

  /** Appends a copy (fresh from a lease) to its project's queue. */
  push(projectId: string, priority: number, copyId: string): void {
    this.#queue(projectId).bucket(priority).pushBack(copyId);
  }

  /** Puts a copy back at the front of its bucket (a requeued copy). */
  pushFront(projectId: string, priority: number, copyId: string): void {
    this.#queue(projectId).bucket(priority).pushFront(copyId);
  }

  /**
   * Pops up to `max` ready ids of projects not in `skip`: first the project holding the copy leased
   * earliest (lowest `seqOf` among its ready copies), and from it the next copy (highest unit
   * priority, then oldest). Ids for which `isReady` is false are discarded on the way.
   */
  take(max: number, skip: ReadonlySet<string> | undefined, isReady: (copyId: string) => boolean, seqOf: (copyId: string) => number): string[] {
    const out: string[] = [];
    while (out.length < max) {
      let best: { queue: ProjectQueue; priority: number; earliest: number } | undefined;
      for (const [projectId, queue] of this.#projects) {
        if (skip?.has(projectId)) continue;
        // With one project there is nothing to rank it against.
        const head = queue.peek(isReady, this.#projects.size > 1 ? seqOf : undefined);
        if (head === undefined) {
          this.#projects.delete(projectId);
          continue;
        }
        if (best === undefined || head.earliest < best.earliest) best = { queue, ...head };
      }
      if (best === undefined) break;
      // Drain the winning bucket while it stays the best choice, so one project costs O(1) per copy.
      const bucket = best.queue.bucket(best.priority);
      while (out.length < max) {
        const copyId = bucket.peek();
        if (copyId === undefined) break;
        bucket.shift();
        if (isReady(copyId)) out.push(copyId);
        if (this.#projects.size > 1) break;
      }
    }
    return out;
  }

  #queue(projectId: string): ProjectQueue {
    let queue = this.#projects.get(projectId);
    if (queue === undefined) {
      queue = new ProjectQueue();
      this.#projects.set(projectId, queue);
    }
    return queue;
  }
}

class ProjectQueue {
  readonly #buckets = new Map<number, Deque>();
  #priorities: number[] = [];

  bucket(priority: number): Deque {
    let bucket = this.#buckets.get(priority);
    if (bucket === undefined) {
      bucket = new Deque();
      this.#buckets.set(priority, bucket);
      this.#priorities = [...this.#buckets.keys()].sort((a, b) => b - a);
    }
    return bucket;
  }

  /**
   * The priority of the highest bucket with a ready copy and, given `seqOf`, the lowest `seqOf`
   * among the buckets' first ready copies (the project's earliest lease; without it, 0). Buckets
   * found empty are dropped; undefined when nothing is ready.
   */
  peek(isReady: (copyId: string) => boolean, seqOf: ((copyId: string) => number) | undefined): { priority: number; earliest: number } | undefined {
    let head: { priority: number; earliest: number } | undefined;
    let emptied = false;
    for (const priority of this.#priorities) {
      const bucket = this.#buckets.get(priority) as Deque;
      let copyId = bucket.peek();
      while (copyId !== undefined && !isReady(copyId)) {
        bucket.shift();
        copyId = bucket.peek();
      }
      if (copyId === undefined) {
        this.#buckets.delete(priority);
        emptied = true;
        continue;
      }
      const seq = seqOf?.(copyId) ?? 0;
      if (head === undefined) head = { priority, earliest: seq };
      else if (seq < head.earliest) head.earliest = seq;
      if (seqOf === undefined) break;
    }
    if (emptied) this.#priorities = this.#priorities.filter((priority) => this.#buckets.has(priority));
    return head;
  }
}

/** A double-ended queue of ids: a stack in front (requeued), an array with a moving head behind. */
class Deque {
  readonly #front: string[] = [];
  #back: string[] = [];
  #head = 0;

  pushBack(id: string): void {
    this.#back.push(id);
  }

  pushFront(id: string): void {
    this.#front.push(id);
  }

  peek(): string | undefined {
    return this.#front.length > 0 ? this.#front[this.#front.length - 1] : this.#back[this.#head];
  }

  shift(): void {
    if (this.#front.length > 0) {
      this.#front.pop();
      return;
    }
    this.#head++;
    if (this.#head >= this.#back.length) {
      this.#back = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#back.length) {
      this.#back = this.#back.slice(this.#head);
      this.#head = 0;
    }
  }
}
