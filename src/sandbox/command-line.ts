import { ApplicationCommandOptionType } from 'discord.js';
import { customerCommand, CUSTOMER_PROFILE_MENU } from '../commands/definitions.js';

// What the sandbox prompt reads, taken from the command definitions the bot registers, so the
// prompt's help and checks never drift from what Discord would offer.

interface OptionNode {
  type: ApplicationCommandOptionType;
  name: string;
  description: string;
  required?: boolean;
  choices?: readonly { name: string; value: string | number }[];
  options?: readonly OptionNode[];
}

/** One subcommand as typed: `role-rule add` has a group, `lookup` has none. */
export interface SubcommandEntry {
  group?: string;
  name: string;
  description: string;
  options: readonly OptionNode[];
}

const COMMAND = customerCommand.name;
const topLevel = customerCommand.options as readonly OptionNode[];

export const SUBCOMMANDS: readonly SubcommandEntry[] = topLevel.flatMap((node): SubcommandEntry[] => {
  if (node.type === ApplicationCommandOptionType.SubcommandGroup) {
    return (node.options ?? []).map((sub) => ({ group: node.name, name: sub.name, description: sub.description, options: sub.options ?? [] }));
  }
  return [{ name: node.name, description: node.description, options: node.options ?? [] }];
});

const GROUPS = new Set(SUBCOMMANDS.flatMap((entry) => (entry.group ? [entry.group] : [])));
// Every option name of the command: these always start a new option, so `sort:name` given to
// the wrong subcommand is refused rather than read as part of the previous value.
const KNOWN_NAMES = new Set(SUBCOMMANDS.flatMap((entry) => entry.options.map((option) => option.name)));

export interface TypedOptions {
  options: Record<string, string>;
  /** Words before the first option, which no option takes. */
  stray: string;
  /** Options named more than once. */
  repeated: string[];
}

/**
 * `key:value key2:value with spaces` → { key: 'value', key2: 'value with spaces' }. A word of
 * the command's options followed by `:` starts an option; so does any other `word:` directly
 * followed by a value (`abuse: twice` and `https://…` stay inside a value), and a value in
 * double quotes is read whole.
 */
export function readOptions(text: string, names: ReadonlySet<string> = KNOWN_NAMES): TypedOptions {
  const marks: { name: string; at: number; start: number }[] = [];
  const pattern = /(?:^|\s)([a-z_]+):/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const name = match[1] ?? '';
    const start = match.index + match[0].length;
    if (!names.has(name) && !/^[^\s/]/.test(text.slice(start))) continue;
    marks.push({ name, at: match.index, start });
    const close = text[start] === '"' ? text.indexOf('"', start + 1) : -1;
    if (close > 0) pattern.lastIndex = close + 1;
  }
  const options: Record<string, string> = {};
  const repeated: string[] = [];
  marks.forEach((mark, i) => {
    const end = marks[i + 1]?.at ?? text.length;
    if (mark.name in options) repeated.push(mark.name);
    options[mark.name] = text.slice(mark.start, end).trim().replace(/^"(.*)"$/s, '$1');
  });
  return { options, stray: text.slice(0, marks[0]?.at ?? text.length).trim(), repeated };
}

export interface SlashCommand {
  subcommand: string;
  subcommandGroup?: string;
  options: Record<string, string>;
}

/** `lookup query:alice` or `role-rule add product_id:1 role:…` (the words after `/customer`), checked. */
export function readSlashCommand(text: string): SlashCommand {
  const [, first = '', afterFirst = ''] = /^([a-z-]*)\s*(.*)$/s.exec(text.trim()) ?? [];
  const [, second = '', afterSecond = ''] = GROUPS.has(first) ? (/^([a-z-]*)\s*(.*)$/s.exec(afterFirst) ?? []) : [];
  const group = GROUPS.has(first) ? first : undefined;
  const name = group ? second : first;
  const entry = SUBCOMMANDS.find((candidate) => candidate.group === group && candidate.name === name);
  if (!entry) {
    const choices = SUBCOMMANDS.filter((candidate) => group === undefined || candidate.group === group).map(label);
    const typed = `/${[COMMAND, group, name].filter(Boolean).join(' ')}`;
    throw new Error(`${name ? `${typed} is not a command` : `${typed} needs a subcommand`}. Commands: ${choices.join(', ')} (type help)`);
  }
  const typed = readOptions(group ? afterSecond : afterFirst);
  const usage = `${label(entry)} takes ${entry.options.length === 0 ? 'no options' : entry.options.map((option) => `${option.name}:`).join(' ')}`;
  if (typed.stray) throw new Error(`"${typed.stray}" is not an option. ${usage}`);
  const unknown = Object.keys(typed.options).filter((given) => !entry.options.some((option) => option.name === given));
  if (unknown.length > 0) throw new Error(`${unknown.map((u) => `${u}:`).join(', ')} ${unknown.length === 1 ? 'is not an option' : 'are not options'} here. ${usage}`);
  if (typed.repeated.length > 0) throw new Error(`${typed.repeated.map((r) => `${r}:`).join(', ')} given twice.`);
  const missing = entry.options.filter((option) => option.required === true && !(option.name in typed.options));
  if (missing.length > 0) throw new Error(`${label(entry)} needs ${missing.map((option) => `${option.name}:`).join(' ')}. ${usage}`);
  const options: Record<string, string> = {};
  for (const option of entry.options) {
    const value = typed.options[option.name];
    if (value !== undefined) options[option.name] = option.choices ? choiceValue(option, value) : value;
  }
  return { subcommand: entry.name, ...(group ? { subcommandGroup: group } : {}), options };
}

