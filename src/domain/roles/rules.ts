import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { inTransaction, type Db } from '../../store/database.js';
import type { RoleRuleRow } from '../../store/schema/index.js';
import { recordActivity, SYSTEM_ACTOR } from '../customers/activity-log.js';
import type { Clock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import type { PlanRule } from './plan.js';
import { roleGrantProblem, type BotStanding, type GuildRoleFacts } from './safety.js';
import type { Actor } from '../customers/types.js';

export interface RoleRule extends PlanRule {
  id: number;
  /** The product's name when the store has sold it already. */
  productName: string | null;
  createdBy: Actor;
  createdAt: string;
}

export interface AddRoleRuleInput {
  productId: number;
  roleId: string;
  guildId: string;
  revokeOnRefund?: boolean | undefined;
  revokeOnChargeback?: boolean | undefined;
  revokeOnSubscriptionEnd?: boolean | undefined;
  gracePeriodHours?: number | undefined;
  actor: Actor;
  /**
   * What Discord shows of the role and the bot, when it can be asked (the command can; the rules
   * file is read before the bot connects, and the role queue refuses such grants instead).
   */
  grantCheck?: { role: GuildRoleFacts; bot: BotStanding | undefined } | undefined;
}

export const DEFAULT_GRACE_PERIOD_HOURS = 72;
/** A year: longer than any billing retry schedule a store runs. */
export const MAX_GRACE_PERIOD_HOURS = 8760;

const SNOWFLAKE = /^\d{17,20}$/;

/** The actor recorded for rules that came from the start-up file. */
export const RULES_FILE_ACTOR: Actor = { id: SYSTEM_ACTOR.id, name: 'role rules file' };

function toRoleRule(row: RoleRuleRow & { product_name?: string | null }): RoleRule {
  return {
    id: row.id,
    productId: row.product_id,
    productName: row.product_name ?? null,
    roleId: row.role_id,
    guildId: row.guild_id,
    revokeOnRefund: row.revoke_on_refund === 1,
    revokeOnChargeback: row.revoke_on_chargeback === 1,
    revokeOnSubscriptionEnd: row.revoke_on_subscription_end === 1,
    gracePeriodHours: row.grace_period_hours,
    createdBy: { id: row.created_by_id, name: row.created_by_name },
    createdAt: row.created_at,
  };
}

function validate(input: AddRoleRuleInput): void {
  if (!Number.isSafeInteger(input.productId) || input.productId <= 0) {
    throw new UserError('role_rule_invalid', 'The product id must be a positive whole number (the store platform’s product id).');
  }
  if (!SNOWFLAKE.test(input.roleId)) throw new UserError('role_rule_invalid', 'The role must be a Discord role id (17–20 digits).');
  if (!SNOWFLAKE.test(input.guildId)) throw new UserError('role_rule_invalid', 'The guild must be a Discord server id (17–20 digits).');
  if (input.roleId === input.guildId) throw new UserError('role_rule_invalid', '@everyone cannot be granted: pick another role.');
  const grace = input.gracePeriodHours;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_PERIOD_HOURS)) {
    throw new UserError('role_rule_invalid', `The grace period must be a whole number of hours from 0 to ${MAX_GRACE_PERIOD_HOURS}.`);
  }
  if (input.grantCheck) {
    const problem = roleGrantProblem(input.grantCheck.role, input.grantCheck.bot);
    if (problem) throw new UserError('role_rule_refused', problem);
  }
}

/** Rules with the product names the store knows, removed ones included until a caller filters. */
function rulesWithProductNames(db: Db) {
  return db
    .selectFrom('role_rules')
    .leftJoin('products', 'products.id', 'role_rules.product_id')
    .selectAll('role_rules')
    .select('products.name as product_name');
}

const flag = (value: boolean | undefined) => (value === false ? 0 : 1);

/** Active rules (all guilds), newest last, with the product names the store knows. */
export async function listRoleRules(db: Db): Promise<RoleRule[]> {
  const rows = await rulesWithProductNames(db)
    .where('role_rules.removed_at', 'is', null)
    .orderBy('role_rules.id', 'asc')
    .execute();
  return rows.map(toRoleRule);
}

