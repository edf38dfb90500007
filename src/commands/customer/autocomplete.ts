import type { AutocompleteInteraction, ApplicationCommandOptionChoiceData } from 'discord.js';
import { parseBanDuration } from '../../domain/bans/targets.js';
import { listBans } from '../../domain/bans/bans.js';
import { autocompleteCustomers } from '../../domain/customers/lookup.js';
import type { BotDeps } from '../context.js';
import { clipText, isBlank } from '../../shared/text.js';
import { clip } from '../../discord/render/view.js';

const DURATIONS = [
  { name: 'Permanent', value: 'permanent' },
  { name: '24 hours', value: '24h' },
  { name: '7 days', value: '7d' },
  { name: '30 days', value: '30d' },
  { name: '90 days', value: '90d' },
];

// Autocomplete has no deferral: it must answer within 3 s, so every source here is an indexed
// query bounded to 25 rows, and the typed text is capped before it reaches the database.
const MAX_INPUT = 100;

const CHOICE_MAX = 100;

export async function suggest(deps: BotDeps, interaction: AutocompleteInteraction): Promise<ApplicationCommandOptionChoiceData[]> {
  const focused = interaction.options.getFocused(true);
  return suggestChoices(deps, { name: focused.name, value: String(focused.value), type: interaction.options.getString('type') });
}

/** What the staff member is typing: the focused option, its text so far, and the ban type chosen beside it. */
export interface TypedOption {
  name: string;
  value: string;
  type: string | null;
}

/**
 * Up to 25 choices for the focused option, each one Discord accepts: a name of 1–100 code points
 * that is not blank, a value of at most 100, no half surrogate pairs.
 */
export async function suggestChoices(deps: BotDeps, focused: TypedOption): Promise<ApplicationCommandOptionChoiceData[]> {
  const choices = await rawChoices(deps, focused);
  return choices
    .map((choice) => ({ name: clip(choice.name, CHOICE_MAX), value: typeof choice.value === 'string' ? clip(choice.value, CHOICE_MAX) : choice.value }))
    .filter((choice) => !isBlank(choice.name))
    .slice(0, 25);
}

async function rawChoices(deps: BotDeps, focused: TypedOption): Promise<ApplicationCommandOptionChoiceData[]> {
  const typed = clipText(focused.value, MAX_INPUT, '').trim();
  switch (focused.name) {
    case 'query':
    case 'customer':
      return autocompleteCustomers(deps.db, typed, 25);
    case 'target': {
      if (focused.type === 'customer') return autocompleteCustomers(deps.db, typed, 25);
      return typed ? [{ name: typed, value: typed }] : [];
    }
    case 'duration': {
      const matches = DURATIONS.filter((d) => d.value.startsWith(typed.toLowerCase()) || d.name.toLowerCase().includes(typed.toLowerCase()));
      if (typed && !matches.some((d) => d.value === typed.toLowerCase())) {
        try {
          const parsed = parseBanDuration(typed);
          matches.unshift({ name: parsed.label, value: typed.toLowerCase() });
        } catch {
          // Not a duration yet (still typing): offer the presets only.
        }
      }
      return matches.length ? matches : DURATIONS;
    }
    case 'ban': {
      const bans = await listBans(deps.db, deps.clock, { status: 'active', limit: 25, ...(typed ? { search: typed.replace(/^#/, '') } : {}) });
      return bans.items.map((b) => ({ name: `#${b.id} ${b.type} ${b.value} — ${b.reason}`, value: `#${b.id}` }));
    }
    default:
      return [];
  }
}
