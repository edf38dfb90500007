import type { AutocompleteInteraction, ApplicationCommandOptionChoiceData } from 'discord.js';
import { parseBanDuration } from '../../domain/ban-targets.js';
import { listBans } from '../../domain/bans.js';
import { autocompleteCustomers } from '../../domain/customer-lookup.js';
import type { BotDeps } from '../context.js';
import { clip } from '../view.js';

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

export async function suggest(deps: BotDeps, interaction: AutocompleteInteraction): Promise<ApplicationCommandOptionChoiceData[]> {
  const focused = interaction.options.getFocused(true);
  const typed = String(focused.value).slice(0, MAX_INPUT).trim();
  switch (focused.name) {
    case 'query':
    case 'customer':
      return autocompleteCustomers(deps.db, typed, 25);
    case 'target': {
      const type = interaction.options.getString('type');
      if (type === 'customer') return autocompleteCustomers(deps.db, typed, 25);
      return typed ? [{ name: clip(typed, 100), value: clip(typed, 100) }] : [];
    }
    case 'duration': {
      const matches = DURATIONS.filter((d) => d.value.startsWith(typed.toLowerCase()) || d.name.toLowerCase().includes(typed.toLowerCase()));
      if (typed && !matches.some((d) => d.value === typed.toLowerCase())) {
        try {
          const parsed = parseBanDuration(typed);
          matches.unshift({ name: clip(parsed.label, 100), value: typed.toLowerCase() });
        } catch {
          // Not a duration yet (still typing): offer the presets only.
        }
      }
      return matches.length ? matches : DURATIONS;
    }
    case 'ban': {
      const bans = await listBans(deps.db, deps.clock, { status: 'active', limit: 25, ...(typed ? { search: typed.replace(/^#/, '') } : {}) });
      return bans.items.map((b) => ({ name: clip(`#${b.id} ${b.type} ${b.value} — ${b.reason}`, 100), value: `#${b.id}` }));
    }
    default:
      return [];
  }
}
