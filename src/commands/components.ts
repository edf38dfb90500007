import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent, type APIComponentInMessageActionRow } from 'discord.js';
import type { Page } from '../domain/customers/types.js';

/**
 * Fetches page `requested` (0-based), or the last page when the list shrank since the button
 * was drawn (a note deleted, a ban lifted), so a stale "Next" never shows an empty page.
 */
export async function fetchPage<T>(
  requested: number,
  perPage: number,
  fetch: (offset: number, limit: number) => Promise<Page<T>>,
): Promise<{ page: number; pages: number; result: Page<T> }> {
  const wanted = Math.max(0, requested);
  const first = await fetch(wanted * perPage, perPage);
  const pages = Math.max(1, Math.ceil(first.total / perPage));
  const page = Math.min(wanted, pages - 1);
  const result = page === wanted ? first : await fetch(page * perPage, perPage);
  return { page, pages, result };
}

/** ◀ Previous / Next ▶ and any extra buttons, disabled at the ends. */
export function pagerRow(
  ids: { previous: string; next: string },
  page: number,
  pages: number,
  extra: APIButtonComponent[] = [],
): APIActionRowComponent<APIComponentInMessageActionRow> {
  return {
    type: ComponentType.ActionRow,
    components: [
      { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: ids.previous, label: '◀ Previous', disabled: page <= 0 },
      { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: ids.next, label: 'Next ▶', disabled: page >= pages - 1 },
      ...extra,
    ],
  };
}

/** A destructive action's Confirm (red) and Cancel buttons. */
export function confirmRow(ids: { confirm: string; cancel: string }, confirmLabel: string, cancelLabel = 'Cancel'): APIActionRowComponent<APIComponentInMessageActionRow> {
  return {
    type: ComponentType.ActionRow,
    components: [
      { type: ComponentType.Button, style: ButtonStyle.Danger, custom_id: ids.confirm, label: confirmLabel },
      { type: ComponentType.Button, style: ButtonStyle.Secondary, custom_id: ids.cancel, label: cancelLabel },
    ],
  };
}
