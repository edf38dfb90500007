import { expect } from 'vitest';
import { UserError } from '../../src/shared/errors.js';

/** The UserError `promise` is refused with; the test fails when it resolves or fails otherwise. */
export async function refusal(promise: Promise<unknown>): Promise<UserError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}