export async function getRoleRule(db: Db, id: number): Promise<RoleRule | undefined> {
  const row = await rulesWithProductNames(db)
    .where('role_rules.id', '=', id)
    .where('role_rules.removed_at', 'is', null)
    .executeTakeFirst();
  return row && toRoleRule(row);
}

/** A rule whether or not it was removed; `removedAt` is null while it is active. */
export async function findRoleRuleEvenRemoved(db: Db, id: number): Promise<(RoleRule & { removedAt: string | null }) | undefined> {
  const row = await rulesWithProductNames(db)
    .where('role_rules.id', '=', id)
    .executeTakeFirst();
  return row && { ...toRoleRule(row), removedAt: row.removed_at };
}

/**
 * Maps a product to a role. Customers who bought the product before are given the role in the
 * background (the sweep worker's backfill). A rule that was removed earlier is revived with the
 * new settings. Refused when the product already grants that role.
 */
export async function addRoleRule(db: Db, clock: Clock, input: AddRoleRuleInput): Promise<RoleRule> {
  validate(input);
  const now = clock.now().toISOString();
  const values = {
    guild_id: input.guildId,
    revoke_on_refund: flag(input.revokeOnRefund),
    revoke_on_chargeback: flag(input.revokeOnChargeback),
    revoke_on_subscription_end: flag(input.revokeOnSubscriptionEnd),
    grace_period_hours: input.gracePeriodHours ?? DEFAULT_GRACE_PERIOD_HOURS,
    created_by_id: input.actor.id,
    created_by_name: input.actor.name,
    created_at: now,
    removed_at: null,
    removed_by_id: null,
    removed_by_name: null,
    backfill_cursor: 0,
    backfilled_at: null,
  };
  const id = await inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom('role_rules')
      .select(['id', 'removed_at'])
      .where('product_id', '=', input.productId)
      .where('role_id', '=', input.roleId)
      .executeTakeFirst();
    if (existing && existing.removed_at === null) {
      throw new UserError('role_rule_exists', `Product #${input.productId} already grants that role (rule #${existing.id}). Remove it first to change its settings.`);
    }
    let ruleId: number;
    if (existing) {
      await trx.updateTable('role_rules').set(values).where('id', '=', existing.id).execute();
      ruleId = existing.id;
    } else {
      const row = await trx
        .insertInto('role_rules')
        .values({ product_id: input.productId, role_id: input.roleId, ...values })
        .returning('id')
        .executeTakeFirstOrThrow();
      ruleId = row.id;
    }
    await recordActivity(trx, clock, {
      actor: input.actor,
      action: 'role_rule.add',
      targetType: 'role_rule',
      targetId: ruleId,
      details: {
        productId: input.productId,
        roleId: input.roleId,
        guildId: input.guildId,
        revokeOnRefund: values.revoke_on_refund === 1,
        revokeOnChargeback: values.revoke_on_chargeback === 1,
        revokeOnSubscriptionEnd: values.revoke_on_subscription_end === 1,
        gracePeriodHours: values.grace_period_hours,
      },
    });
    return ruleId;
  });
  const rule = await getRoleRule(db, id);
  if (!rule) throw new Error(`role rule ${id} vanished right after it was written`);
  return rule;
}

/**
 * Stops a product granting a role. Nobody loses the role because of the removal itself: members
 * who hold it keep it, unless staff then take it back ({@link takeBackRemovedRuleRole} in
 * sync.ts) or another rule for the same role later decides otherwise.
 */
export async function removeRoleRule(db: Db, clock: Clock, input: { id: number; actor: Actor }): Promise<RoleRule> {
  return inTransaction(db, async (trx) => {
    const rule = await getRoleRule(trx, input.id);
    if (!rule) throw new UserError('role_rule_not_found', `There is no rule #${input.id}. /customer role-rule list shows the rules.`);
    const now = clock.now().toISOString();
    await trx
      .updateTable('role_rules')
      .set({ removed_at: now, removed_by_id: input.actor.id, removed_by_name: input.actor.name })
      .where('id', '=', input.id)
      .execute();
    await recordActivity(trx, clock, {
      actor: input.actor,
      action: 'role_rule.remove',
      targetType: 'role_rule',
      targetId: input.id,
      details: { productId: rule.productId, roleId: rule.roleId, guildId: rule.guildId },
    });
    return rule;
  });
}