/** A choice as Discord shows it (its name, or the name without its bracketed note) or as it is sent (its value), in any case. */
function choiceValue(option: OptionNode, typed: string): string {
  const wanted = typed.trim().toLowerCase();
  const found = (option.choices ?? []).filter((choice) => choiceWords(choice).includes(wanted));
  const only = found.length === 1 ? found[0] : undefined;
  if (!only) throw new Error(`${option.name}:${typed} is not one of its choices: ${describeChoices(option)}`);
  return String(only.value);
}

function choiceWords(choice: { name: string; value: string | number }): string[] {
  const name = choice.name.toLowerCase();
  return [String(choice.value).toLowerCase(), name, name.replace(/\s*\([^)]*\)\s*$/, '')];
}

function describeChoices(option: OptionNode): string {
  return (option.choices ?? []).map((choice) => (String(choice.value).toLowerCase() === choice.name.toLowerCase() ? String(choice.value) : `${choice.value} (${choice.name})`)).join(', ');
}

function label(entry: SubcommandEntry): string {
  return [entry.group, entry.name].filter(Boolean).join(' ');
}

const PLACEHOLDER: Partial<Record<ApplicationCommandOptionType, string>> = {
  [ApplicationCommandOptionType.Integer]: 'number',
  [ApplicationCommandOptionType.Number]: 'number',
  [ApplicationCommandOptionType.Boolean]: 'true|false',
  [ApplicationCommandOptionType.User]: 'user id',
  [ApplicationCommandOptionType.Role]: 'role id',
  [ApplicationCommandOptionType.Channel]: 'channel id',
};

function optionUsage(option: OptionNode): string {
  const shown = `${option.name}:<${option.choices ? option.choices.map((choice) => choice.value).join('|') : (PLACEHOLDER[option.type] ?? 'text')}>`;
  return option.required === true ? shown : `[${shown}]`;
}

/** Every subcommand with its options and what each choice means, then the user menu and prompt words. */
export function commandHelp(): string {
  const lines = ['Type a slash command as you would in Discord ([…] is optional):'];
  for (const entry of SUBCOMMANDS) {
    lines.push(`  /${COMMAND} ${[label(entry), ...entry.options.map(optionUsage)].join(' ')}`, `      ${entry.description}`);
    for (const option of entry.options) {
      const named = (option.choices ?? []).some((choice) => String(choice.value).toLowerCase() !== choice.name.toLowerCase());
      if (named) lines.push(`      ${option.name}: ${describeChoices(option)}`);
    }
  }
  lines.push(`  /profile <discord user id>`, `      The "${CUSTOMER_PROFILE_MENU}" user menu`, 'Choices may be typed by value or by name (format:excel). Quote a value that holds "word:".', ...PROMPT_WORDS);
  return lines.join('\n');
}

const PROMPT_WORDS = [
  'Then act on the last reply:',
  '  click <n>                           press button n',
  '  select <n> <option>                 choose option number <option> in menu n',
  '  help, exit',
];

/** What the prompt prints when it starts: a few examples; `help` lists the rest. */
export function startHint(): string {
  return [
    'Type a slash command as you would in Discord, for example:',
    `  /${COMMAND} lookup query:alice@example.com`,
    `  /${COMMAND} ban type:email target:spam@example.com duration:7d reason:chargeback abuse`,
    `  /${COMMAND} digest`,
    `  /${COMMAND} export format:excel filter:loyal`,
    '  /profile <discord user id>          (the "Customer profile" user menu)',
    ...PROMPT_WORDS.slice(0, -1),
    '  help                                every command and its options',
    '  exit',
  ].join('\n');
}
