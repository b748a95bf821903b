import { randomBytes } from "node:crypto";
import { chooseExtraCopies } from "../core/extra-copy-choice.js";
import { withCopyId } from "./raw-task.js";
import type { GivenCopy } from "./store/store.js";

/** Settings of {@link ExtraCopies}. */
export interface ExtraCopiesSettings {
  /** Most extra copies made of one unit; 0 turns extra copies off. */
  perUnit: number;
  /** Most task bytes remembered for re-serving; past it the oldest units are forgotten. */
  maxBytes: number;
}

/** {@link ExtraCopiesSettings.maxBytes} by default: 64 MiB. */
export const DEFAULT_EXTRA_COPY_BYTES = 64 * 1024 * 1024;

/** A held unit as remembered for re-serving. */
interface HeldUnit {
  unitId: string;
  projectId: string;
  /** The copy leased from the manager: extras are derived from it. */
  originCopyId: string;
  /** Its task as leased. */
  task: Uint8Array;
  /** Extras of it in clients' hands now. */
  inHand: number;
  /** Extras made so far (also numbers the next one's id). */
  made: number;
  /** Whether the leased copy is in a client's hands. */
  originInHand: boolean;
  holderTags: string[];
}

/** An extra copy in a client's hands. */
export interface ExtraCopy {
  unitId: string;
  /** The leased copy it was derived from (the manager adopts the extra under it). */
  originCopyId: string;
  clientId: string;
}

/**
 * The units a distributor can re-serve as extra copies while its managers are unreachable: the
 * tasks of the copies it gave out, remembered until the manager acknowledged their results (or
 * their units were cancelled), bounded by bytes. In memory only: after a restart no extras are made
 * of the copies given before it, and a client reporting an extra given before it is refused.
 * Extra copy ids are `<leased copy id>~<process tag><n>`, never made twice.
 */
export class ExtraCopies {
  readonly #settings: ExtraCopiesSettings;
  /** unit id → held unit, oldest first. */
  readonly #units = new Map<string, HeldUnit>();
  /** leased copy id → unit id. */
  readonly #unitOfCopy = new Map<string, string>();
  /** extra copy id → the extra, while in a client's hands. */
  readonly #given = new Map<string, ExtraCopy>();
  readonly #tag = randomBytes(3).toString("hex");
  #bytes = 0;

  constructor(settings: ExtraCopiesSettings) {
    this.#settings = settings;
  }

  /** Whether extras are made at all. */
  get enabled(): boolean {
    return this.#settings.perUnit > 0;
  }

  /** Units remembered. */
  get size(): number {
    return this.#units.size;
  }

  /** Remembers leased copies given to a client with `tags` (its volunteer identity). */
  remember(copies: readonly GivenCopy[], tags: readonly string[]): void {
    if (!this.enabled) return;
    for (const copy of copies) {
      let unit = this.#units.get(copy.unitId);
      if (unit === undefined) {
        unit = { unitId: copy.unitId, projectId: copy.projectId, originCopyId: copy.copyId, task: copy.task, inHand: 0, made: 0, originInHand: true, holderTags: [] };
        this.#units.set(copy.unitId, unit);
        this.#unitOfCopy.set(copy.copyId, copy.unitId);
        this.#bytes += copy.task.byteLength;
      }
      unit.originInHand = true;
      for (const tag of tags) if (!unit.holderTags.includes(tag)) unit.holderTags.push(tag);
    }
    for (const [unitId, unit] of this.#units) {
      if (this.#bytes <= this.#settings.maxBytes) break;
      this.#drop(unitId, unit);
    }
  }

  /** The leased copies' results are stored (`reported`) or they went back to ready: out of hands. */
  leftHands(copyIds: readonly string[]): void {
    for (const copyId of copyIds) {
      const unitId = this.#unitOfCopy.get(copyId);
      if (unitId !== undefined) this.#units.get(unitId)!.originInHand = false;
    }
  }

  /**
   * Forgets the units of these leased copies (the manager acknowledged their results): no more
   * extras of them. Extras of them in clients' hands may still report.
   */
  forget(copyIds: readonly string[]): void {
    this.#forget(copyIds);
  }

  /**
   * Forgets the units of these dropped leased copies (cancelled units, lost leases) and takes their
   * extras out of clients' hands. Resolves to those extras' ids, to cancel at their clients.
   */
  drop(copyIds: readonly string[]): string[] {
    const units = this.#forget(copyIds);
    const inHands: string[] = [];
    if (units.size === 0) return inHands;
    for (const [extraId, extra] of this.#given) {
      if (!units.has(extra.unitId)) continue;
      this.#given.delete(extraId);
      inHands.push(extraId);
    }
    return inHands;
  }

  /**
   * Makes up to `max` extra copies for a client with `tags` (see {@link chooseExtraCopies}), none of
   * `skipProjects`, each its task re-addressed to the extra's own copy id.
   */
  take(clientId: string, tags: readonly string[], max: number, clientDeadlineMs: number, skipProjects: ReadonlySet<string>): GivenCopy[] {
    const candidates = [...this.#units.values()]
      .filter((unit) => !skipProjects.has(unit.projectId))
      .map((unit) => ({ unitId: unit.unitId, inHand: unit.inHand + (unit.originInHand ? 1 : 0), made: unit.made, holderTags: unit.holderTags }));
    return chooseExtraCopies(candidates, tags, max, this.#settings.perUnit).map((unitId) => {
      const unit = this.#units.get(unitId)!;
      unit.made += 1;
      unit.inHand += 1;
      for (const tag of tags) if (!unit.holderTags.includes(tag)) unit.holderTags.push(tag);
      const copyId = `${unit.originCopyId}~${this.#tag}${unit.made}`;
      this.#given.set(copyId, { unitId, originCopyId: unit.originCopyId, clientId });
      return { copyId, unitId, projectId: unit.projectId, task: withCopyId(unit.task, copyId), clientDeadlineMs };
    });
  }

  /** The extras among `copyIds` that are in `clientId`'s hands: copy id → the extra. */
  inHands(clientId: string, copyIds: readonly string[]): Map<string, ExtraCopy> {
    const found = new Map<string, ExtraCopy>();
    if (this.#given.size === 0) return found;
    for (const copyId of copyIds) {
      const extra = this.#given.get(copyId);
      if (extra !== undefined && extra.clientId === clientId) found.set(copyId, extra);
    }
    return found;
  }

  /**
   * Extras out of their client's hands: reported (stored), or their client went without reporting
   * them (another extra of the unit may be made while fewer than `perUnit` were).
   */
  release(copyIds: Iterable<string>): void {
    if (this.#given.size === 0) return;
    for (const copyId of copyIds) {
      const extra = this.#given.get(copyId);
      if (extra === undefined) continue;
      this.#given.delete(copyId);
      const unit = this.#units.get(extra.unitId);
      if (unit !== undefined) unit.inHand -= 1;
    }
  }

  /** Forgets the units of these leased copies; resolves to their ids. */
  #forget(copyIds: readonly string[]): Set<string> {
    const units = new Set<string>();
    for (const copyId of copyIds) {
      const unitId = this.#unitOfCopy.get(copyId);
      const unit = unitId === undefined ? undefined : this.#units.get(unitId);
      if (unit === undefined) continue;
      this.#drop(unit.unitId, unit);
      units.add(unit.unitId);
    }
    return units;
  }

  #drop(unitId: string, unit: HeldUnit): void {
    this.#units.delete(unitId);
    this.#unitOfCopy.delete(unit.originCopyId);
    this.#bytes -= unit.task.byteLength;
  }
}
