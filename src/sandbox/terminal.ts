import { createInterface, type Interface } from 'node:readline/promises';
import { commandHelp, readSlashCommand, startHint } from './command-line.js';
import type { InteractionHandle, LocalDiscord, LocalMessage, LocalModal } from './local-discord/index.js';
import { listControls, renderMessage } from './render-message.js';
import { AttachmentSaver } from './saved-files.js';

export interface TerminalOptions {
  discord: LocalDiscord;
  guildId: string;
  channelId: string;
  staffUserId: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Repeat typed lines (when input is piped, not typed, the transcript should still read well). */
  echo?: boolean;
  /** Where the files of printed messages are written. */
  filesDirectory: string;
  /** Answers `store …` lines (the store's side: purchase events); what it returns is printed. */
  store?: (words: string) => Promise<string>;
}

/**
 * The sandbox's prompt: what a staff member would type in Discord goes through the local
 * Discord to the real bot, and the reply is printed as Discord would show it.
 */
export class Terminal {
  private last: LocalMessage | undefined;
  private readonly rl: Interface;
  private readonly queued: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private closed = false;
  private readonly files: AttachmentSaver;

  constructor(private readonly options: TerminalOptions) {
    this.files = new AttachmentSaver(options.filesDirectory);
    this.rl = createInterface({ input: options.input, terminal: false });
    // One queue for both the prompt and form fields, so piped input is never lost between them.
    this.rl.on('line', (line) => {
      const waiter = this.waiting;
      this.waiting = undefined;
      if (waiter) waiter(line);
      else this.queued.push(line);
    });
    this.rl.on('close', () => {
      this.closed = true;
      this.waiting?.(undefined);
    });
  }

  private nextLine(): Promise<string | undefined> {
    const line = this.queued.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private print(text: string): void {
    this.options.output.write(text + '\n');
  }

  async run(): Promise<void> {
    this.print(startHint());
    for (;;) {
      this.options.output.write('\n> ');
      const raw = await this.nextLine();
      if (raw === undefined) break;
      const line = raw.trim();
      if (line === 'exit' || line === 'quit') break;
      if (!line) continue;
      this.options.output.write(this.options.echo ? `${line}\n` : '');
      try {
        await this.execute(line);
      } catch (error) {
        this.print(`! ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    this.rl.close();
  }

  async execute(line: string): Promise<void> {
    const { discord, guildId, channelId, staffUserId } = this.options;
    if (line === 'help') return this.print(commandHelp());
    const slash = /^\/customer(?:\s+(.*))?$/s.exec(line);
    if (slash) {
      const command = readSlashCommand(slash[1] ?? '');
      const handle = await discord.invokeSlash({ guildId, channelId, userId: staffUserId, name: 'customer', ...command });
      return this.show(handle);
    }
    const store = /^store(?:\s+(.*))?$/.exec(line);
    if (store && this.options.store) return this.print(await this.options.store(store[1] ?? ''));
    const profile = /^\/profile\s+<?@?!?(\d{17,20})>?$/.exec(line);
    if (profile?.[1]) {
      const handle = await discord.invokeUserCommand({ guildId, channelId, userId: staffUserId, name: 'Customer profile', targetUserId: profile[1] });
      return this.show(handle);
    }
    const click = /^(?:click\s+)?(\d+)$/.exec(line);
    const select = /^select\s+(\d+)\s+(\d+)$/.exec(line);
    if (click || select) {
      const message = this.last;
      if (!message) return this.print('Nothing to click yet: run a command first.');
      const controls = listControls(message);
      const control = controls.find((c) => c.number === Number((click ?? select)?.[1]));
      if (!control) return this.print(`No control ${(click ?? select)?.[1]} on the last reply.`);
      if (control.disabled) return this.print(`"${control.label}" is disabled.`);
      if (control.kind === 'button') {
        if (!click) return this.print(`${control.number} is a button: click ${control.number}`);
        return this.show(await discord.clickButton({ message, customId: control.customId, userId: staffUserId }));
      }
      const option = control.options[Number(select?.[2] ?? 0) - 1];
      if (!select || !option) return this.print(`Choose an option: select ${control.number} <1-${control.options.length}>`);
      return this.show(await discord.selectMenu({ message, customId: control.customId, values: [option.value], userId: staffUserId }));
    }
    this.print('Not understood. Type help for every command and its options.');
  }

  private async show(handle: InteractionHandle): Promise<void> {
    const result = await handle.settled(15_000);
    if ('title' in result && 'customId' in result && !('embeds' in result)) return this.fillModal(result);
    this.last = handle.original() ?? (result as LocalMessage);
    this.print(this.render(this.last));
    for (const followUp of handle.followUps()) this.print(this.render(followUp));
  }

  /** The message as Discord shows it, each of its files written to disk and its path printed. */
  private render(message: LocalMessage): string {
    const savedAs = new Map(message.attachments.map((attachment) => [attachment.filename, this.files.save(message.id, attachment)]));
    return renderMessage(message, savedAs);
  }

  private async fillModal(modal: LocalModal): Promise<void> {
    this.print(`Form: ${modal.title}`);
    const fields: Record<string, string> = {};
    for (const row of modal.components) {
      for (const input of 'components' in row ? row.components : []) {
        if (!('custom_id' in input) || !('label' in input)) continue;
        const preset = 'value' in input && typeof input.value === 'string' ? input.value : '';
        this.options.output.write(`  ${String(input.label)}${preset ? ` [${preset}]` : ''}: `);
        const answer = await this.nextLine();
        if (this.options.echo) this.options.output.write(`${answer ?? ''}\n`);
        fields[input.custom_id] = answer?.trim() || preset;
      }
    }
    const handle = await this.options.discord.submitModal({ customId: modal.customId, fields, userId: this.options.staffUserId, ...(this.last ? { message: this.last } : {}) });
    return this.show(handle);
  }
}
