import { createRequire } from 'node:module';
import type * as DiscordRest from '@discordjs/rest';

/**
 * Discord's REST client and the errors it throws, from @discordjs/rest, the package discord.js
 * itself talks REST through (`client.rest` is one of its `REST`s).
 *
 * The package ships a CommonJS and a separate ES module build. discord.js is CommonJS and loads
 * the first; an `import` from here would load the second, whose DiscordAPIError is another class,
 * and `instanceof` would never match what `client.rest` throws. So the package is loaded the way
 * discord.js loads it: one copy on disk (npm dedupes it) and one instance in the process.
 */
const rest = createRequire(import.meta.url)('@discordjs/rest') as typeof DiscordRest;

export const { DiscordAPIError, HTTPError, REST } = rest;
