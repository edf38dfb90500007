import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData } from 'discord.js';
import { BAN_REASON_MAX_LENGTH, NOTE_MAX_LENGTH } from '../../shared/input-fields.js';
import { customId } from '../../discord/custom-ids.js';

export const NOTE_FIELD = 'note';
export const DURATION_FIELD = 'duration';
export const REASON_FIELD = 'reason';

export function noteModal(customerId: number): APIModalInteractionResponseCallbackData {
  return {
    custom_id: customId.noteModal(customerId),
    title: `Note on customer #${customerId}`,
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: NOTE_FIELD,
            label: 'Note (internal, not shown to the customer)',
            style: TextInputStyle.Paragraph,
            min_length: 1,
            max_length: NOTE_MAX_LENGTH,
            required: true,
          },
        ],
      },
    ],
  };
}

export function banModal(customerId: number): APIModalInteractionResponseCallbackData {
  return {
    custom_id: customId.banModal(customerId),
    title: `Ban customer #${customerId}`,
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: DURATION_FIELD,
            label: 'Duration: permanent, 24h, 7d, 30d, 90d, 12h…',
            style: TextInputStyle.Short,
            value: 'permanent',
            min_length: 2,
            max_length: 20,
            required: true,
          },
        ],
      },
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: REASON_FIELD,
            label: 'Reason (internal, not shown to the customer)',
            style: TextInputStyle.Paragraph,
            min_length: 1,
            max_length: BAN_REASON_MAX_LENGTH,
            required: true,
          },
        ],
      },
    ],
  };
}
