import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent, type APIComponentInMessageActionRow } from 'discord.js';

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
