/**
 * An expected refusal ("no customer matches …"): shown to the person as written, never logged as
 * a failure. Anything that is not a UserError is a bug and gets a reference id instead.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a banned customer is told, whatever the ban: never that they are banned. */
export const GENERIC_REFUSAL = "We couldn't process this request. Please contact support.";
