/** The user an error is about, for the audit event it causes (never serialised, never in a response). */
const SUBJECTS = new WeakMap<object, string>();

/** @internal Remembers that `error` is about the user `userId` (when known); returns `error`. */
export function withAuditSubject<E extends object>(error: E, userId: string | undefined): E {
  if (userId !== undefined) SUBJECTS.set(error, userId);
  return error;
}

/** @internal The user an error is about, when one was remembered. */
export function auditSubjectOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? SUBJECTS.get(error) : undefined;
}
