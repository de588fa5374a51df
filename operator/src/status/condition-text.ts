// Text from outside the operator (the server's job.failed, an API server's refusal) made fit for a
// condition: metav1.Condition allows a CamelCase reason of ≤ 1024 characters and a message of ≤ 32768,
// and a status write with anything else is refused whole, which would freeze the job's status.

/** The pattern metav1.Condition (and our CRD) requires of a reason. */
export const REASON_PATTERN = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
export const MAX_REASON_LENGTH = 1024;
export const MAX_MESSAGE_LENGTH = 32768;

/** True when `reason` can be a condition's reason as it is. */
export function isConditionReason(reason: string): boolean {
  return reason.length <= MAX_REASON_LENGTH && REASON_PATTERN.test(reason);
}

/** `text` cut to `max` characters, saying that it was cut and how long it was. */
export function truncated(text: string, max: number, where: string): string {
  if (text.length <= max) return text;
  const note = `… (truncated: ${text.length} characters in all; ${where})`;
  return `${text.slice(0, max - note.length)}${note}`;
}

/** `message` as a condition's message: cut to 32768 characters when longer. */
export function conditionMessage(message: string, where = "the whole text is in the operator's log"): string {
  return truncated(message, MAX_MESSAGE_LENGTH, where);
}

/**
 * A reason and message from the server's job.failed as a condition's: a reason that is no condition
 * reason, or one of the `reserved` ones the operator gives its own decisions, becomes `fallback`, with
 * the server's own (cut to 200 characters) put before the message so that nothing it said is lost.
 */
export function failureText(
  reason: string,
  message: string,
  fallback: string,
  reserved: readonly string[] = [],
): { reason: string; message: string } {
  const where = "the whole message is in the server's log";
  if (isConditionReason(reason) && !reserved.includes(reason))
    return { reason, message: conditionMessage(message, where) };
  const said = `the server's reason: ${JSON.stringify(truncated(reason, 200, "cut"))}`;
  return {
    reason: fallback,
    message: conditionMessage(message === "" ? said : `${said}; ${message}`, where),
  };
}
