import { MessageFlags } from 'discord.js';
import type { APIEmbed, APIMessageTopLevelComponent } from 'discord-api-types/v10';
import { asArray, asNumber, asObject, asString } from './http-util.js';
import type { LocalDiscordState, MessageRecord } from './state.js';
import type { LocalAttachment, UploadedFile } from './types.js';

/** Flags a sender may set; the rest (ephemeral after creation, loading) are Discord's to manage. */
const SETTABLE_FLAGS = MessageFlags.SuppressEmbeds | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2;

export interface NewMessage {
  channelId: string;
  guildId: string | null;
  body: Record<string, unknown>;
  files: UploadedFile[];
  type: number;
  /** Extra flags Discord itself sets: ephemeral (64) and loading (128) for interaction responses. */
  systemFlags?: number;
  allowEphemeral?: boolean;
  interactionId?: string;
  interactionUserId?: string;
  webhookId?: string;
}

export class MessageStore {
  constructor(
    private readonly state: LocalDiscordState,
    private readonly attachmentBaseUrl: () => string,
  ) {}

  create(input: NewMessage): MessageRecord {
    const requested = asNumber(input.body.flags) ?? 0;
    const ephemeral = input.allowEphemeral === true ? requested & MessageFlags.Ephemeral : 0;
    const message: MessageRecord = {
      id: this.state.ids.next(),
      channelId: input.channelId,
      guildId: input.guildId,
      authorId: this.state.botUser.id,
      content: asString(input.body.content) ?? '',
      embeds: normalizeEmbeds(input.body.embeds),
      components: asArray(input.body.components) as APIMessageTopLevelComponent[],
      attachments: [],
      flags: (requested & SETTABLE_FLAGS) | ephemeral | (input.systemFlags ?? 0),
      type: input.type,
      interactionId: input.interactionId ?? null,
      interactionUserId: input.interactionUserId ?? null,
      webhookId: input.webhookId ?? null,
      createdAt: new Date(),
      editedAt: null,
      deleted: false,
    };
    message.attachments = this.attachmentsFrom(message.channelId, input.body.attachments, input.files, []);
    this.state.messages.set(message.id, message);
    return message;
  }

  /** PATCH semantics: fields absent from the body stay; `attachments`, when present, lists what to keep. */
  edit(message: MessageRecord, body: Record<string, unknown>, files: UploadedFile[]): void {
    if ('content' in body) message.content = asString(body.content) ?? '';
    if ('embeds' in body) message.embeds = normalizeEmbeds(body.embeds);
    if ('components' in body) message.components = asArray(body.components) as APIMessageTopLevelComponent[];
    if ('flags' in body) {
      const kept = message.flags & ~SETTABLE_FLAGS;
      message.flags = kept | ((asNumber(body.flags) ?? 0) & SETTABLE_FLAGS);
    }
    if ('attachments' in body || files.length > 0) {
      message.attachments = this.attachmentsFrom(message.channelId, body.attachments, files, message.attachments);
    }
    message.flags &= ~MessageFlags.Loading;
    message.editedAt = new Date();
  }

  private attachmentsFrom(
    channelId: string,
    descriptors: unknown,
    files: UploadedFile[],
    existing: LocalAttachment[],
  ): LocalAttachment[] {
    const listed = Array.isArray(descriptors) ? descriptors.map(asObject) : null;
    const kept = listed === null ? existing : existing.filter((old) => listed.some((entry) => entry.id === old.id));
    const added = files.map((file, position): LocalAttachment => {
      // discord.js names parts files[n] and refers to them from `attachments` by id n.
      const index = /^files\[(\d+)\]$/.exec(file.field)?.[1] ?? String(position);
      const descriptor = listed?.find((entry) => String(entry.id) === index) ?? {};
      const id = this.state.ids.next();
      const filename = asString(descriptor.filename) ?? file.filename;
      const description = asString(descriptor.description);
      return {
        id,
        filename,
        ...(file.contentType === undefined ? {} : { contentType: file.contentType }),
        size: file.size,
        data: file.data,
        ...(description === undefined ? {} : { description }),
        url: `${this.attachmentBaseUrl()}/attachments/${channelId}/${id}/${encodeURIComponent(filename)}`,
      };
    });
    return [...kept, ...added];
  }

  findAttachment(attachmentId: string): LocalAttachment | undefined {
    for (const message of this.state.messages.values()) {
      const found = message.attachments.find((attachment) => attachment.id === attachmentId);
      if (found) return found;
    }
    return undefined;
  }
}

function normalizeEmbeds(raw: unknown): APIEmbed[] {
  return asArray(raw).map((embed) => ({ type: 'rich', ...asObject(embed) }) as APIEmbed);
}
