import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createHttpApp, type HttpApp } from '../../src/http/app.js';
import { httpStatusOf, staffTextOf, USER_ERROR_CODES, UserError } from '../../src/shared/errors.js';
import { codePointLength, isBlank, wellFormed } from '../../src/shared/text.js';
import { useTestContext, type TestContext } from '../support/context.js';

describe('the refusal codes', () => {
  it('answer 404 for exactly the refusals that say something does not exist, 409 for a disabled webhook endpoint, and 422 for every other', () => {
    const expected = (code: string) => (code.endsWith('_not_found') ? 404 : code === 'endpoint_disabled' ? 409 : 422);
    for (const code of USER_ERROR_CODES) expect([code, httpStatusOf(code)]).toEqual([code, expected(code)]);
  });

  it('give every refusal a staff text that is one short, well-formed sentence', () => {
    for (const code of USER_ERROR_CODES) {
      const text = staffTextOf(code);
      expect(isBlank(text), code).toBe(false);
      expect(wellFormed(text), code).toBe(text);
      expect(codePointLength(text), code).toBeLessThanOrEqual(100);
      expect(text, code).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('reads its code’s staff text when thrown without words of its own, and the thrower’s words when given', () => {
    expect(new UserError('customer_not_found').message).toBe('No customer matches.');
    expect(new UserError('customer_not_found', 'No customer has id 45.').message).toBe('No customer has id 45.');
  });
});

describe('the HTTP app outside the API', () => {
  let context: TestContext;
  let app: HttpApp | undefined;
  useTestContext((opened) => {
    context = opened;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function appRefusingWith(error: UserError): Promise<HttpApp> {
    const built = await createHttpApp({
      db: context.db,
      clock: context.clock,
      config: loadConfig({}),
      logger: context.logger,
      wake: { inboundEvents: () => undefined, webhookDeliveries: () => undefined },
    });
    built.get('/refuses', () => {
      throw error;
    });
    return built;
  }

  it('answers a refusal with the status its code maps to, in the same envelope as the API', async () => {
    app = await appRefusingWith(new UserError('order_not_found', 'No order #A-1.'));
    const missing = await app.inject({ method: 'GET', url: '/refuses' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ success: false, error: 'Not Found', message: 'No order #A-1.' });
  });

  it('answers any other refusal 422 with the words it was thrown with', async () => {
    app = await appRefusingWith(new UserError('email_taken'));
    const taken = await app.inject({ method: 'GET', url: '/refuses' });
    expect(taken.statusCode).toBe(422);
    expect(taken.json()).toEqual({ success: false, error: 'Unprocessable Entity', message: 'That email is already registered to another customer.' });
  });
});
