/** Keep-alives in a row that must show the distributor counting more tasks than the client holds. */
export const IN_HAND_STRIKES = 2;

/**
 * Compares, at a Work keep-alive, the tasks the distributor counts in this session's hands with the
 * ones the client really holds under it (received and not yet acknowledged). A distributor counting
 * more has tasks charged to the session that never arrived or were lost, and that credit would never
 * come back: after {@link IN_HAND_STRIKES} such keep-alives in a row the client reopens its stream,
 * which hands those tasks to others. Returns the new strike count and whether to reopen.
 */
export function inHandCheck(strikes: number, distributorCount: number, holding: number): { strikes: number; reopen: boolean } {
  if (distributorCount <= holding) return { strikes: 0, reopen: false };
  const next = strikes + 1;
  return next >= IN_HAND_STRIKES ? { strikes: 0, reopen: true } : { strikes: next, reopen: false };
}
