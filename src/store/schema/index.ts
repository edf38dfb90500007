// The database's tables, one file per capability; `Database` is every table by name.

import type { CustomerTables } from './customers.js';
import type { OrderTables } from './orders.js';
import type { BanTables } from './bans.js';
import type { PurchaseEventTables } from './purchase-events.js';
import type { RoleTables } from './roles.js';
import type { AlertTables } from './alerts.js';
import type { WebhookTables } from './webhooks.js';
import type { ApiTokenTables } from './api-tokens.js';
import type { LinkingTables } from './linking.js';
import type { DigestTables } from './digest.js';
import type { ExportTables } from './exports.js';
import type { LeaseTables } from './leases.js';
import type { PrivacyTables } from './privacy.js';
import type { CounterTables } from './counters.js';

export type * from './customers.js';
export type * from './orders.js';
export type * from './bans.js';
export type * from './purchase-events.js';
export type * from './roles.js';
export type * from './alerts.js';
export type * from './webhooks.js';
export type * from './api-tokens.js';
export type * from './linking.js';
export type * from './digest.js';
export type * from './exports.js';
export type * from './leases.js';
export type * from './privacy.js';
export type * from './counters.js';

export interface Database
  extends CustomerTables,
    OrderTables,
    BanTables,
    PurchaseEventTables,
    RoleTables,
    AlertTables,
    WebhookTables,
    ApiTokenTables,
    LinkingTables,
    DigestTables,
    ExportTables,
    LeaseTables,
    PrivacyTables,
    CounterTables {}
