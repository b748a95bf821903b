/**
 * `disio … | head` closes the pipe before the command is done. Node then fails the next write to
 * stdout with EPIPE (as an `error` event or a rejected write), which would print a stack trace.
 * Like a Unix tool killed by SIGPIPE, the command stops quietly instead.
 */

/** True when `error` is a write to a pipe whose reader has gone. */
export function isClosedPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "EPIPE";
}

/** Makes a closed stdout end the process quietly (exit 0: the reader took what it wanted). */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on("error", (error) => {
    if (!isClosedPipe(error)) throw error;
    process.exit(0);
  });
}
