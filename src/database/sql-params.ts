/**
 * Numbers the parameters of a statement as they are added, so that pieces of one statement written
 * in different modules (a device change and its audit rows) never depend on each other's positions.
 * Adding the same values in the same order gives the same text, which can stay prepared.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  /** `$n`, or `$n::type` with a cast (arrays for unnest: `uuid[]`, `text[]`, …). */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast === undefined ? `$${this.values.length}` : `$${this.values.length}::${cast}`;
  }
}
