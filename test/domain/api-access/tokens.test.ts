import { describe, expect, it } from 'vitest';
import { listActivity } from '../../../src/domain/customers/activity-log.js';
import { API_SCOPES, authenticateToken, createApiToken, hashApiToken, listApiTokens, revokeApiToken } from '../../../src/domain/api-access/tokens.js';
import type { ManualClock } from '../../../src/shared/clock.js';
import type { Db } from '../../../src/store/database.js';
import { useTestContext } from '../../support/context.js';
import { refusal } from '../../support/refusal.js';

const staff = { id: '111111111111111111', name: 'Sam (staff)' };
let db: Db;
let clock: ManualClock;

useTestContext((context) => ({ db, clock } = context));

describe('creating an API token', () => {
  it('returns a recognisable 256-bit token once and stores only its SHA-256', async () => {
    const { token, record } = await createApiToken(db, clock, { name: 'Checkout', scopes: ['webhooks:write', 'customers:read'], actor: staff });
    expect(token).toMatch(/^cdk_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(record).toMatchObject({
      name: 'Checkout',
      prefix: token.slice(0, 12),
      scopes: ['customers:read', 'webhooks:write'],
      rateLimitPerMinute: 60,
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      status: 'active',
    });
    const row = await db.selectFrom('api_tokens').selectAll().executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(hashApiToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it('gives every token a different value', async () => {
    const a = await createApiToken(db, clock, { name: 'A', scopes: ['customers:read'] });
    const b = await createApiToken(db, clock, { name: 'B', scopes: ['customers:read'] });
    expect(a.token).not.toBe(b.token);
  });

  it('accepts exactly the five documented scopes', async () => {
    const { record } = await createApiToken(db, clock, { name: 'All', scopes: [...API_SCOPES] });
    expect(record.scopes).toEqual(['customers:read', 'customers:write', 'customers:delete', 'webhooks:read', 'webhooks:write']);
    expect((await refusal(createApiToken(db, clock, { name: 'Bad', scopes: ['customers:admin'] }))).message).toContain('"customers:admin"');
    expect((await refusal(createApiToken(db, clock, { name: 'None', scopes: [] }))).code).toBe('invalid_scopes');
  });

  it('refuses an empty name, an expiry in the past and a rate limit that is not a positive whole number', async () => {
    expect((await refusal(createApiToken(db, clock, { name: '  ', scopes: ['customers:read'] }))).code).toBe('invalid_name');
    expect((await refusal(createApiToken(db, clock, { name: 'Old', scopes: ['customers:read'], expiresAt: '2026-11-01T00:00:00Z' }))).code).toBe('invalid_expiry');
    expect((await refusal(createApiToken(db, clock, { name: 'Zero', scopes: ['customers:read'], rateLimitPerMinute: 0 }))).code).toBe('invalid_rate_limit');
    expect((await refusal(createApiToken(db, clock, { name: 'Half', scopes: ['customers:read'], rateLimitPerMinute: 1.5 }))).code).toBe('invalid_rate_limit');
  });

  it('records token.create in the activity log without the token', async () => {
    const { token, record } = await createApiToken(db, clock, { name: 'Checkout', scopes: ['customers:read'], rateLimitPerMinute: 120, actor: staff });
    const [entry] = await listActivity(db, { action: 'token.create' });
    expect(entry).toMatchObject({ actor: staff, targetType: 'api_token', targetId: String(record.id) });
    expect(entry?.details).toMatchObject({ name: 'Checkout', scopes: ['customers:read'], rate_limit_per_minute: 120 });
    expect(JSON.stringify(entry)).not.toContain(token);
  });
});

describe('authenticating a token', () => {
  it('finds an active token and notes when it was last used', async () => {
    const { token, record } = await createApiToken(db, clock, { name: 'Checkout', scopes: ['customers:read'] });
    const result = await authenticateToken(db, clock, token);
    expect(result).toEqual({ ok: true, token: { ...record, lastUsedAt: '2026-11-22T12:00:00.000Z' } });
  });

  it('says unknown for a well-formed token nobody issued and for anything not shaped like a token', async () => {
    await createApiToken(db, clock, { name: 'Checkout', scopes: ['customers:read'] });
    expect(await authenticateToken(db, clock, `cdk_${'A'.repeat(43)}`)).toEqual({ ok: false, reason: 'unknown' });
    expect(await authenticateToken(db, clock, 'hello')).toEqual({ ok: false, reason: 'unknown' });
    expect(await authenticateToken(db, clock, '')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('says expired once the expiry time is reached', async () => {
    const { token } = await createApiToken(db, clock, { name: 'Short', scopes: ['customers:read'], expiresAt: '2026-11-22T13:00:00Z' });
    clock.set('2026-11-22T12:59:59.999Z');
    expect((await authenticateToken(db, clock, token)).ok).toBe(true);
    clock.set('2026-11-22T13:00:00.000Z');
    expect(await authenticateToken(db, clock, token)).toEqual({ ok: false, reason: 'expired' });
  });

  it('says revoked after revocation, at once', async () => {
    const { token, record } = await createApiToken(db, clock, { name: 'Checkout', scopes: ['customers:read'] });
    await revokeApiToken(db, clock, record.id, staff);
    expect(await authenticateToken(db, clock, token)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('writes last_used_at at most once a minute', async () => {
    const { token } = await createApiToken(db, clock, { name: 'Checkout', scopes: ['customers:read'] });
    await authenticateToken(db, clock, token);
    clock.advance(30_000);
    const second = await authenticateToken(db, clock, token);
    expect(second.ok && second.token.lastUsedAt).toBe('2026-11-22T12:00:00.000Z');
    clock.advance(30_000);
    const third = await authenticateToken(db, clock, token);
    expect(third.ok && third.token.lastUsedAt).toBe('2026-11-22T12:01:00.000Z');
  });
});

describe('revoking and listing tokens', () => {
  it('revokes once, logs token.revoke once, and refuses an unknown id', async () => {
    const { record } = await createApiToken(db, clock, { name: 'Checkout', scopes: ['customers:read'] });
    clock.advance(1000);
    const revoked = await revokeApiToken(db, clock, record.id, staff);
    expect(revoked).toMatchObject({ status: 'revoked', revokedAt: '2026-11-22T12:00:01.000Z' });
    clock.advance(1000);
    expect((await revokeApiToken(db, clock, record.id, staff)).revokedAt).toBe('2026-11-22T12:00:01.000Z');
    expect(await listActivity(db, { action: 'token.revoke' })).toHaveLength(1);
    expect((await refusal(revokeApiToken(db, clock, 999, staff))).code).toBe('token_not_found');
  });

  it('lists every token newest first with its status, never the hash', async () => {
    const first = await createApiToken(db, clock, { name: 'First', scopes: ['customers:read'], expiresAt: '2026-11-23T00:00:00Z' });
    const second = await createApiToken(db, clock, { name: 'Second', scopes: ['webhooks:read'] });
    await revokeApiToken(db, clock, second.record.id);
    clock.set('2026-11-24T00:00:00Z');
    const tokens = await listApiTokens(db, clock);
    expect(tokens.map((t) => [t.name, t.status])).toEqual([
      ['Second', 'revoked'],
      ['First', 'expired'],
    ]);
    expect(JSON.stringify(tokens)).not.toContain(hashApiToken(first.token));
  });
});
