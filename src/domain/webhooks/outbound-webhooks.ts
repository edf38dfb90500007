// Outgoing webhooks, by concern: endpoints (CRUD), address-policy (where webhooks may go),
// signing, and the outbox (deliveries and retries). The delivery worker in
// src/jobs/webhook-deliveries.ts does the sending and imports them through this file.

export * from './address-policy.js';
export * from './endpoints.js';
export * from './outbox.js';
export * from './signing.js';
