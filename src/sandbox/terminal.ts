import { createInterface, type Interface } from 'node:readline/promises';
import { customerCommand } from '../commands/definitions.js';
import type { InteractionHandle, LocalDiscord, LocalMessage, LocalModal } from './local-discord/index.js';
import { listControls, renderMessage } from './render-message.js';

export interface TerminalOptions {
  discord: LocalDiscord;
  guildId: string;
  channelId: string;
  staffUserId: string;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Repeat typed lines (when input is piped, not typed, the transcript should still read well). */
  echo?: boolean;
  /** Answers `store …` lines (the store's side: purchase events); what it returns is printed. */
  store?: (words: string) => Promise<string>;
}

const HELP = `Type a slash command as you would in Discord, for example:
  /customer lookup query:alice
  /customer lookup query:alice@example.com
  /customer stats
  /customer note customer:id:1 text:Asked about a refund
  /customer ban type:email target:spam@example.com duration:7d reason:chargeback abuse
  /customer bans
  /customer unban ban:#1
  /customer roles customer:alice@example.com
  /customer role-rule list
  /customer digest
  /customer export format:csv filter:loyal
  /profile <discord user id>          (the "Customer profile" user menu)
Then act on the last reply:
  click <n>                           press button n
  select <n> <option>                 choose option number <option> in menu n
  help, exit`;

// Every option name of /customer: only these start a new option, so a colon inside a value
// ("reason:chargeback abuse: twice") stays part of the value.
type OptionNode = { name: string; type: number; options?: readonly OptionNode[] };
const topLevel = customerCommand.options as readonly OptionNode[];
const allOptions = (nodes: readonly OptionNode[]): OptionNode[] => nodes.flatMap((n) => (n.type === 1 || n.type === 2 ? allOptions(n.options ?? []) : [n]));
const OPTION_NAMES = new Set(allOptions(topLevel).map((o) => o.name));
const SUBCOMMAND_GROUPS = new Set(topLevel.filter((o) => o.type === 2).map((o) => o.name));

/** `key:value key2:value with spaces` → { key: 'value', key2: 'value with spaces' } */
export function parseOptions(text: string, names: ReadonlySet<string> = OPTION_NAMES): Record<string, string> {
  const options: Record<string, string> = {};
  const marks = [...text.matchAll(/(?:^|\s)([a-z_]+):/g)].filter((m) => names.has(m[1] ?? ''));
  marks.forEach((mark, i) => {
    const start = (mark.index ?? 0) + mark[0].length;
    const end = i + 1 < marks.length ? (marks[i + 1]?.index ?? text.length) : text.length;
    const name = mark[1];
    if (name) options[name] = text.slice(start, end).trim().replace(/^"(.*)"$/, '$1');
  });
  return options;
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

  constructor(private readonly options: TerminalOptions) {
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
    this.print(HELP);
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
    if (line === 'help') return this.print(HELP);
    const slash = /^\/customer\s+([a-z-]+)(?:\s+([a-z-]+)(?=\s|$))?\s*(.*)$/.exec(line);
    if (slash) {
      const [, first = '', second, rest = ''] = slash;
      // `/customer role-rule add …`: the first word is a group when the command defines it so.
      const group = second !== undefined && SUBCOMMAND_GROUPS.has(first) ? first : undefined;
      const subcommand = group ? (second ?? '') : first;
      const options = parseOptions(group || second === undefined ? rest : `${second} ${rest}`);
      const handle = await discord.invokeSlash({ guildId, channelId, userId: staffUserId, name: 'customer', subcommand, ...(group ? { subcommandGroup: group } : {}), options });
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
    this.print('Not understood. Type help for examples.');
  }

  private async show(handle: InteractionHandle): Promise<void> {
    const result = await handle.settled(15_000);
    if ('title' in result && 'customId' in result && !('embeds' in result)) return this.fillModal(result);
    this.last = handle.original() ?? (result as LocalMessage);
    this.print(renderMessage(this.last));
    for (const followUp of handle.followUps()) this.print(renderMessage(followUp));
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
