// Exit codes, as documented in README.md.
export const EXIT = {
  ok: 0,
  stageFailed: 1,
  usage: 2,
  cancelled: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A user mistake found before anything ran: printed without a stack trace, exit 2. */
export class UsageError extends Error {}