const ROLE_ID_MESSAGE = 'must be a Discord role id (17–20 digits) in quotes: as a bare number JSON loses its last digits';
const snowflakeField = z.string({ error: ROLE_ID_MESSAGE }).regex(SNOWFLAKE, ROLE_ID_MESSAGE);

const fileRuleSchema = z.strictObject({
  product_id: z.number({ error: "must be the store platform's product id, a whole number" }).int('must be a whole number').positive('must be a positive product id'),
  role_id: snowflakeField,
  revoke_on_refund: z.boolean({ error: 'must be true or false' }).optional(),
  revoke_on_chargeback: z.boolean({ error: 'must be true or false' }).optional(),
  revoke_on_subscription_end: z.boolean({ error: 'must be true or false' }).optional(),
  grace_period_hours: z
    .number({ error: 'must be a whole number of hours' })
    .int('must be a whole number of hours')
    .min(0, 'must be 0 or more hours')
    .max(MAX_GRACE_PERIOD_HOURS, `must be at most ${MAX_GRACE_PERIOD_HOURS} hours`)
    .optional(),
  /** Free text for whoever edits the file; ignored. */
  note: z.string().optional(),
});

const fileSchema = z.strictObject({
  $comment: z.string().optional(),
  rules: z.array(fileRuleSchema, { error: 'must be a list of rules: { "rules": [ { "product_id": 5, "role_id": "…" } ] }' }),
});

/** The role rules file is missing a field or has a bad value; the message names the file and the field. */
export class RoleRulesFileError extends Error {
  override readonly name = 'RoleRulesFileError';
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}

export interface RoleRulesFileResult {
  /** The file does not exist: nothing to do (rules are then managed from Discord only). */
  missing: boolean;
  inserted: number;
  /** Rules that exist already, or that staff removed (their decision stands). */
  skipped: number;
}

/**
 * First set-up: reads the JSON rules file and inserts the rules that were never stored. A rule
 * that exists, or that staff removed from Discord, is left alone, so edits made in Discord win
 * over the file afterwards. Throws RoleRulesFileError naming the file and the field on bad input.
 */
export async function loadRoleRulesFile(db: Db, clock: Clock, path: string, guildId: string): Promise<RoleRulesFileResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { missing: true, inserted: 0, skipped: 0 };
    throw new RoleRulesFileError(`${path}: cannot be read (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RoleRulesFileError(`${path}: is not valid JSON (${(error as Error).message})`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RoleRulesFileError(`${path}: ${fieldPath(issue?.path ?? [])} ${issue?.message ?? 'is invalid'}`);
  }

  let inserted = 0;
  let skipped = 0;
  await inTransaction(db, async (trx) => {
    for (const [index, rule] of parsed.data.rules.entries()) {
      const exists = await trx
        .selectFrom('role_rules')
        .select('id')
        .where('product_id', '=', rule.product_id)
        .where('role_id', '=', rule.role_id)
        .executeTakeFirst();
      if (exists) {
        skipped++;
        continue;
      }
      try {
        await addRoleRule(trx, clock, {
          productId: rule.product_id,
          roleId: rule.role_id,
          guildId,
          revokeOnRefund: rule.revoke_on_refund,
          revokeOnChargeback: rule.revoke_on_chargeback,
          revokeOnSubscriptionEnd: rule.revoke_on_subscription_end,
          gracePeriodHours: rule.grace_period_hours,
          actor: RULES_FILE_ACTOR,
        });
      } catch (error) {
        if (error instanceof UserError) throw new RoleRulesFileError(`${path}: rules[${index}]: ${error.message}`);
        throw error;
      }
      inserted++;
    }
  });
  return { missing: false, inserted, skipped };
}
