import * as discord from 'discord.js';
import { describe, expect, it } from 'vitest';
import { DiscordAPIError, HTTPError, REST } from '../../src/discord/rest.js';

describe('the REST classes the adapters check errors against', () => {
  it('are the ones discord.js throws, not a second build of @discordjs/rest', () => {
    expect(DiscordAPIError).toBe(discord.DiscordAPIError);
    expect(HTTPError).toBe(discord.HTTPError);
    expect(REST).toBe(discord.REST);
    const client = new discord.Client({ intents: [] });
    expect(client.rest).toBeInstanceOf(REST);
  });
});
